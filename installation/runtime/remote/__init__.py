"""The remote engine: networks sent to an existing serving engine (NVIDIA Triton) over
its own gRPC protocol, each with a local copy that takes over within the call's deadline
(link.py watches the server; network.py is one network; wire.py is what both sides name
alike). The serving side is `installation/serve/`."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from installation.runtime.remote.link import RemoteLink
from installation.runtime.remote.network import ServedNetwork

if TYPE_CHECKING:
    from installation.runtime.device import Device, RuntimeConfig

log = logging.getLogger(__name__)

FIRST_WAIT_S = 2.0  # at start, how long the server has to answer before scenes load, s


def attach_remote(device: Device, cfg: RuntimeConfig) -> Device:
    """`device` sending its networks to `cfg.remote` (unchanged when none is set). Waits
    up to FIRST_WAIT_S for the first answer; a server that is not there yet is said in
    one line and used once it answers."""
    if not cfg.remote:
        return device
    link = RemoteLink(cfg.remote, cfg.remote_deadline_ms, cfg.remote_client,
                      cfg.remote_compression).start()
    if not link.wait_up(FIRST_WAIT_S):
        log.warning("remote engine %s does not answer (%s): the networks run locally "
                    "until it does", link.server, link.state().reason)
    return dataclasses.replace(device, remote=link)


__all__ = ["RemoteLink", "ServedNetwork", "attach_remote"]
