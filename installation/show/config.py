"""The whole `config.toml` as typed, frozen, validated structures: the root `Config` and
the sections that span stages (scenes, headless runs, the watchdog), the others imported
from beside their stages. Loading the file is `installation.show.loading`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    ValidationInfo,
    field_validator,
)

from installation.capture.config import SourceConfig
from installation.compositor.config import CompositorConfig
from installation.compositor.layers import LayerConfig
from installation.controls.midi import MidiConfig
from installation.controls.osc import OscConfig
from installation.controls.status import StatusConfig
from installation.display.config import (
    DisplayConfig,
    NdiConfig,
    RecordingConfig,
    SnapshotConfig,
)
from installation.effects.adaptive import AdaptiveConfig
from installation.effects.config import PAINTERS, EffectSettings, StyleConfig, memory_budget
from installation.gan.labels import LATENT_DIM
from installation.latent.config import AxisMapping, WalkConfig
from installation.logs import LoggingConfig
from installation.motion.config import MotionConfig
from installation.perception.config import PerceptionConfig
from installation.runtime import RuntimeConfig
from installation.section import Section
from installation.show.attract import AttractConfig
from installation.show.playlist import PlaylistConfig
from installation.show.presets import PresetsConfig


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

    @property
    def uses_visitors(self) -> bool:
        """A layer masked by the visitors or placed on them (it needs perception)."""
        return any(layer.mask != "none" or layer.placement in ("heads", "silhouettes")
                   for layer in [*self.layers, *(self.attract_layers or [])])


class Config(Section):
    source: SourceConfig = SourceConfig()
    display: DisplayConfig = DisplayConfig()
    headless: HeadlessConfig = HeadlessConfig()
    recording: RecordingConfig = RecordingConfig()
    ndi: NdiConfig = NdiConfig()
    snapshots: SnapshotConfig = SnapshotConfig()
    style: StyleConfig = StyleConfig()
    runtime: RuntimeConfig = RuntimeConfig()
    logging: LoggingConfig = LoggingConfig()
    motion: MotionConfig = MotionConfig()
    perception: PerceptionConfig = PerceptionConfig()
    walk: WalkConfig = WalkConfig()
    compositor: CompositorConfig = CompositorConfig()
    attract: AttractConfig = AttractConfig()
    adaptive: AdaptiveConfig = AdaptiveConfig()
    osc: OscConfig = OscConfig()
    status: StatusConfig = StatusConfig()
    playlist: PlaylistConfig = PlaylistConfig()
    presets: PresetsConfig = PresetsConfig()
    midi: MidiConfig = MidiConfig()
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
                    f"{' > '.join(scene.chain)} at this size needs about {gigabytes(need)} of "
                    f"memory; this machine allows {gigabytes(budget)} (half its memory): pick a "
                    "smaller size")
        if not self.perception.enabled:
            for si, scene in enumerate(self.scenes):
                if scene.uses_visitors:
                    return ("scenes", si, "layers"), scene.name, (
                        "a layer is masked by or placed on the visitors: set [perception] "
                        "enabled = true, or use placement \"motion\"")
        deadline_s = self.runtime.remote_deadline_ms / 1000.0
        if self.runtime.remote and deadline_s >= self.watchdog.stall_s / 2:
            # A late call is painted locally after its deadline: within the watchdog's
            # patience, or the effect is restarted before its fallback paints.
            return ("runtime", "remote_deadline_ms"), self.runtime.remote_deadline_ms, (
                f"must be under half of watchdog.stall_s ({self.watchdog.stall_s:g} s): "
                "a late call is painted locally after it")
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
        """Whether the show needs motion analysis, perception and a generator (a GAN layer,
        a layer on the visitors, or attract)."""
        return self.attract.enabled or any(s.has_gan or s.uses_visitors for s in self.scenes)

    def walk_for(self, scene: SceneConfig, labels: int) -> WalkConfig:
        """The walk settings of `scene` with a generator of `labels` classes."""
        update: dict[str, Any] = {"labels": labels}
        if scene.mapping is not None:
            update["mapping"] = scene.mapping
        return self.walk.model_copy(update=update)

def gigabytes(n: int) -> str:
    return f"{n / (1 << 30):.1f} GB"
