"""The scene set, the one owner of effects: painters shared with the GAN thread by one
dict, a move to the CPU that makes effects built before it stale, and a live edit built
off the loop across such a move built again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from installation.models import ModelStore
from installation.runtime import Device
from installation.show import scenes as scenes_module
from installation.show.config import Config, SceneConfig
from installation.show.live_config import Edit, Reloader
from installation.show.loading import load_config
from installation.show.scenes import SceneSet

# A GPU stand-in: the CUDA device kind (what the set's choices follow), the CPU provider.
FAKE_GPU = Device("cuda", ["CPUExecutionProvider"], "test stand-in for a GPU", 2)
CONFIG = ("[attract]\nenabled = false\n"
          "[[scenes]]\nname = 'eyes'\nsize = [96, 64]\nstyles = [3]\ngenerator = 'eyes'\n"
          "paint_gan = true\nlayers = [{source = 'camera'}, {source = 'gan'}]\n")


def config(tmp_path: Path, text: str = CONFIG) -> tuple[Path, Config]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path, load_config(path)


def test_painters_stay_one_dict_through_edits_and_the_move_to_the_cpu(
        tmp_path: Path, store: ModelStore) -> None:
    _, cfg = config(tmp_path)
    scenes = SceneSet(cfg, FAKE_GPU, store)
    painters = scenes.painters  # what the interaction (the GAN thread) holds
    first = painters["eyes"]
    assert scenes.to_cpu(cfg) and scenes.device.kind == "cpu"
    assert scenes.painters is painters and painters["eyes"] is not first  # rebuilt, shared
    assert not scenes.to_cpu(cfg)  # nowhere further to go
    plain = SceneConfig(name="eyes", size=(96, 64))  # the edit drops its painter
    edited = cfg.model_copy(update={"scenes": [plain]})
    scenes.adopt(edited, scenes.prepare(edited, [plain]), adaptive_changed=False)
    assert scenes.painters is painters and painters == {}


def test_effects_built_before_the_move_to_the_cpu_are_stale(
        tmp_path: Path, store: ModelStore) -> None:
    _, cfg = config(tmp_path)
    scenes = SceneSet(cfg, FAKE_GPU, store)
    before = scenes.prepare(cfg, cfg.scenes)
    assert not scenes.stale(before)
    scenes.to_cpu(cfg)
    assert scenes.stale(before) and not scenes.stale(scenes.prepare(cfg, cfg.scenes))


def test_an_edit_built_across_the_move_is_built_again(
        tmp_path: Path, store: ModelStore, until: Callable[..., bool],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path, cfg = config(tmp_path)
    scenes = SceneSet(cfg, FAKE_GPU, store)
    gate, entered = threading.Event(), threading.Event()
    real = scenes_module.build_effect
    builds: list[str] = []  # the device kind each effect of the edit was built for

    def held(scene: Any, style: Any, device: Device, *args: Any) -> Any:
        if threading.current_thread().name == "reload":
            builds.append(device.kind)
            if len(builds) == 1:  # the first build waits while the effects move
                entered.set()
                gate.wait(30)
        return real(scene, style, device, *args)

    monkeypatch.setattr(scenes_module, "build_effect", held)
    reloader = Reloader(path, {}, scenes)
    path.write_text(CONFIG.replace("styles = [3]", "styles = [5]"))
    assert until(lambda: reloader.poll(cfg) is None and entered.is_set(), 30)
    scenes.to_cpu(cfg)  # on the loop, while the edit is being built for the GPU
    gate.set()
    edits: list[Edit | None] = []
    assert until(lambda: edits.append(reloader.poll(cfg)) or edits[-1] is not None, 60)
    edit = edits[-1]
    assert edit is not None and edit.cfg is not None and edit.error is None
    # Built for the GPU (effect and painter), found stale, built again on the CPU.
    assert builds == ["cuda", "cuda", "cpu", "cpu"]
    assert not scenes.stale(edit.built) and edit.built.effects["eyes"].describe() == "5"
    reloader.close()
