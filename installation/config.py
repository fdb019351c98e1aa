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

from installation.adaptive import AdaptiveConfig
from installation.compositor.layers import LayerConfig
from installation.controls.osc import OscConfig
from installation.dream.config import NETWORK_NAME, DreamConfig
from installation.errors import ConfigError
from installation.latent.config import AxisMapping, WalkConfig
from installation.motion.config import MotionConfig
from installation.playlist import PlaylistConfig
from installation.section import Section
from installation.status import StatusConfig
from installation.temporal.config import TemporalConfig

NUM_STYLES = 26  # the multi-style network's style count (indices 0..25)
DEMO_CLIPS = ("carphone", "bikes", "bigbuckbunny")


class SourceConfig(Section):
    """Where pictures come from: `webcam:N`, `/dev/videoN`, a video file, an image, `demo`."""

    uri: str = "webcam:0"
    width: int = Field(1280, ge=16, le=7680, description="requested camera width, px")
    height: int = Field(720, ge=16, le=4320, description="requested camera height, px")
    fps: float = Field(30.0, gt=0, le=240, description="requested camera rate, frames/s")
    on_missing: Literal["demo", "exit"] = "demo"
    demo_clip: Literal["carphone", "bikes", "bigbuckbunny"] = "bikes"
    stall_timeout_s: float = Field(3.0, gt=0, le=600)
    reconnect_min_s: float = Field(0.5, gt=0, le=60)
    reconnect_max_s: float = Field(10.0, gt=0, le=600)

    @field_validator("reconnect_max_s")
    @classmethod
    def _backoff_order(cls, v: float, info: ValidationInfo) -> float:
        if v < info.data.get("reconnect_min_s", 0.0):
            raise ValueError("must be at least reconnect_min_s")
        return v


class DisplayConfig(Section):
    fullscreen: bool = False
    display: int = Field(0, ge=0, le=16, description="which monitor, 0 = first")
    width: int = Field(1280, ge=64, le=7680, description="window size, px")
    height: int = Field(720, ge=64, le=4320, description="window size, px")
    vsync: bool = True
    mirror: bool = True
    fit: Literal["fit", "fill"] = "fill"
    hud: bool = False
    idle_fps: float = Field(
        30.0, gt=0, le=500, description="redraw rate while no new picture arrives, frames/s"
    )


class HeadlessConfig(Section):
    """What happens when no display can be opened (or `--headless`)."""

    duration_s: float = Field(20.0, gt=0, description="bounded run time with no display, s")
    record: bool = True
    folder: str = "recordings"
    max_mb: float = Field(
        2000.0, gt=0, description="the folder's cap: the oldest recordings go first, MB")


class RecordingConfig(Section):
    fps: float = Field(30.0, gt=0, le=120, description="frame rate of the written file")
    crf: int = Field(23, ge=0, le=51, description="H.264 quality, lower is better")
    width: int = Field(1280, ge=16, le=7680)
    height: int = Field(720, ge=16, le=4320)


class SnapshotConfig(Section):
    enabled: bool = False
    folder: str = "snapshots"
    max_mb: float = Field(500.0, gt=0, description="the folder's cap: oldest go first, MB")


class StyleConfig(Section):
    crossfade_s: float = Field(1.5, ge=0, le=60, description="style crossfade time, s")
    paintings_dirs: list[str] = Field(default_factory=lambda: ["styles", "models/paintings"])


class RuntimeConfig(Section):
    device: Literal["auto", "cpu", "cuda"] = "auto"
    tensorrt: bool = False
    threads: int = Field(0, ge=0, le=256, description="ONNX Runtime threads, 0 = all cores")


class LoggingConfig(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    file: str = ""


class WatchdogConfig(Section):
    """`[watchdog]`: a stage that stops answering is restarted, then bypassed."""

    stall_s: float = Field(
        5.0, ge=0.1, le=600.0, description="one effect call longer than this is a stall, s")
    restarts_before_bypass: int = Field(
        3, ge=1, le=100,
        description="stalls in one scene before its effect is bypassed (frames pass through)")


class CompositorConfig(Section):
    scene_fade_s: float = Field(
        1.0, ge=0.0, le=30.0, description="crossfade from one scene to the next, s"
    )
    gan_interpolation: Literal["cubic", "lanczos"] = Field(
        "cubic", description="how the generated picture is enlarged to the scene's size"
    )


class AttractConfig(Section):
    """The idle composition shown after a while with nobody there."""

    enabled: bool = True
    after_s: float = Field(60.0, ge=1.0, le=86_400.0, description="nobody there this long, s")
    absent_below: float = Field(
        0.2, ge=0.0, le=1.0, description="presence (0..1) below this counts as nobody there"
    )
    arrive_above: float = Field(
        0.4, gt=0.0, le=1.0, description="presence (0..1) above this ends attract at once"
    )
    fade_in_s: float = Field(3.0, ge=0.0, le=60.0, description="dissolve into attract, s")
    fade_out_s: float = Field(
        0.4, ge=0.0, le=1.0, description="dissolve back to interaction, s (at most 1 s)"
    )
    generator: Literal["eyes", "faces"] = Field(
        "eyes", description="generator for scenes that have none"
    )
    layers: list[LayerConfig] = Field(
        default_factory=lambda: [LayerConfig(source="gan")], min_length=1
    )

    @field_validator("arrive_above")
    @classmethod
    def _hysteresis(cls, v: float, info: ValidationInfo) -> float:
        if v < info.data.get("absent_below", 0.0):
            raise ValueError("must be at least absent_below (arrival needs more than absence)")
        return v


StyleEntry = int | dict[str, float]
Generator = Literal["none", "eyes", "faces"]
EFFECTS = ("style", "arbitrary", "none", "dream")  # and "fast-dream:NAME"
PAINTERS = ("style", "arbitrary")  # the effects that repaint with a painting's style


class SceneConfig(Section):
    name: str = Field(min_length=1)
    effect: str | list[str] = Field(
        "style", description="style | arbitrary | none | dream | fast-dream:NAME, or a list "
        "of them applied in order, e.g. ['style', 'fast-dream:ripples']",
    )
    size: tuple[int, int] = Field((320, 180), description="processing resolution [W, H], px")
    styles: list[StyleEntry] = Field(default_factory=lambda: [0], min_length=1)  # type: ignore[arg-type]
    paintings: list[str] = Field(default_factory=list)
    strength: float = Field(1.0, ge=0.0, le=1.0)
    preserve_color: bool = False
    dream: DreamConfig = Field(default_factory=DreamConfig,
                               description="the live dream's settings (effect 'dream')")
    temporal: TemporalConfig = Field(
        default_factory=TemporalConfig,
        description="flow-guided temporal stabilisation of the effect's output (no flicker)",
    )
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

    @field_validator("size")
    @classmethod
    def _size(cls, v: tuple[int, int]) -> tuple[int, int]:
        w, h = v
        if not (32 <= w <= 3840 and 32 <= h <= 2160):
            raise ValueError("each side must be 32..3840 (W) and 32..2160 (H) px")
        return v

    @field_validator("effect")
    @classmethod
    def _effect(cls, v: str | list[str]) -> str | list[str]:
        chain = [v] if isinstance(v, str) else v
        allowed = ("allowed: 'style', 'arbitrary', 'none', 'dream', 'fast-dream:NAME' "
                   "(NAME: a-z, 0-9, '-', '_'), or a list of them")
        if not chain:
            raise ValueError(allowed)
        for step in chain:
            kind, _, name = step.partition(":")
            if step not in EFFECTS and not (kind == "fast-dream" and NETWORK_NAME.match(name)):
                raise ValueError(f"{step!r} is not an effect; {allowed}")
        if len(set(chain)) < len(chain):
            raise ValueError("an effect appears twice in the chain")
        if "none" in chain and len(chain) > 1:
            raise ValueError("'none' stands alone: leave it out of a chain")
        if sum(step in PAINTERS for step in chain) > 1:
            raise ValueError("one painting effect per scene: 'style' or 'arbitrary'")
        return v

    @field_validator("styles")
    @classmethod
    def _styles(cls, v: list[StyleEntry]) -> list[StyleEntry]:
        for entry in v:
            style_weights(entry)  # raises ValueError with what is allowed
        return v

    @field_validator("temporal")
    @classmethod
    def _steadied(cls, v: TemporalConfig, info: ValidationInfo) -> TemporalConfig:
        if v.enabled and info.data.get("effect") == "none":
            raise ValueError("the camera picture is not repainted (effect = 'none'): "
                             "leave temporal off, or pick an effect")
        return v

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
    def chain(self) -> tuple[str, ...]:
        """The effects in the order they are applied."""
        return (self.effect,) if isinstance(self.effect, str) else tuple(self.effect)

    @property
    def painter(self) -> str | None:
        """The chain's painting effect ('style' or 'arbitrary'), if it has one."""
        return next((step for step in self.chain if step in PAINTERS), None)

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
        default_factory=lambda: [SceneConfig(name="paint")], min_length=1
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
        axes = self.walk.axes
        for si, scene in enumerate(self.scenes):
            for i, m in enumerate(scene.mapping or []):
                if m.axis >= axes:
                    return ("scenes", si, "mapping", i, "axis"), m.axis, (
                        f"allowed 0..{axes - 1} (walk.axes = {axes})")
        return None

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


def style_weights(entry: StyleEntry) -> list[float]:
    """A style entry (an index, or a table of index → weight) as 26 weights summing to 1."""
    w = [0.0] * NUM_STYLES
    if isinstance(entry, bool):
        raise ValueError("a style is an index 0..25 or a table like {3 = 0.5, 12 = 0.5}")
    if isinstance(entry, int):
        if not 0 <= entry < NUM_STYLES:
            raise ValueError(f"style index {entry} is out of range; allowed 0..{NUM_STYLES - 1}")
        w[entry] = 1.0
        return w
    for key, weight in entry.items():
        if not key.isdigit() or not 0 <= int(key) < NUM_STYLES:
            raise ValueError(f"style index {key!r} is out of range; allowed 0..{NUM_STYLES - 1}")
        if weight < 0:
            raise ValueError(f"style weight {weight} for {key} is negative; weights are >= 0")
        w[int(key)] += float(weight)
    total = sum(w)
    if total <= 0:
        raise ValueError("style weights are all zero; give at least one positive weight")
    return [x / total for x in w]


# -- loading ---------------------------------------------------------------------------------


def load_config(path: Path | None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Read and validate `path` (defaults only when None), then apply dotted-key overrides.

    `overrides` maps keys such as ``"source.uri"`` to values (from command-line flags).
    """
    text = ""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"config file {path} not found: pass --config PATH or copy config.toml"
            ) from None
        except OSError as exc:
            raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
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
    problem = cfg.cross_check()
    if problem is not None:
        loc, value, msg = problem
        where = _where(loc, path, text, overrides or {})
        raise ConfigError(f"{where}: key '{_dotted(loc)}' = {value!r} is not accepted: {msg}")
    return cfg


def describe_error(
    exc: ValidationError, path: Path | None, text: str, overrides: Mapping[str, Any]
) -> str:
    """One line for the first validation error: where, which key, which value, what is allowed."""
    err = exc.errors()[0]
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
    shown = repr(value) if not isinstance(value, dict | list) or len(repr(value)) < 60 else "..."
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


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("int", "dict[str,float]") or str(part).startswith("function-"):
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
