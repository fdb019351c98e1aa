"""`config.toml` loaded into typed, frozen, validated structures, one per section.

An unknown key, a wrong type or an out-of-range value stops start-up with one line that
names the key (and its line in the file), the value and what is allowed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from installation.capture.config import SourceConfig
from installation.compositor.config import CompositorConfig
from installation.compositor.layers import LayerConfig
from installation.controls.osc import OscConfig
from installation.controls.status import StatusConfig
from installation.display.config import DisplayConfig, RecordingConfig, SnapshotConfig
from installation.effects.adaptive import AdaptiveConfig
from installation.effects.config import PAINTERS, EffectSettings, StyleConfig, memory_budget
from installation.errors import ConfigError
from installation.gan.labels import LATENT_DIM
from installation.latent.config import AxisMapping, WalkConfig
from installation.logs import LoggingConfig
from installation.motion.config import MotionConfig
from installation.runtime import RuntimeConfig
from installation.section import MAX_TEXT, Section
from installation.show.attract import AttractConfig
from installation.show.playlist import PlaylistConfig


class HeadlessConfig(Section):
    """What happens when no display can be opened (or `--headless`)."""

    duration_s: float = Field(20.0, gt=0, le=31_622_400.0,
                              description="bounded run time with no display, s (a year at most)")
    record: bool = True
    folder: str = "recordings"
    max_mb: float = Field(
        2000.0, gt=0, le=100_000_000.0,
        description="the folder's cap: the oldest recordings go first, MB")


class WatchdogConfig(Section):
    """`[watchdog]`: a stage that stops answering is restarted, then bypassed."""

    stall_s: float = Field(
        5.0, ge=0.1, le=600.0, description="one effect call longer than this is a stall, s")
    restarts_before_bypass: int = Field(
        3, ge=1, le=100,
        description="stalls in one scene before its effect is bypassed (frames pass through)")
    dead_picture_s: float = Field(
        10.0, ge=1.0, le=3600.0,
        description="a shown picture black, or frozen while the camera changes, this long "
        "makes /health degraded, s")


Generator = Literal["none", "eyes", "faces"]
MAX_SCENES = 64  # scenes in one file: every one is built (and its networks held) at start


class SceneConfig(EffectSettings):
    """One scene: its effect (`EffectSettings`), generated imagery and layers."""

    # -- generated imagery (declared before `layers`, which are checked against it)
    generator: Generator = "none"
    paint_gan: bool = Field(
        False, description="the scene's style also paints the generated picture"
    )
    mapping: list[AxisMapping] | None = Field(
        None, max_length=64, description="motion → walk axes for this scene; None: [walk]'s"
    )
    layers: list[LayerConfig] = Field(
        default_factory=lambda: [LayerConfig()], min_length=1, max_length=8
    )
    attract_layers: list[LayerConfig] | None = Field(
        None, min_length=1, max_length=8,
        description="this scene's attract composition (camera: the effect's picture, e.g. "
        "the zooming dream); None: [attract]'s layers",
    )

    @field_validator("paint_gan")
    @classmethod
    def _paintable(cls, v: bool, info: ValidationInfo) -> bool:
        effect = info.data.get("effect", "style")
        chain = [effect] if isinstance(effect, str) else effect
        if v and not any(step in PAINTERS for step in chain):
            raise ValueError("needs a painting effect ('style' or 'arbitrary' in effect)")
        return v

    @field_validator("layers")
    @classmethod
    def _gan_layers(cls, v: list[LayerConfig], info: ValidationInfo) -> list[LayerConfig]:
        if info.data.get("generator", "none") == "none":
            for i, layer in enumerate(v):
                if layer.source == "gan":
                    raise ValueError(
                        f"layer {i} shows the GAN but the scene has generator = 'none'; "
                        "set generator = 'eyes' or 'faces'"
                    )
        return v

    @property
    def has_gan(self) -> bool:
        return any(layer.source == "gan" for layer in self.layers)


class Config(Section):
    source: SourceConfig = SourceConfig()
    display: DisplayConfig = DisplayConfig()
    headless: HeadlessConfig = HeadlessConfig()
    recording: RecordingConfig = RecordingConfig()
    snapshots: SnapshotConfig = SnapshotConfig()
    style: StyleConfig = StyleConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    logging: LoggingConfig = LoggingConfig()
    motion: MotionConfig = MotionConfig()
    walk: WalkConfig = WalkConfig()
    compositor: CompositorConfig = CompositorConfig()
    attract: AttractConfig = AttractConfig()
    adaptive: AdaptiveConfig = AdaptiveConfig()
    osc: OscConfig = OscConfig()
    status: StatusConfig = StatusConfig()
    playlist: PlaylistConfig = PlaylistConfig()
    watchdog: WatchdogConfig = WatchdogConfig()
    scenes: list[SceneConfig] = Field(
        default_factory=lambda: [SceneConfig(name="paint")], min_length=1, max_length=MAX_SCENES
    )
    start_scene: str = ""  # declared after `scenes` so its validator can see them

    @field_validator("scenes")
    @classmethod
    def _unique(cls, v: list[SceneConfig]) -> list[SceneConfig]:
        names = [s.name for s in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"scene names must be unique; repeated: {', '.join(dup)}")
        return v

    def cross_check(self) -> tuple[tuple[Any, ...], Any, str] | None:
        """The first problem between sections (location, value, what is wrong), or None.

        Checks a field validator cannot make with the key named: they span sections.
        """
        if self.interactive and self.walk.dim != LATENT_DIM:
            return ("walk", "dim"), self.walk.dim, (
                f"the generators take {LATENT_DIM} numbers: set {LATENT_DIM} or remove it")
        if self.walk.labels:
            return ("walk", "labels"), self.walk.labels, (
                "labels come from the generator (eyes: 8 classes, faces: none); remove it")
        names = [s.name for s in self.scenes]
        for i, entry in enumerate(self.playlist.entries):
            if entry.scene not in names:
                return ("playlist", "entries", i, "scene"), entry.scene, (
                    f"no such scene; scenes: {', '.join(names)}")
        target = self.playlist.attract_scene
        if target and target not in names:
            return ("playlist", "attract_scene"), target, (
                f"no such scene; scenes: {', '.join(names)}")
        budget = memory_budget()
        for si, scene in enumerate(self.scenes):
            need = scene.memory_bytes(painters=int(scene.paint_gan))
            if need > budget:
                return ("scenes", si, "size"), list(scene.size), (
                    f"{' > '.join(scene.chain)} at this size needs about {_gb(need)} of "
                    f"memory; this machine allows {_gb(budget)} (half its memory): pick a "
                    "smaller size")
        axes = self.walk.axes
        for si, scene in enumerate(self.scenes):
            for i, m in enumerate(scene.mapping or []):
                if m.axis >= axes:
                    return ("scenes", si, "mapping", i, "axis"), m.axis, (
                        f"allowed 0..{axes - 1} (walk.axes = {axes})")
        return None

    def memory_bytes(self) -> int:
        """About the most memory the show's networks need at once, bytes (one scene runs at
        a time: its effect, and its GAN painter beside it)."""
        return max(s.memory_bytes(painters=int(s.paint_gan)) for s in self.scenes)

    @field_validator("start_scene")
    @classmethod
    def _known(cls, v: str, info: ValidationInfo) -> str:
        names = [s.name for s in info.data.get("scenes", [])]
        if v and names and v not in names:
            raise ValueError(f"no such scene; scenes: {', '.join(names)}")
        return v

    def scene(self, name: str) -> SceneConfig:
        for s in self.scenes:
            if s.name == name:
                return s
        raise KeyError(name)

    @property
    def first_scene(self) -> str:
        return self.start_scene or self.scenes[0].name

    @property
    def interactive(self) -> bool:
        """Whether the show needs motion analysis and a generator (a GAN layer or attract)."""
        return self.attract.enabled or any(s.has_gan for s in self.scenes)

    def walk_for(self, scene: SceneConfig, labels: int) -> WalkConfig:
        """The walk settings of `scene` with a generator of `labels` classes."""
        update: dict[str, Any] = {"labels": labels}
        if scene.mapping is not None:
            update["mapping"] = scene.mapping
        return self.walk.model_copy(update=update)


# -- loading ---------------------------------------------------------------------------------


class EmptyConfigError(ConfigError):
    """The file is empty or only whitespace (an editor on a full disk saves zero bytes)."""


MAX_BYTES = 1 << 20  # a config file is at most 1 MiB (the shipped one is ~10 kB)
MAX_DEPTH = 8  # tables and arrays nest at most this deep (the shipped file: 4)
# The longest line, characters: a string holds at most MAX_TEXT, so no longer line can be a
# setting, and a key of thousands of dotted parts makes the TOML parser take time and
# memory that grow with the square of its length (100,000 parts: gigabytes).
MAX_LINE = 2 * MAX_TEXT


MAX_MESSAGE = 400  # characters of an error line


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read and validate `path` (defaults only when None), then apply dotted-key overrides.

    `overrides` maps keys such as ``"source.uri"`` to values (from command-line flags).
    Whatever the file holds (any bytes, any nesting, any value), the outcome is a `Config`
    the show can run or a `ConfigError` of one short line that names the file: never
    another exception.
    """
    try:
        return _load(path, overrides)
    except ConfigError as exc:
        raise type(exc)(one_line(str(exc))) from None


def one_line(text: str) -> str:
    """`text` with control characters escaped (a key may hold a newline) and cut to
    `MAX_MESSAGE` characters: one line of a log or a terminal, whatever the file held."""
    clean = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return clean if len(clean) <= MAX_MESSAGE else clean[:MAX_MESSAGE - 3] + "..."


def _load(path: Path | None, overrides: Mapping[str, Any] | None) -> Config:
    text = ""
    raw: dict[str, Any] = {}
    if path is not None:
        text = read_text(path)
        raw = parse_toml(path, text)
    for dotted, value in (overrides or {}).items():
        node = raw
        *parents, leaf = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"{path}: '{p}' must be a [{p}] section, not a value")
        node[leaf] = value
    try:
        # Strict, through JSON: "yes" is no boolean and "640" no integer, but TOML arrays
        # still fill tuples and integers still fill floats.
        cfg = Config.model_validate_json(json.dumps(raw, default=str), strict=True)
    except ValidationError as exc:
        raise ConfigError(describe_error(exc, path, text, overrides or {})) from None
    except (RecursionError, ValueError, OverflowError) as exc:  # no file gets here: belt
        raise ConfigError(f"{path or 'config'}: cannot be checked: {exc}") from None
    problem = cfg.cross_check()
    if problem is not None:
        loc, value, msg = problem
        where = _where(loc, path, text, overrides or {})
        raise ConfigError(f"{where}: key '{_dotted(loc)}' = {_shown(value)} is not accepted: "
                          f"{msg}")
    return cfg


def read_text(path: Path) -> str:
    """The file's text: UTF-8 (a byte-order mark is allowed and dropped), at most
    `MAX_BYTES`, not empty. ConfigError in one line naming the file otherwise."""
    try:
        if path.exists() and not path.is_dir() and not path.is_file():
            # A pipe would block the reader for good; a device may never end.
            raise ConfigError(f"config file {path} is not a plain file (a pipe or a "
                              "device): give a config.toml")
        with path.open("rb") as f:
            data = f.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} not found: pass --config PATH or copy config.toml"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory, not a file") from None
    except OSError as exc:
        raise ConfigError(
            f"config file {path} cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_BYTES // 1024} kB: "
                          "not a config file (the shipped one is about 10 kB)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"config file {path} is UTF-16 text: save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")  # a BOM (some Windows editors write one) is fine
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(
            f"config file {path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}): "
            "save it as UTF-8") from None
    longest = max(text.splitlines(), key=len, default="")
    if len(longest) > MAX_LINE:
        line = text.splitlines().index(longest) + 1
        raise ConfigError(f"config file {path}:{line}: a line of {len(longest)} characters; "
                          f"a config line has at most {MAX_LINE}")
    if not text.strip():
        raise EmptyConfigError(f"config file {path} is empty: restore it (or copy the shipped "
                          "config.toml); an empty file is never taken for the defaults")
    return text


def parse_toml(path: Path, text: str) -> dict[str, Any]:
    """`text` parsed as TOML, nested at most `MAX_DEPTH` deep; ConfigError in one line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not a config: tables or arrays nested too deeply "
                          f"(at most {MAX_DEPTH})") from None
    except Exception as exc:  # any parser failure is one line, not a trace
        raise ConfigError(f"{path}: cannot be read as TOML: {type(exc).__name__}") from None
    deepest = _depth(raw, MAX_DEPTH + 1)
    if deepest > MAX_DEPTH:
        raise ConfigError(f"{path}: not a config: tables or arrays nested more than "
                          f"{MAX_DEPTH} deep")
    return raw


def _depth(value: object, limit: int) -> int:
    """How deep tables and arrays nest in `value` (a scalar: 0), looking no deeper than
    `limit` (iterative: no recursion limit to meet)."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth + 1)
            if depth + 1 < limit:
                stack.extend((v, depth + 1) for v in
                             (node.values() if isinstance(node, dict) else node))
    return deepest


def describe_error(
    exc: ValidationError, path: Path | None, text: str, overrides: Mapping[str, Any]
) -> str:
    """One line for the first validation error: where, which key, which value, what is allowed."""
    errors = exc.errors()
    err = errors[0]
    if len(errors) > 1 and _dotted(err["loc"]) != _dotted(tuple(map(str, err["loc"]))):
        # A union (a style: an index or a table): the branch that got furthest says most.
        same = [e for e in errors if _dotted(e["loc"]).startswith(_dotted(err["loc"]))]
        err = max(same, key=lambda e: len(e["loc"]))
    loc = err["loc"]
    key = _dotted(loc)
    where = _where(loc, path, text, overrides)
    if err["type"] == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return f"{where}: unknown key '{key}'; allowed keys here: {', '.join(allowed)}"
    if err["type"] == "missing":
        return f"{where}: key '{key}' is required"
    msg = err["msg"].removeprefix("Value error, ")
    value = err.get("input")
    if err["type"] == "literal_error":
        msg = f"allowed: {err['ctx']['expected']}"
    shown = _shown(value)
    return f"{where}: key '{key}' = {shown} is not accepted: {msg}"


def _where(
    loc: tuple[Any, ...], path: Path | None, text: str, overrides: Mapping[str, Any]
) -> str:
    """Where a key came from: its command-line flag, or the file and line."""
    flag = _flag_for(_dotted(loc), overrides)
    if flag:
        return flag
    where = str(path) if path else "config"
    line = _find_line(text, loc)
    return f"{where}:{line}" if line else where


def _shown(value: object) -> str:
    """A value as the error line shows it: its repr, a long one shortened."""
    text = repr(value)
    if len(text) < 60:
        return text
    return "..." if isinstance(value, dict | list) else text[:40] + "..."


def _gb(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "int" or str(part).startswith(("function-", "dict[")):
            continue  # pydantic's union-branch labels, not keys
        else:
            out += f".{part}" if out else str(part)
    return out


def _flag_for(key: str, overrides: Mapping[str, Any]) -> str:
    for dotted in overrides:
        if key == dotted or key.startswith(dotted + "."):
            return {"source.uri": "--source", "start_scene": "--scene"}.get(dotted, dotted)
    return ""


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int) or str(part) not in model.model_fields:
            continue
        inner = _model_in(model.model_fields[str(part)].annotation)
        if inner is not None:
            model = inner
    return sorted(model.model_fields)


def _model_in(ann: Any) -> type[BaseModel] | None:
    """The section type inside an annotation: `X`, `list[X]`, `list[X] | None`."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann
    for arg in getattr(ann, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _find_line(text: str, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the key at `loc` in the TOML text, or 0 when not found.

    Handles `[section]` tables and `[[scenes]]` arrays of tables, which is all our file uses.
    """
    if not text:
        return 0
    lines = text.splitlines()
    names = [p for p in loc if isinstance(p, str)]
    index = next((p for p in loc if isinstance(p, int)), None)
    if not names:
        return 0
    if len(names) == 1:
        header, key = None, names[0]
    else:
        header, key = names[0], names[1]
    start, end = 0, len(lines)
    if header is not None:
        heads = [
            i for i, ln in enumerate(lines)
            if re.match(rf"\s*\[\[?\s*{re.escape(header)}\s*\]\]?\s*(#.*)?$", ln)
        ]
        if not heads:
            return 0
        pick = heads[index] if index is not None and index < len(heads) else heads[0]
        if header == "scenes" and index is not None and index >= len(heads):
            return 0
        start = pick + 1
        nxt = [i for i, ln in enumerate(lines) if i >= start and re.match(r"\s*\[", ln)]
        end = nxt[0] if nxt else len(lines)
    else:
        nxt = [i for i, ln in enumerate(lines) if re.match(r"\s*\[", ln)]
        end = nxt[0] if nxt else len(lines)
    for i in range(start, end):
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start if header is not None else 0
