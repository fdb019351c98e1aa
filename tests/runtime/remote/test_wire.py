"""What both sides of the remote engine name alike."""

from __future__ import annotations

import numpy as np
import pytest

from installation.errors import UserError
from installation.runtime.remote.wire import batched, parse_url, served_name, unbatched


@pytest.mark.parametrize(("url", "server"), [
    ("10.0.0.5:8001", "10.0.0.5:8001"), ("grpc://gpu-box:8001", "gpu-box:8001"),
    (" localhost:9 ", "localhost:9"), ("[::1]:8001", "[::1]:8001"),
])
def test_server_addresses(url: str, server: str) -> None:
    assert parse_url(url) == server


@pytest.mark.parametrize("url", ["gpu-box", "http://gpu-box:8000", "gpu-box:0",
                                 "gpu-box:70000", "a b:1", ":8001", "gpu-box:80a"])
def test_bad_addresses_are_refused_in_one_line(url: str) -> None:
    with pytest.raises(UserError, match="HOST:PORT") as err:
        parse_url(url)
    assert "\n" not in str(err.value)


def test_names_and_the_batch_axis() -> None:
    assert served_name("fast-dream:ripples") == "fast-dream.ripples"
    assert served_name("multistyle26") == "multistyle26"
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    wire = batched(a)
    assert wire.shape == (1, 2, 3) and wire.flags.c_contiguous
    np.testing.assert_array_equal(unbatched(wire), a)
    with pytest.raises(ValueError, match="not one request"):
        unbatched(np.zeros((2, 3), np.float32))
