"""GAN rendering: the newest latent in, the newest image out, in its own thread.

`Generator` runs one exported generator (models `gan-eyes`, `gan-faces`) through ONNX
Runtime; `GanRenderer` feeds it from a newest-wins slot, so when the walk moves faster than
the network renders, stale latents are skipped rather than queued, and every image carries
the stamp of the latent it was made from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

import cv2
import numpy as np

from installation.gan.labels import EYE_CLASSES, LATENT_DIM
from installation.models import ModelStore
from installation.runtime import Device, Network, open_network
from installation.runtime.network import known
from installation.slots import LatestSlot
from installation.stage import StageThread, require_finite

log = logging.getLogger(__name__)

GeneratorName = Literal["eyes", "faces"]
MODELS: dict[str, tuple[str, tuple[str, ...]]] = {  # generator → (model, its class names)
    "eyes": ("gan-eyes", EYE_CLASSES),
    "faces": ("gan-faces", ()),
}
INTERPOLATIONS = {"cubic": cv2.INTER_CUBIC, "lanczos": cv2.INTER_LANCZOS4}


class Generator:
    """One GAN generator behind a network (any engine: runtime/choice.py picks).

    The latent input is the session input with `LATENT_DIM` numbers, the label input (if
    any) the other one; the output size is read from the model, nothing is hard-coded.
    """

    def __init__(self, network: Network, name: str,
                 classes: tuple[str, ...] = ()) -> None:
        self.network = network
        self.name = name
        inputs = network.inputs
        latent = [i for i in inputs if i.shape[-1] == LATENT_DIM]
        if len(latent) != 1 or len(inputs) > 2:
            shapes = ", ".join(f"{i.name}{i.shape}" for i in inputs)
            raise ValueError(f"generator {name}: inputs {shapes} are not z[1,100] (+ labels)")
        self.z_input = latent[0].name
        others = [i for i in inputs if i.name != self.z_input]
        self.label_input = others[0].name if others else None
        self.n_labels = known(others[0].shape[-1]) if others else 0
        if classes and len(classes) != self.n_labels:
            raise ValueError(f"generator {name}: {len(classes)} class names for "
                             f"{self.n_labels} labels")
        self.classes = classes
        output = network.outputs[0]
        self.size = (known(output.shape[3]), known(output.shape[2]))  # (width, height), px

    def render(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """The image for latent `z` (100 numbers) and, for a conditional generator, a label
        vector (one-hot or a blend; ignored by a generator without labels): HxWx3 uint8 RGB.
        """
        feeds = {self.z_input: np.asarray(z, np.float32).reshape(1, LATENT_DIM)}
        if self.label_input is not None:
            if labels is None:
                raise ValueError(f"generator {self.name} needs labels ({self.n_labels} numbers)")
            feeds[self.label_input] = np.asarray(labels, np.float32).reshape(1, self.n_labels)
        out = self.network.run(feeds)[0][0]  # [3,H,W] in [−1,1]
        # A NaN would be cast to black: ValueError instead, and the last picture stays.
        require_finite(out, f"generator {self.name} output")
        # [−1,1] → [0,255], rounded; HWC for OpenCV and pygame.
        rgb = np.clip((out.transpose(1, 2, 0) + 1.0) * 127.5 + 0.5, 0.0, 255.0)
        return np.ascontiguousarray(rgb.astype(np.uint8))

    def warm_up(self) -> None:
        """One render, so the first frame of a scene does not pay for allocation."""
        self.render(np.zeros(LATENT_DIM, np.float32),
                    np.full(self.n_labels, 1.0 / max(self.n_labels, 1), np.float32))


def load_generator(name: GeneratorName, device: Device, store: ModelStore) -> Generator:
    """The verified, warmed-up generator `name` ("eyes" or "faces") on `device`.

    ModelError (one line) when its model file is missing or altered; ValueError for a name
    that is not a generator.
    """
    if name not in MODELS:
        raise ValueError(f"unknown generator {name!r}; known: {', '.join(MODELS)}")
    model, classes = MODELS[name]
    gen = Generator(open_network(model, store.require(model), device,
                                 store.engine_cache), name, classes)
    gen.warm_up()
    return gen


class Renders(Protocol):
    """What the renderer needs of a generator (a `Generator`, or a test's stand-in)."""

    name: str

    def render(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class LatentRequest:
    """A latent to render. `stamp`: monotonic s of the input it came from (for latency)."""

    z: np.ndarray  # float32 [100]
    labels: np.ndarray | None  # float32 [n_classes], or None for an unconditional generator
    stamp: float
    seq: int  # submission number, from 1


@dataclass(frozen=True)
class GanImage:
    """A rendered latent: `image` HxWx3 uint8 RGB at the renderer's output size."""

    image: np.ndarray
    stamp: float  # the request's stamp, monotonic s
    seq: int  # the request's submission number
    generator: str
    render_ms: float  # network + upscaling (+ painting), ms
    stages: dict[str, float] = field(default_factory=dict)  # "gan", "upscale", "paint": ms


class GanRenderer(StageThread[LatentRequest, GanImage]):
    """Renders the newest submitted latent with `generator`, in its own thread.

    `output_size` (width, height) in px, or None for the network's own size; it, the
    generator (`swap`) and `paint` (an effect — picture and time in, picture out — run on
    the enlarged image, or None) may change at any time and take hold at the next render.
    Errors are counted and logged rate-limited; the thread keeps going and the last good
    image stays (also across a watchdog restart).
    """

    stage = "gan"
    on_error = "last image stays"

    def __init__(self, generator: Renders, output_size: tuple[int, int] | None = None,
                 interpolation: Literal["cubic", "lanczos"] = "cubic") -> None:
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation {interpolation!r}: use one of "
                             f"{', '.join(INTERPOLATIONS)}")
        self._requests: LatestSlot[LatentRequest] = LatestSlot()
        super().__init__(self._requests, log)
        self.generator = generator
        self.output_size = output_size
        self.interpolation = INTERPOLATIONS[interpolation]
        self.paint: Callable[[np.ndarray, float], np.ndarray] | None = None
        self._seq = 0
        self._submit_lock = threading.Lock()  # guards _seq across submitting threads

    @property
    def label(self) -> str:
        return f"gan {self.generator.name}"

    @property
    def renders(self) -> int:
        """Images produced."""
        return self.published

    @property
    def submitted(self) -> int:
        return self._seq

    @property
    def dropped(self) -> int:
        """Requests replaced by a newer one before the thread took them."""
        return self._requests.dropped

    def stop(self) -> None:
        self._requests.close()  # wakes the thread at once
        super().stop()

    def submit(self, z: np.ndarray, labels: np.ndarray | None = None,
               stamp: float | None = None) -> LatentRequest:
        """Hand over the newest latent (copied: the caller may keep changing its own).

        `stamp` defaults to now (monotonic s). Replaces any request not yet taken.
        """
        with self._submit_lock:
            self._seq += 1
            request = LatentRequest(
                z=np.array(z, np.float32).reshape(LATENT_DIM),
                labels=None if labels is None else np.array(labels, np.float32).ravel(),
                stamp=time.monotonic() if stamp is None else stamp,
                seq=self._seq,
            )
            self._requests.put(request)
        return request

    def swap(self, generator: Renders) -> None:
        """Render with `generator` from now on; the last request is rendered again with it."""
        self.generator = generator
        _, last = self._requests.peek()
        if last is not None:
            self._requests.put(last)

    def read(self, after: int = 0, timeout: float | None = None) -> tuple[int, GanImage | None]:
        """The newest image with a slot version above `after` (see `LatestSlot.get`)."""
        return self.slot.get(after, timeout)

    def _work(self, request: LatentRequest) -> GanImage:
        generator, size, paint = self.generator, self.output_size, self.paint
        t0 = time.monotonic()
        image = generator.render(request.z, request.labels)
        t1 = time.monotonic()
        if size is not None and (image.shape[1], image.shape[0]) != tuple(size):
            image = cv2.resize(image, tuple(size), interpolation=self.interpolation)
        t2 = time.monotonic()
        stages = {"gan": (t1 - t0) * 1000.0, "upscale": (t2 - t1) * 1000.0}
        if paint is not None:
            image = paint(image, t2)
            stages["paint"] = (time.monotonic() - t2) * 1000.0
        return GanImage(
            image=image, stamp=request.stamp, seq=request.seq, generator=generator.name,
            render_ms=(time.monotonic() - t0) * 1000.0, stages=stages,
        )
