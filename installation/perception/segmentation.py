"""Person segmentation: MediaPipe's selfie networks, run by the TFLite runtime.

    camera picture (H x W RGB uint8, any size)
      -> stretched to the network's input (256x144 for wide frames, 256x256 otherwise)
      -> selfie segmentation network (TFLite, XNNPACK)
      -> person probability, 0..1, stretched back to H x W (float32)

The networks are the ones shipped in `mediapipe==0.10.21` (`models pull` extracts them; see
shared/MODELS.md): trained for one person near the camera. They find a visitor who fills a
good part of the frame and little or nothing at room distance (docs/perception.md has the
figures), so the perception stage fuses them with background subtraction rather than
relying on them alone.

An interpreter is not thread-safe: use one `Segmenter` (and one `FaceDetector`) per thread.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert.interpreter import Interpreter

from installation.errors import ModelError
from installation.models import ModelStore
from installation.runtime import muted_stderr

SQUARE, LANDSCAPE = "person-square", "person-landscape"  # names in models/manifest.toml

# Width/height from which the landscape network (256x144, 16:9) fits a frame better than
# the square one: the geometric mean of their aspects, sqrt(1 * 16/9) = 4/3.
LANDSCAPE_FROM = 4 / 3


def create_interpreter(path: Path, threads: int) -> Interpreter:
    """A TFLite interpreter for the model at `path`, tensors allocated, on `threads` CPU
    threads (0 = all cores) with the XNNPACK delegate (the runtime's default on CPU).

    The runtime prints "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." straight
    to file descriptor 2 the first time a process allocates tensors, with no setting to
    turn it off; its errors come back as Python exceptions, so stderr is muted while
    loading only. A file that cannot be loaded is a ModelError in one line.
    """
    threads = threads or os.cpu_count() or 1
    try:
        with muted_stderr():
            interpreter = Interpreter(model_path=str(path), num_threads=threads)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ModelError(f"model {path} cannot be loaded ({first[:160]}); "
                         "run `python main.py models pull` to restore it") from None
    return interpreter


class _Network:
    """One selfie network and its preallocated input buffers."""

    def __init__(self, path: Path, threads: int) -> None:
        self.interpreter = create_interpreter(path, threads)
        inp = self.interpreter.get_input_details()[0]
        out = self.interpreter.get_output_details()[0]
        _, self.height, self.width, channels = (int(n) for n in inp["shape"])
        if channels != 3 or inp["dtype"] != np.float32 or out["dtype"] != np.float32 \
                or tuple(out["shape"][1:3]) != (self.height, self.width):
            raise ModelError(f"model {path} is not a selfie segmentation network "
                             f"(input {inp['shape']}, output {out['shape']})")
        self.input_index, self.output_index = inp["index"], out["index"]
        self.small = np.empty((self.height, self.width, 3), np.uint8)  # resized picture
        self.tensor = np.empty((1, self.height, self.width, 3), np.float32)  # RGB in [0, 1]

    def run(self, rgb: np.ndarray, out: np.ndarray) -> None:
        """Person probability for `rgb`, written into `out` (float32, the picture's size)."""
        # Stretch (no letterbox: MediaPipe feeds the selfie networks the whole frame).
        cv2.resize(rgb, (self.width, self.height), dst=self.small, interpolation=cv2.INTER_AREA)
        np.multiply(self.small, np.float32(1 / 255), out=self.tensor[0])
        self.interpreter.set_tensor(self.input_index, self.tensor)
        self.interpreter.invoke()
        # A view into the interpreter's own output: read it, then drop it before the next
        # invoke (the runtime refuses to run while a view of its buffers is alive).
        mask = self.interpreter.tensor(self.output_index)()[0, :, :, 0]
        cv2.resize(mask, (out.shape[1], out.shape[0]), dst=out, interpolation=cv2.INTER_LINEAR)
        del mask


class Segmenter:
    """Person probability per pixel from MediaPipe's selfie segmentation networks.

    `square` and `landscape` are the two .tflite files (256x256 and 256x144 inputs); each
    frame goes to the one whose shape fits it better. Not thread-safe: one per thread.
    """

    def __init__(self, square: Path, landscape: Path, threads: int) -> None:
        self._square = _Network(square, threads)
        self._landscape = _Network(landscape, threads)

    def network_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) in pixels of the network input a `width` x `height` frame uses."""
        net = self._pick(width, height)
        return net.width, net.height

    def _pick(self, width: int, height: int) -> _Network:
        return self._landscape if width >= LANDSCAPE_FROM * height else self._square

    def probability(self, rgb: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Person probability (float32, 0..1) per pixel of `rgb` (H x W x 3 uint8 RGB, any
        size), at the picture's H x W.

        `out`, an H x W float32 array, is filled and returned instead of a new array (a
        caller that keeps its own buffer saves an allocation per frame; the default, a
        fresh array, is safe to hand to another thread).
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8 or rgb.size == 0:
            raise ValueError(f"expected an H x W x 3 uint8 RGB picture, got shape {rgb.shape} "
                             f"{rgb.dtype}")
        height, width = rgb.shape[:2]
        if out is None:
            out = np.empty((height, width), np.float32)
        elif out.shape != (height, width) or out.dtype != np.float32 \
                or not out.flags.c_contiguous:
            raise ValueError(f"`out` must be a contiguous {height}x{width} float32 array, got "
                             f"{out.shape} {out.dtype}")
        self._pick(width, height).run(rgb, out)
        return out


def load_segmenter(store: ModelStore, threads: int) -> tuple[Segmenter | None, str]:
    """The segmenter, and "" — or None and one line saying why (not pulled, altered, or the
    runtime's own error), for the caller to say once and fall back. Never raises for a
    missing or broken model file.

    `threads`: CPU threads per interpreter (0 = all cores).
    """
    try:
        return Segmenter(store.require(SQUARE), store.require(LANDSCAPE), threads), ""
    except ModelError as exc:
        return None, f"person segmentation off: {exc}"
