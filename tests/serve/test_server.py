"""The real serving engine (Triton, `python main.py serve`) on loopback, on the CPU: the
scenes' pictures made there equal the local ones, a show runs against it, and two display
machines calling at once are batched (the engine's own metrics say so)."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from serving import DEADLINE_MS, STALL_S, Spawned, needs_triton, serving

from installation.effects import build_effect
from installation.effects.config import StyleConfig
from installation.gan.renderer import load_generator
from installation.models import ModelStore
from installation.runtime import Device, open_network
from installation.runtime.device import RuntimeConfig
from installation.runtime.remote import RemoteLink, ServedNetwork, attach_remote
from installation.serve.spawn import MAIN
from installation.show.config import SceneConfig
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

pytestmark = needs_triton
HOSTED = ["multistyle26", "fast-dream:ripples", "gan-eyes", "gan-faces", "live-dream"]
BATCH_DELAY_MS = 20.0  # long enough for two callers' requests to meet in one batch


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spawned]:
    with serving(tmp_path_factory.mktemp("serve"), HOSTED, BATCH_DELAY_MS) as s:
        yield s


@pytest.fixture
def links() -> Iterator[list[RemoteLink]]:
    """The links a test made, closed at its end whatever happened (no watcher left to
    log into later tests)."""
    made: list[RemoteLink] = []
    yield made
    for link in made:
        link.close()


def remote(cpu: Device, server: Spawned, links: list[RemoteLink], name: str = "") -> Device:
    device = attach_remote(cpu, RuntimeConfig(remote=server.grpc,
                                              remote_deadline_ms=DEADLINE_MS,
                                              remote_client=name))
    assert device.remote is not None
    links.append(device.remote)
    assert device.remote.wait_up(10.0)
    return device


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def scrape(server: Spawned) -> str:
    with urllib.request.urlopen(server.metrics_url, timeout=5) as answer:
        return str(answer.read().decode())


def test_the_pictures_equal_the_local_ones(server: Spawned, store: ModelStore, cpu: Device,
                                           photo: np.ndarray,
                                           links: list[RemoteLink]) -> None:
    device = remote(cpu, server, links)
    assert device.remote is not None
    scene = SceneConfig.model_validate({"name": "t", "size": (96, 64), "styles": [4, 11],
                                        "effect": ["style", "fast-dream:ripples"]})
    there = build_effect(scene, StyleConfig(), device, store)
    here = build_effect(scene, StyleConfig(), cpu, store)
    before = device.remote.state().calls
    for i, t in enumerate((0.0, 0.4, 0.8)):
        frame = np.roll(photo, 40 * i, axis=1)
        np.testing.assert_allclose(there(frame, t), here(frame, t), atol=1)
    eyes_there = load_generator("eyes", device, store)
    eyes_here = load_generator("eyes", cpu, store)
    z = np.random.default_rng(8).standard_normal(100).astype(np.float32)
    labels = np.eye(8, dtype=np.float32)[5]
    np.testing.assert_allclose(eyes_there.render(z, labels), eyes_here.render(z, labels),
                               atol=1)
    # The live dream: its ascent there, the flow and the feedback here, frame after frame.
    dreamt = SceneConfig.model_validate({"name": "d", "size": (64, 48), "effect": "dream",
                                         "dream": {"steps": 1, "layers": {"4": 1.0}}})
    dream_there = build_effect(dreamt, StyleConfig(), device, store)
    dream_here = build_effect(dreamt, StyleConfig(), cpu, store)
    for i, t in enumerate((0.0, 0.1, 0.2)):
        frame = np.roll(photo, 8 * i, axis=1)
        np.testing.assert_allclose(dream_there(frame, t), dream_here(frame, t), atol=1)
    state = device.remote.state()
    assert state.calls >= before + 6 + 1 + 3 and state.local_calls == 0 and state.up


def test_a_show_runs_against_it(server: Spawned, store: ModelStore, cpu: Device,
                                tmp_path: Path, links: list[RemoteLink]) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
                    f"[runtime]\nremote = '{server.grpc}'\nremote_deadline_ms = {DEADLINE_MS}\n"
                    f"[watchdog]\nstall_s = {STALL_S}\n"
                    "[[scenes]]\nname = 'dreamt'\nsize = [96, 64]\n"
                    "effect = ['style', 'fast-dream:ripples']\ngenerator = 'eyes'\n"
                    "layers = [{source = 'camera'}, {source = 'gan', opacity = 0.5}]\n")
    cfg = load_config(path)
    device = attach_remote(cpu, cfg.runtime)
    assert device.remote is not None
    links.append(device.remote)
    assert device.remote.wait_up(10.0)
    show = Show(cfg, store, device, RunOptions(headless=True, max_frames=12))
    report = show.run()
    assert report.shown == 12
    state = show.reporter.state.remote
    assert state is not None and state.up and state.falls == 0
    assert state.calls > 12 and state.local_calls == 0  # style + dream + GAN, all there
    assert state.rtt_ms is not None and state.call_ms is not None
    assert any(line.startswith(f"remote {server.grpc}") for line in
               show.reporter.state.hud_lines())
    assert not [r for r in show.reporter.state.reasons() if "remote" in r]


def test_two_display_machines_are_batched(server: Spawned, store: ModelStore, cpu: Device,
                                          until: Callable[..., bool],
                                          links: list[RemoteLink]) -> None:
    rounds = 20
    nets: list[ServedNetwork] = []
    for name in ("screen-a", "screen-b"):
        device = remote(cpu, server, links, name)
        net = open_network("gan-eyes", store.require("gan-eyes"), device)
        assert isinstance(net, ServedNetwork)
        nets.append(net)
    rng = np.random.default_rng(2)
    feeds = {"z": rng.standard_normal((1, 100)).astype(np.float32),
             "labels": np.eye(8, dtype=np.float32)[:1]}
    before = scrape(server)
    together = threading.Barrier(2)

    def calls(net: ServedNetwork) -> None:
        for _ in range(rounds):
            together.wait(timeout=30)
            net.run(feeds)

    threads = [threading.Thread(target=calls, args=(n,)) for n in nets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(n.remote_calls == rounds and n.local_calls == 0 for n in nets)

    def counted() -> bool:
        after = scrape(server)
        inferences = (metric(after, "nv_inference_count", model="gan-eyes")
                      - metric(before, "nv_inference_count", model="gan-eyes"))
        executions = (metric(after, "nv_inference_exec_count", model="gan-eyes")
                      - metric(before, "nv_inference_exec_count", model="gan-eyes"))
        runs = (metric(after, "installation_network_runs_total", model="gan-eyes")
                - metric(before, "installation_network_runs_total", model="gan-eyes"))
        # Every call answered, in fewer executions than calls: requests were batched, and
        # each batch was one call of the network itself.
        return inferences == 2 * rounds and 0 < executions < inferences and runs == executions

    assert until(counted, 10.0), scrape(server)[-3000:]
    text = scrape(server)
    for name in ("screen-a", "screen-b"):
        assert metric(text, "installation_client_requests_total", client=name,
                      model="gan-eyes") >= rounds
        assert metric(text, "installation_client_last_seen_seconds", client=name,
                      model="gan-eyes") > 0


def test_a_network_the_server_cannot_run_alone_runs_locally(
        server: Spawned, store: ModelStore, cpu: Device, links: list[RemoteLink],
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    from installation.runtime.remote import network as network_module

    monkeypatch.setattr(network_module, "RETRY_S", 0.0)  # asked again at every call
    device = remote(cpu, server, links)
    assert device.remote is not None
    missing = open_network("arbitrary-predict", store.require("arbitrary-predict"), device)
    faces = open_network("gan-faces", store.require("gan-faces"), cpu)  # a local network
    other = ServedNetwork(faces, device.remote, store.require("gan-eyes"))  # wrong file
    hosted_net = open_network("gan-faces", store.require("gan-faces"), device)
    assert isinstance(missing, ServedNetwork) and isinstance(hosted_net, ServedNetwork)
    picture = np.zeros((1, 256, 256, 3), np.float32)
    z = np.random.default_rng(3).standard_normal((1, 100)).astype(np.float32)
    for _ in range(3):
        missing.run({"style_image": picture})
        other.run({"z": z})
        hosted_net.run({"z": z})
    assert missing.local_calls == 3 and missing.remote_calls == 0
    assert other.local_calls == 3 and other.remote_calls == 0
    assert hosted_net.remote_calls == 3 and hosted_net.local_calls == 0
    assert device.remote.usable() and device.remote.state().falls == 0
    assert len(device.remote._clients) == 3  # asking again reuses each network's channel
    said = [r.getMessage() for r in caplog.records if "runs locally" in r.getMessage()]
    assert len(said) == 2  # once each, not per call
    assert any("does not host it" in m for m in said)
    assert any("another file" in m for m in said)


def test_doctor_names_what_the_server_serves(server: Spawned, tmp_path: Path) -> None:
    from installation.tools.doctor import check_remote

    path = tmp_path / "config.toml"
    path.write_text(f"[runtime]\nremote = '{server.grpc}'\n")
    check = check_remote(load_config(path))
    assert check.verdict == "ok", check.detail
    assert check.detail.endswith("serves fast-dream.ripples, gan-eyes, gan-faces, "
                                 "live-dream, multistyle26")


@pytest.mark.parametrize("args", [["--networks", "gan-eyes,nope"], ["--port", "PORT"]])
def test_serve_refuses_in_one_line(server: Spawned, tmp_path: Path, args: list[str]) -> None:
    args = [str(server.base) if a == "PORT" else a for a in args]  # a port in use
    done = subprocess.run([sys.executable, str(MAIN), "serve", *args], cwd=MAIN.parent,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert re.search(r"nope is not a network|cannot listen on 127\.0\.0\.1:\d+", lines[0])
