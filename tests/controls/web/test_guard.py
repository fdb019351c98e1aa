"""Who may use the console's API: open on loopback, the token elsewhere (constant-time
compare), and token buckets that turn a flood or guessing into 429s."""

from __future__ import annotations

import pytest

from installation.controls.web.guard import (
    COMMAND_BURST,
    REFUSAL_BURST,
    Guard,
    Limiter,
    local_host,
    loopback,
    new_token,
)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize(("host", "alone"), [
    ("127.0.0.1", True), ("127.4.5.6", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("gallery-pc", False),
])
def test_only_loopback_addresses_are_private(host: str, alone: bool) -> None:
    assert loopback(host) is alone


def test_on_loopback_anyone_is_admitted() -> None:
    guard = Guard(None)
    assert all(guard.check("127.0.0.1", given) is None for given in (None, "", "x" * 40))


def test_off_loopback_only_the_token_is_admitted() -> None:
    token = new_token()
    assert len(token) >= 16 and token != new_token()
    guard = Guard(token, Clock())
    assert guard.check("10.0.0.2", token) is None
    for wrong in (None, "", token[:-1], token + "x", token.upper() if token.lower() == token
                  else token.lower(), "é" * 22):
        assert guard.check("10.0.0.3", wrong) == 401, wrong


def test_guessing_is_cut_to_429s_per_client_and_the_token_still_works() -> None:
    clock = Clock()
    token = new_token()
    guard = Guard(token, clock)
    answers = [guard.check("10.0.0.9", "guess") for _ in range(REFUSAL_BURST + 5)]
    assert answers[:REFUSAL_BURST] == [401] * REFUSAL_BURST
    assert set(answers[REFUSAL_BURST:]) == {429}
    # The right token is never locked out (guessers behind the operator's NAT) ...
    assert guard.check("10.0.0.9", token) is None
    # ... and the cut-off client's wrong guesses are 401s again after a while.
    clock.t += 1.0  # one refusal a second comes back
    assert guard.check("10.0.0.9", "guess") == 401
    assert guard.check("10.0.0.9", "guess") == 429


@pytest.mark.parametrize(("header", "local"), [
    (None, True), ("localhost:8321", True), ("127.0.0.1:8321", True), ("127.0.0.1", True),
    ("[::1]:8321", True), ("LOCALHOST", True),
    ("evil.example:8321", False), ("evil.example", False), ("10.0.0.2:8321", False),
    ("[::]:8321", False), ("127.0.0.1.evil.example", False),
])
def test_on_loopback_only_loopback_names_are_served(header: str | None, local: bool) -> None:
    assert local_host(header) is local


def test_commands_are_rate_limited_per_client() -> None:
    clock = Clock()
    limiter = Limiter(rate=20.0, burst=COMMAND_BURST, clock=clock)
    allowed = sum(limiter.allow("a") for _ in range(COMMAND_BURST * 3))
    assert allowed == COMMAND_BURST
    assert limiter.allow("b")  # its own bucket
    clock.t += 0.5  # 10 more at 20 a second
    assert sum(limiter.allow("a") for _ in range(50)) == 10
    assert limiter.left("c") and limiter.left("c")  # looking spends nothing
