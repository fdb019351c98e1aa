"""The fast dream effect in scenes: the network at the scene's size, chained after a style,
found by name with clear errors, and compared against the live dream."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from installation.dream.ascent import objective, to_tensor
from installation.dream.backbone import load_backbone
from installation.dream.config import DreamConfig
from installation.dream.fast import DreamRunner, FastDreamEffect, network_path
from installation.dream.live import DreamEffect
from installation.effects import Chain, build_effect
from installation.effects.config import StyleConfig
from installation.effects.style import MultiStyleEffect, resize_to
from installation.errors import ModelError, UserError
from installation.models import ModelStore
from installation.runtime import Device, OrtNetwork
from installation.show.config import SceneConfig
from installation.tools.dream_compare import compare

SIZE = (98, 58)  # neither side a multiple of 4: the effect pads and crops


def scene(**kw: object) -> SceneConfig:
    return SceneConfig.model_validate({"name": "test", "size": SIZE, **kw})


def test_fast_dream_changes_the_picture_at_the_scene_size(store: ModelStore, cpu: Device,
                                                           photo: np.ndarray) -> None:
    effect = build_effect(scene(effect="fast-dream:ripples"), StyleConfig(), cpu, store)
    assert isinstance(effect, FastDreamEffect)
    out = effect(photo, 0.0)
    assert out.shape == (58, 98, 3) and out.dtype == np.uint8
    camera = resize_to(photo, SIZE).astype(float)
    assert 3.0 < np.abs(out - camera).mean() < 80.0  # dreamt, still the picture
    assert effect.describe() == "fast-dream:ripples (6:1)"


def test_runner_pads_to_a_multiple_of_four_and_crops_back(store: ModelStore,
                                                          cpu: Device) -> None:
    runner = DreamRunner(OrtNetwork(network_path(store, "deep"), cpu))
    picture = np.random.default_rng(0).integers(0, 256, (37, 51, 3), dtype=np.uint8)
    assert runner.preprocess(picture).shape == (1, 3, 40, 52)
    assert runner.run(picture).shape == (37, 51, 3)


def test_chain_paints_then_dreams(store: ModelStore, cpu: Device, photo: np.ndarray) -> None:
    chain = build_effect(scene(effect=["style", "fast-dream:ripples"], styles=[3, 12]),
                         StyleConfig(crossfade_s=0.0), cpu, store)
    assert isinstance(chain, Chain)
    style, dream = chain.effects
    assert isinstance(style, MultiStyleEffect) and isinstance(dream, FastDreamEffect)
    np.testing.assert_array_equal(chain(photo, 0.0), dream(style(photo, 0.0), 0.0))
    chain.step_style(1, 0.0)  # the keys still step the painting's styles
    assert chain.describe().startswith("12 > fast-dream:ripples")


def test_live_dream_scene_uses_its_dream_table(store: ModelStore, cpu: Device) -> None:
    effect = build_effect(scene(effect="dream", dream={"layers": {"4": 1.0}, "steps": 1}),
                          StyleConfig(), cpu, store)
    assert isinstance(effect, DreamEffect)
    assert effect.layers == {4: 1.0} and effect.cfg.steps == 1
    assert effect.describe() == "dream 4:1"


def test_unknown_network_names_what_there_is(store: ModelStore) -> None:
    with pytest.raises(UserError, match=r"'nope'.*have: .*deep.*ripples.*train-dream"):
        network_path(store, "nope")


def test_altered_shipped_network_says_restore_from_git(tmp_path: Path,
                                                       store: ModelStore) -> None:
    root = tmp_path / "models"
    root.mkdir()
    shutil.copy(store.root / "manifest.toml", root)
    (root / "dream-ripples.onnx").write_bytes(b"not a network")
    with pytest.raises(ModelError, match=r"altered.*git checkout -- models/dream-ripples.onnx"):
        network_path(ModelStore(root), "ripples")


def test_a_network_trained_here_needs_no_pin(tmp_path: Path, store: ModelStore,
                                             cpu: Device) -> None:
    root = tmp_path / "models"
    root.mkdir()
    shutil.copy(store.root / "manifest.toml", root)
    shutil.copy(store.path("dream-deep"), root / "dream-mine.onnx")
    mine = ModelStore(root)
    assert network_path(mine, "mine") == root / "dream-mine.onnx"
    shutil.copy(store.path("multistyle26"), root / "dream-style.onnx")
    with pytest.raises(ModelError, match="network style: the file is not one made by"):
        build_effect(scene(effect="fast-dream:style"), StyleConfig(), cpu, mine)


def test_compare_measures_speed_and_gain(store: ModelStore, cpu: Device,
                                         photo: np.ndarray) -> None:
    frames = [resize_to(photo, (64, 36))] * 4
    results, rows = compare(frames, ["ripples"], DreamConfig(steps=1), (64, 36), cpu, store)
    (r,) = results
    assert r["network"] == "ripples" and r["layers"] == "6:1"
    assert r["live_ms"] > 0 and r["fast_ms"] > 0
    assert r["live_gain"] > 0 and r["fast_gain"] > 0  # both dream: the objective rises
    # The fast gain, computed here on its own: the network's picture against the frame.
    net = load_backbone(store)
    fast = build_effect(scene(effect="fast-dream:ripples", size=(64, 36)), StyleConfig(),
                        cpu, store)
    with torch.no_grad():
        gain = float(objective(net, to_tensor(fast(frames[0], 0.0)), {6: 1.0})
                     - objective(net, to_tensor(frames[0]), {6: 1.0}))
    assert r["fast_gain"] == pytest.approx(gain, rel=1e-3)
    assert rows[0].shape == (36, 64 * 3, 3)


def test_compare_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from installation.cli import main

    picture = tmp_path / "side.png"
    assert main(["dream-compare", "--frames", "3", "--size", "64x36", "--networks",
                 "ripples", "--json", "--picture", str(picture)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["size"] == "64x36" and out["live"]["steps"] >= 1
    assert [n["network"] for n in out["networks"]] == ["ripples"]
    assert picture.is_file()
    assert main(["dream-compare", "--networks", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "'nope'" in err and "\n" not in err


class NanNetwork:
    """A dream network whose output is NaN in one pixel (a clamp keeps a NaN)."""

    def __init__(self, inner: OrtNetwork) -> None:
        self.inner = inner

    def run(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        out = self.inner.run(feeds)[0].copy()
        out[0, 1, 2, 3] = np.nan
        return [out]


def test_a_dream_output_that_is_not_finite_is_refused(store: ModelStore, cpu: Device) -> None:
    runner = DreamRunner(OrtNetwork(network_path(store, "deep"), cpu))
    runner.network = NanNetwork(runner.network)  # type: ignore[arg-type,assignment]
    picture = np.full((20, 24, 3), 100, np.uint8)
    with pytest.raises(ValueError, match="fast dream output is not finite"):
        runner.run(picture)
