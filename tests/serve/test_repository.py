"""The Triton model repository `serve` writes for the project's networks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from installation.dream.ports import SETTINGS
from installation.errors import UserError
from installation.models import ModelStore, sha256_file
from installation.runtime.remote.wire import served_name
from installation.serve.networks import hosted, known_names
from installation.serve.repository import MAX_BATCH, ServeSettings, write_repository


def test_every_network_a_scene_sends_is_known(store: ModelStore) -> None:
    names = known_names(store)
    for name in ("multistyle26", "arbitrary-predict", "arbitrary-transform",
                 "fast-dream:ripples", "gan-eyes", "gan-faces", "live-dream"):
        assert name in names
    with pytest.raises(UserError, match="nope is not a network") as err:
        hosted(store, ["gan-faces", "nope"])
    assert "known: multistyle26" in str(err.value)


def test_the_repository(store: ModelStore, tmp_path: Path) -> None:
    nets = hosted(store, ["multistyle26", "fast-dream:ripples", "gan-eyes", "live-dream"])
    settings = ServeSettings(engine="openvino", threads=2, queue_delay_us=500)
    root = write_repository(tmp_path / "models", nets, settings)
    for net in nets:
        folder = root / served_name(net.name)
        text = (folder / "config.pbtxt").read_text()
        assert f'name: "{served_name(net.name)}"' in text
        assert f"max_batch_size: {MAX_BATCH}" in text
        assert "max_queue_delay_microseconds: 500" in text
        assert f'string_value: "{sha256_file(net.path)}"' in text
        assert 'key: "engine" value: { string_value: "openvino" }' in text
        model = (folder / "1" / "model.py").read_text()
        compile(model, "model.py", "exec")  # valid Python
        assert "installation.serve.backend import TritonPythonModel" in model
    style = (root / "multistyle26" / "config.pbtxt").read_text()
    # The picture's height and width are free; the style weights have no batch axis of
    # their own (the wire's axis comes in front of every tensor).
    assert '{ name: "in0" data_type: TYPE_FP32 dims: [1, 3, -1, -1] }' in style
    assert '{ name: "in1" data_type: TYPE_FP32 dims: [26] }' in style
    eyes = (root / "gan-eyes" / "config.pbtxt").read_text()
    assert re.search(r'name: "in1" data_type: TYPE_FP32 dims: \[1, 8\]', eyes)
    assert 'name: "out0" data_type: TYPE_FP32 dims: [1, 3, 128, 128]' in eyes
    # The live dream's ascent: torch weights, its ports declared by the project (the
    # settings in float64: a frame-count seed stays exact).
    dream = (root / "live-dream" / "config.pbtxt").read_text()
    assert f'string_value: "{sha256_file(store.require("dream-backbone"))}"' in dream
    assert '{ name: "in0" data_type: TYPE_FP32 dims: [1, 3, -1, -1] }' in dream
    assert f'{{ name: "in1" data_type: TYPE_FP64 dims: [{SETTINGS}] }}' in dream
    assert '{ name: "out0" data_type: TYPE_FP32 dims: [1, 3, -1, -1] }' in dream
