"""A network sent to the serving engine, with the local engine's copy beside it.

Each call goes to the server while the link is up and this network passed its check
there (the server runs the same model file: its sha256 in the served model's config).
A call that finds the server gone, or misses its deadline while no other call came back
meanwhile, takes the link down and is run locally at once, so the frame is not lost. A
call that misses its deadline while others came back says this network is slow there (a
heavy live dream), not the server gone: it alone runs locally. So does a network the
server does not host, hosts from another file, or fails to run; each asks again every
RETRY_S (said once per reason), and the other networks go on being sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from installation.models import sha256_file
from installation.runtime.network import EngineName, Network, Port, Precision
from installation.runtime.remote.link import RemoteLink, late, link_error, short_error
from installation.runtime.remote.wire import (
    CLIENT,
    NOT_HOSTED,
    SHA256,
    batched,
    input_name,
    output_name,
    served_name,
    unbatched,
)

if TYPE_CHECKING:
    from tritonclient.grpc import InferenceServerClient

log = logging.getLogger(__name__)

RETRY_S = 30.0  # a network refused there (not hosted, another file, failed) asks again, s
MIN_LEFT_S = 0.02  # the least a call is given of its deadline after its check, s
LINK_DOWN = "the server did not answer"  # _ask: the link fell, nothing learned



class ServedNetwork:
    """`local` (any engine), run on the server behind `link` whenever it can be."""

    def __init__(self, local: Network, link: RemoteLink, path: Path) -> None:
        self.local = local
        self.link = link
        self.name = local.name
        self.engine: EngineName = local.engine
        self.precision: Precision = local.precision
        self.inputs: list[Port] = local.inputs
        self.outputs: list[Port] = local.outputs
        self.served = served_name(local.name)
        self.sha256 = sha256_file(path)
        self.remote_calls = 0
        self.local_calls = 0
        self._lock = threading.Lock()
        self._client: InferenceServerClient | None = None
        self._epoch: int | None = -1  # the link's epoch this network was last checked in
        self._refused: str | None = None  # why the server's copy is not used this epoch
        self._retry_at = 0.0  # monotonic s: a refused network asks the server again then
        self._said: str | None = None  # the last refusal said in the log

    @property
    def metadata(self) -> dict[str, str]:
        return self.local.metadata

    def describe(self) -> str:
        return f"{self.local.describe()}; sent to the serving engine at {self.link.server}"

    def run(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        t0, started = time.perf_counter(), time.monotonic()
        epoch = self.link.current()
        client = None
        if epoch is not None:
            try:
                client = self._checked(epoch)
            except Exception as exc:  # a client that cannot even be made: not this frame
                self.link.failed(f"{self.name}: {short_error(exc)}", epoch)
        if client is not None:
            # One deadline for the whole call, its check included: then the local run.
            left_s = max(MIN_LEFT_S, self.link.deadline_s - (time.perf_counter() - t0))
            try:
                out = self._remote(client, feeds, left_s)
            except Exception as exc:
                if late(exc) and self.link.answered_since(started):
                    # Late while the server answered other calls: this network is slow
                    # there (a heavy live dream), not the server gone; it alone is local.
                    ms = self.link.deadline_s * 1000.0
                    self._refuse(epoch, f"it was late there (over the {ms:.0f} ms deadline) "
                                 "while the server answered others")
                elif link_error(exc):  # the server is gone or late: every network local
                    self.link.failed(f"{self.name}: {short_error(exc)}", epoch)
                else:  # this network failed there: it alone runs locally for a while
                    self._refuse(epoch, f"it failed there ({short_error(exc)})")
            else:
                self.link.answered((time.perf_counter() - t0) * 1000.0)
                self.remote_calls += 1
                if self._said is not None:  # served again: a later refusal is news again
                    self._said = None
                    self.link.refused(self, self.name, None)
                return out
        self.local_calls += 1
        self.link.ran_locally()
        return self.local.run(feeds)

    def close(self) -> None:
        """Its client is the link's to close (RemoteLink.close)."""
        with self._lock:
            if self._client is not None:
                self.link.retire(self._client)
            self._client = None

    def _checked(self, epoch: int) -> InferenceServerClient | None:
        """The client to call the server with in `epoch`, or None when this network's
        copy there may not be used now. Asked once per epoch (a server that came back may
        host other files), and again every RETRY_S while refused. While one thread asks,
        the others sharing the network run locally: nobody waits for another's check."""
        # Checked already (the usual case): no lock. The check writes `_epoch` last.
        if epoch == self._epoch:
            refused, client = self._refused, self._client
            if refused is None:
                return client
            if time.monotonic() < self._retry_at:
                self.link.refused(self, self.name, refused)  # still so (HUD, /health)
                return None
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if epoch == self._epoch and (self._refused is None
                                         or time.monotonic() < self._retry_at):
                return self._client if self._refused is None else None
            if self.link.current() != epoch:  # it fell meanwhile
                return None
            if epoch != self._epoch or self._client is None:
                if self._client is not None:
                    self.link.retire(self._client)  # a call on it may still be running
                self._client = self.link.client()  # a fresh channel for a (re)turned server
            refused = self._ask(self._client, epoch)
            if refused == LINK_DOWN:
                return None  # not checked: asked again in the next epoch
            self._refused, self._retry_at = refused, time.monotonic() + RETRY_S
            self._epoch = epoch  # last: a reader without the lock sees the rest with it
            client = self._client
        finally:
            self._lock.release()
        if refused is not None:
            self._say(refused)
            return None
        return client

    def _ask(self, client: InferenceServerClient, epoch: int) -> str | None:
        """Why the server's copy may not be used (None: it may; LINK_DOWN: the server
        did not answer, and the link fell)."""
        try:
            config: dict[str, Any] = client.get_model_config(
                self.served, as_json=True, client_timeout=self.link.deadline_s)
        except Exception as exc:
            if link_error(exc):
                self.link.failed(f"{self.name}: {short_error(exc)}", epoch)
                return LINK_DOWN
            return f"{NOT_HOSTED} ({short_error(exc)})"
        params = config.get("config", {}).get("parameters", {})
        theirs = params.get(SHA256, {}).get("string_value", "")
        if theirs == self.sha256:
            return None
        return (f"the server runs another file (sha256 {theirs[:12] or 'unknown'}, here "
                f"{self.sha256[:12]})")

    def _refuse(self, epoch: int | None, why: str) -> None:
        """This network runs locally for RETRY_S (said once), the others go on."""
        with self._lock:
            if self._epoch != epoch or self._refused is not None:
                return
            self._retry_at = time.monotonic() + RETRY_S
            self._refused = why  # after its time: a reader without the lock sees both
        self._say(why)

    def _say(self, why: str) -> None:
        """A refusal in the log: once as a warning, again (every RETRY_S) only when the
        reason changed; and in the link's state (HUD, /health) while it lasts."""
        self.link.refused(self, self.name, why)
        if why == self._said:
            log.debug("%s still runs locally: %s", self.name, why)
            return
        self._said = why
        log.warning("%s runs locally (asked again every %.0f s): %s", self.name, RETRY_S, why)

    def _remote(self, client: InferenceServerClient, feeds: Mapping[str, np.ndarray],
                deadline_s: float) -> list[np.ndarray]:
        from tritonclient.grpc import InferInput, InferRequestedOutput
        from tritonclient.utils import np_to_triton_dtype

        inputs = []
        for i, port in enumerate(self.inputs):
            a = batched(feeds[port.name])
            tensor = InferInput(input_name(i), list(a.shape), np_to_triton_dtype(a.dtype))
            tensor.set_data_from_numpy(a)
            inputs.append(tensor)
        wanted = [InferRequestedOutput(output_name(i)) for i in range(len(self.outputs))]
        result = client.infer(self.served, inputs, outputs=wanted,
                                    client_timeout=deadline_s,
                                    compression_algorithm=self.link.compression,
                                    parameters={CLIENT: self.link.client_name})
        out = []
        for i in range(len(self.outputs)):
            a = result.as_numpy(output_name(i))
            if a is None:
                raise ValueError(f"the server's answer has no {output_name(i)}")
            out.append(np.array(unbatched(a)))  # writable, as an engine's own outputs are
        return out
