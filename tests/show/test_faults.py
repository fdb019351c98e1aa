"""A turn of the loop that raises (a bug nothing else caught) never ends the show: it is
said once with its traceback, counted, and the next turn goes on."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from installation.models import ModelStore
from installation.runtime import Device
from installation.show.loading import load_config
from installation.show.loop import RunOptions, Show


def test_a_failing_turn_does_not_end_the_show(
        tmp_path: Path, store: ModelStore, cpu: Device, until: Callable[..., bool],
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[source]\nuri = 'demo:carphone'\n[attract]\nenabled = false\n"
                    "[headless]\nrecord = false\n"
                    "[[scenes]]\nname = 'one'\nsize = [96, 64]\n")
    show = Show(load_config(path), store, cpu, RunOptions(headless=True, duration_s=300))
    real = show.composition.step
    calls = {"n": 0}

    def every_third_fails(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] % 3 == 0:
            raise ZeroDivisionError("a bug in composing")
        return real(*args, **kw)

    monkeypatch.setattr(show.composition, "step", every_third_fails)
    seen: dict[str, bool] = {}

    def drive() -> None:
        try:
            seen["failed"] = until(lambda: show.faults.count >= 3, 60)
            shown = show.report.shown
            seen["goes on"] = until(lambda: show.report.shown > shown + 5, 60)
        finally:
            show.stop()

    with caplog.at_level(logging.ERROR, logger="installation"):
        threading.Thread(target=drive, daemon=True).start()
        show.run()
    assert seen == {"failed": True, "goes on": True}
    first = [r for r in caplog.records if "(the show goes on): ZeroDivisionError"
             in r.getMessage()]
    assert len(first) == 1 and first[0].exc_info is not None  # the traceback, once
    assert show.faults.count >= 3
    assert show.faults.reason(show.faults.t_last or 0.0) is not None
