"""A show running headless with its status server (and so the web console) on loopback,
for the console's HTTP and browser tests: two style scenes, a demo clip."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from installation.capture import demo_source
from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show

CONFIG = """
[attract]
enabled = false
[status]
enabled = true
port = 0
[headless]
record = false
[[scenes]]
name = "one"
size = [160, 96]
styles = [3]
temporal = {enabled = true}
[[scenes]]
name = "two"
size = [160, 96]
styles = [5]
"""


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory, store: ModelStore, cpu: Device,
         ) -> Iterator[Show]:
    path = tmp_path_factory.mktemp("console") / "config.toml"
    path.write_text(CONFIG)
    running = Show(load_config(path), store, cpu, RunOptions(headless=True, duration_s=300,
                                                                config_path=path),
                   source=demo_source("bikes", store))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    yield running
    running.stop()
    thread.join(30)


@pytest.fixture
def base(show: Show, until: Callable[..., bool]) -> str:
    """The console's address, once the show has shown a few frames."""
    assert until(lambda: show.report.shown > 3, 60)
    assert show.status is not None
    host, port = show.status.address
    return f"http://{host}:{port}"


def call(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
         method: str | None = None) -> tuple[int, Any]:
    """(status, JSON or bytes) of one request."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            code, raw, kind = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        code, raw, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
    return code, json.loads(raw) if kind == "application/json" and raw else raw


def post(base: str, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    return call(base + "/api/command", json.dumps(payload).encode(),
                {"Content-Type": "application/json", **(headers or {})})
