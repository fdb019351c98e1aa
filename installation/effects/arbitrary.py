"""Arbitrary style: any painting, through a style predictor and a fixed-size transform network.

The predictor turns a painting into 100 numbers once (cached in memory by path, size and
mtime, and on disk by the file's sha256); the transform network repaints a 384x384 picture
with such a vector. Strength mixes the painting's vector with the camera picture's own
vector (per shared/MODELS.md: gentler than a pixel fade); crossfades mix painting vectors.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import cv2
import numpy as np

from installation.effects.config import EffectSettings
from installation.effects.style import Crossfade, keep_colour, to_uint8
from installation.errors import UserError
from installation.pictures import fit_longer_side, read_picture, resize_to, square_crop
from installation.runtime import Network

log = logging.getLogger(__name__)

PICTURE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
STYLE_SIDE = 256  # px, the predictor's square input
CONTENT_INTERVAL_S = 1.0  # the camera's own style vector is refreshed at most this often
_CACHE_VERSION = "v1"  # bump when the painting pre-processing changes


def find_paintings(dirs: list[str], names: list[str], root: Path | None = None) -> list[Path]:
    """The paintings to use: `names` in that order, or every picture found when empty.

    Relative folders are taken from `root` (else the current folder); missing folders are
    skipped. Where two folders hold the same file name, the earlier folder wins. A name may
    be given with or without its extension.
    """
    folders = [Path(d) if root is None or Path(d).is_absolute() else root / d for d in dirs]
    found: dict[str, Path] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for p in sorted(folder.iterdir(), key=lambda q: q.name.lower()):
            if p.is_file() and p.suffix.lower() in PICTURE_EXTENSIONS:
                found.setdefault(p.name, p)
    searched = ", ".join(str(f) for f in folders) or "(no folders configured)"
    if not names:
        if not found:
            first = folders[0] if folders else Path("styles")
            raise UserError(
                f"no paintings found in {searched}: add pictures "
                f"({', '.join(e[1:] for e in PICTURE_EXTENSIONS)}) to {first}/"
            )
        return sorted(found.values(), key=lambda p: p.name.lower())
    out = []
    for name in names:
        match = found.get(name) or next((p for p in found.values() if p.stem == name), None)
        if match is None:
            raise UserError(f"painting {name!r} not found in {searched}")
        out.append(match)
    return out


class StylePredictor:
    """Painting → style vector [1, 1, 1, 100], cached in memory and optionally on disk."""

    def __init__(self, network: Network, cache_dir: Path | None = None) -> None:
        self.network = network
        self.input = network.inputs[0].name
        self.cache_dir = cache_dir
        self._memory: dict[tuple[str, int, int], np.ndarray] = {}

    def of_image(self, image: np.ndarray) -> np.ndarray:
        """The style vector of an HxWx3 uint8 RGB picture (centre crop, 256x256, [0, 1])."""
        square = resize_to(square_crop(image), (STYLE_SIDE, STYLE_SIDE))
        x = (square.astype(np.float32) / np.float32(255.0))[None]
        return np.array(self.network.run({self.input: x})[0], np.float32)

    def of_file(self, path: Path) -> np.ndarray:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        cached = self._memory.get(key)
        if cached is not None:
            return cached
        data = path.read_bytes()
        disk = None
        if self.cache_dir is not None:
            digest = hashlib.sha256(data).hexdigest()
            disk = self.cache_dir / f"{digest}-{_CACHE_VERSION}.npy"
            vec = self._load(disk)
            if vec is not None:
                self._memory[key] = vec
                return vec
        vec = self.of_image(read_picture(path))
        if disk is not None:
            self._save(disk, vec)
        self._memory[key] = vec
        return vec

    @staticmethod
    def _load(path: Path) -> np.ndarray | None:
        try:
            vec = np.load(path)
        except (OSError, ValueError):
            return None
        return vec.astype(np.float32) if vec.shape == (1, 1, 1, 100) else None

    @staticmethod
    def _save(path: Path, vec: np.ndarray) -> None:
        try:  # the cache only saves time: a read-only folder must not stop the show
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial.npy")
            np.save(partial, vec)
            partial.replace(path)
        except OSError as exc:
            log.warning("style cache %s not written: %s", path, exc)


class StyleTransform:
    """The fixed-size transform network: content picture + style vector → repainted picture."""

    def __init__(self, network: Network) -> None:
        self.network = network
        content = next(i for i in network.inputs if i.shape[-1] == 3)
        self.content_input = content.name
        self.vector_input = next(i.name for i in network.inputs if i.name != content.name)
        side = content.shape[1]
        self.side = side if isinstance(side, int) else 384  # px
        self._buf = np.empty((1, self.side, self.side, 3), np.float32)

    def fit(self, image: np.ndarray) -> np.ndarray:
        """`image` scaled so its longer side is the network's side (px)."""
        return resize_to(image, fit_longer_side((image.shape[1], image.shape[0]), self.side))

    def run(self, fitted: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """A fitted HxWx3 uint8 picture → its repainting, HxWx3 float32 in ~[0, 1].

        The picture is reflect-padded to the centre of the square input and cropped after.
        """
        h, w = fitted.shape[:2]
        top, left = (self.side - h) // 2, (self.side - w) // 2
        padded = cv2.copyMakeBorder(
            fitted, top, self.side - h - top, left, self.side - w - left, cv2.BORDER_REFLECT_101
        )
        np.divide(padded, np.float32(255.0), out=self._buf[0])
        feeds = {self.content_input: self._buf, self.vector_input: vector.astype(np.float32)}
        out = self.network.run(feeds)[0]
        return out[0, top : top + h, left : left + w]


class ArbitraryStyleEffect:
    """Camera frames repainted in the style of any painting, crossfading between paintings."""

    name = "arbitrary"

    def __init__(
        self,
        predict_network: Network,
        transform_network: Network,
        scene: EffectSettings,
        paintings: list[Path],
        crossfade_s: float,
        cache_dir: Path | None = None,
    ) -> None:
        if not paintings:
            raise UserError(f"scene {scene.name!r}: no paintings to use")
        self.predictor = StylePredictor(predict_network, cache_dir)
        self.transform = StyleTransform(transform_network)
        self.size = scene.size  # (W, H), px
        self.strength = scene.strength
        self.preserve_color = scene.preserve_color
        self.crossfade_s = crossfade_s
        self.paintings = list(paintings)
        # Every painting's vector now, at start-up: a bad file stops here, not mid-show.
        self._vectors = [self.predictor.of_file(p) for p in self.paintings]
        self._index = 0
        self.fade = Crossfade(self._vectors[0])
        self._from_name = self._to_name = self.paintings[0].stem
        self._content: np.ndarray | None = None  # the camera's own style vector
        self._content_t = float("-inf")  # when it was computed, s
        self._now = 0.0  # the latest show time seen, s

    def __call__(self, image: np.ndarray, t: float) -> np.ndarray:
        self._now = max(self._now, t)
        fitted = self.transform.fit(image)
        vector = self.fade.value(t)
        if self.strength < 1.0:
            if self._content is None or abs(t - self._content_t) >= CONTENT_INTERVAL_S:
                self._content = self.predictor.of_image(fitted)
                self._content_t = t
            s = np.float32(self.strength)
            vector = s * vector + (np.float32(1.0) - s) * self._content
        out = self.transform.run(fitted, vector)
        if self.preserve_color:
            camera = fitted.astype(np.float32) / np.float32(255.0)
            out = keep_colour(np.ascontiguousarray(out), camera)
        return resize_to(to_uint8(out, "arbitrary style output"), self.size)

    # The transform network works at its fixed size: a smaller output saves nothing.
    scalable = False

    def resize(self, size: tuple[int, int]) -> None:
        self.size = size

    def warm_up(self) -> None:
        """One transform on a black frame, so the first live frame is not the slow one."""
        w, h = self.size
        self.transform.run(self.transform.fit(np.zeros((h, w, 3), np.uint8)), self.fade.target)

    def step_style(self, delta: int, t: float) -> None:
        self._now = max(self._now, t)
        self._from_name = self._to_name
        self._index = (self._index + delta) % len(self.paintings)
        self._to_name = self.paintings[self._index].stem
        self.fade.set_target(self._vectors[self._index], t, self.crossfade_s)

    def describe(self) -> str:
        if self.fade.fading(self._now):
            return f"{self._from_name}→{self._to_name}"
        return self._to_name
