"""The web console in a real browser (headless Chromium, Debian's `chromium`, driven by
Playwright): the page shows the running show, and clicking its controls changes the show.
Skipped, with the reason, where no Chromium is installed (`.ci/run` installs it).

`INSTALLATION_SCREENSHOT=docs/console.png` also writes the page as a phone shows it there
(the README's screenshot)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from installation.controls.status import StatusConfig, StatusServer
from installation.show.loop import Show
from installation.state import FrameState

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(make test installs requirements-dev.txt)")
# Every wait for the page: 15 s, not Playwright's 5 (Chromium and a show share 2 cores).
sync_api.expect.set_options(timeout=15_000)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no Chromium found (Debian: apt-get install chromium; .ci/run does)",
                allow_module_level=True)
# Headless, as root in CI, with nothing reaching out to the internet at start.
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
PHONE = {"width": 390, "height": 844}
# Whether the preview on the page shows a picture: its mean grey level above 20.
LIT = """() => {
  const img = document.getElementById("preview");
  if (!img.naturalWidth) return false;
  const c = document.createElement("canvas");
  c.width = c.height = 8;
  const g = c.getContext("2d");
  g.drawImage(img, 0, 0, 8, 8);
  const d = g.getImageData(0, 0, 8, 8).data;
  let sum = 0;
  for (let k = 0; k < d.length; k += 4) sum += (d[k] + d[k + 1] + d[k + 2]) / 3;
  return sum / 64 > 20;
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == []  # the page's script never threw


def strength(show: Show) -> float | None:
    assert show.status is not None
    value = show.status.console_state()["strength"]
    return None if value is None else float(value)


def test_clicking_the_console_changes_the_show(
        page: Any, base: str, show: Show, until: Callable[..., bool], tmp_path: Path) -> None:
    page.goto(base + "/")
    expect = sync_api.expect
    expect(page.get_by_test_id("status")).to_have_text(re.compile("^(ok|degraded)$"),
                                                       timeout=15_000)
    scene = show.scene
    expect(page.get_by_test_id("scene")).to_have_text(scene)

    page.get_by_role("button", name="blackout").click()
    assert until(lambda: show.blackout, 10)
    expect(page.get_by_role("button", name="blackout")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="blackout").click()
    assert until(lambda: not show.blackout, 10)

    other = "two" if scene == "one" else "one"
    page.get_by_role("button", name=other, exact=True).click()
    assert until(lambda: show.scene == other, 10)
    expect(page.get_by_test_id("scene")).to_have_text(other)

    page.get_by_test_id("strength").fill("0.3")
    assert until(lambda: strength(show) == 0.3, 10)
    # A preset saved from the page, the strength moved, the preset recalled.
    page.get_by_label("preset name").fill("soft")
    page.get_by_role("button", name="save", exact=True).click()
    assert until(lambda: show.presets.names == ("soft",), 10)
    page.get_by_test_id("strength").fill("0.8")
    assert until(lambda: strength(show) == 0.8, 10)
    page.get_by_role("button", name="soft", exact=True).click()
    assert until(lambda: strength(show) == 0.3, 10)

    style = show.worker.effect.describe()
    page.get_by_role("button", name="next ▶").click()
    assert until(lambda: show.worker.effect.describe() != style, 10)

    expect(page.locator("#strength-value")).to_have_text("0.30")

    # The preview: a small live picture of the show (not black: the blackout is over).
    page.wait_for_function(LIT, timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")  # (the header sticks to the top)
    shot = tmp_path / "console.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    wanted = os.environ.get("INSTALLATION_SCREENSHOT")
    if wanted:
        shutil.copyfile(shot, wanted)


def test_off_loopback_the_page_asks_for_the_token(page: Any) -> None:
    server = StatusServer(StatusConfig(enabled=True, host="0.0.0.0", port=0)).start()
    try:
        assert server.console is not None and server.console.guard.token is not None
        server.publish(FrameState(scene="only", scenes=("only",)))
        base = f"http://127.0.0.1:{server.address[1]}"
        expect = sync_api.expect
        page.goto(base + "/")
        expect(page.locator("#token-section")).to_be_visible(timeout=15_000)
        page.locator("#token").fill(server.console.guard.token)
        page.get_by_role("button", name="use", exact=True).click()
        expect(page.get_by_test_id("scene")).to_have_text("only", timeout=15_000)
        page.get_by_role("button", name="reseed").click()
        expect(page.get_by_test_id("said")).to_have_text("sent reseed", timeout=10_000)
        assert [c.name.value for c in server.console.drain()] == ["reseed"]
    finally:
        server.stop()
