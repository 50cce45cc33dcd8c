"""
Run Foundry's Anvil (fetched from npm, see :mod:`nautilus_ext_testkit.chain.artifacts`) on a
free 127.0.0.1 port.

:class:`AnvilNode` starts the binary (optionally from a dumped state, which loads in
milliseconds), waits until it answers JSON-RPC, exposes the Anvil-only RPCs the tests use
(snapshots, time travel, mining control, balance setting, state dump) and stops the process.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from typing import Final

from nautilus_ext_testkit.chain.artifacts import ChainToolingError
from nautilus_ext_testkit.chain.artifacts import anvil_binary

CHAIN_ID: Final[int] = 31337
_START_TIMEOUT_S: Final[float] = 20.0
_PR_SET_PDEATHSIG: Final[int] = 1


def _die_with_parent() -> None:
    # Linux: Anvil gets SIGTERM when the test process dies, even by SIGKILL (no orphan nodes)
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AnvilNode:
    """
    One Anvil process on 127.0.0.1.

    Parameters
    ----------
    load_state : Path, optional
        A state file written by :meth:`dump_state` to start from.
    block_time : int, optional
        Seconds between interval-mined blocks; ``None`` mines each transaction at once.
    """

    def __init__(self, *, load_state: Path | None = None, block_time: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [
            str(anvil_binary()),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chain-id",
            str(CHAIN_ID),
            "--accounts",
            "10",
            "--balance",
            "1000000",
            "--gas-limit",
            "60000000",
            "--code-size-limit",
            "100000",
            "--silent",
        ]
        if load_state is not None:
            args += ["--load-state", str(load_state)]
        if block_time is not None:
            args += ["--block-time", str(block_time)]
        started = time.perf_counter()
        self._process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent
        )
        self._wait_ready()
        self.start_seconds = time.perf_counter() - started

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + _START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise ChainToolingError(f"anvil exited with {self._process.returncode}: {err[-600:]}")
            try:
                self.rpc("eth_chainId")
                return
            except (OSError, urllib.error.URLError):
                time.sleep(0.02)
        self.stop()
        raise ChainToolingError(f"anvil did not answer on {self.url} within {_START_TIMEOUT_S} s")

    def rpc(self, method: str, *params: Any) -> Any:
        """Call one JSON-RPC method and return its result (raise on an RPC error)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = json.loads(response.read())
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process.poll() is None

    def snapshot(self) -> int:
        """``evm_snapshot``: the id of the current state."""
        return int(self.rpc("evm_snapshot"), 16)

    def revert(self, snapshot_id: int) -> None:
        """``evm_revert`` (Anvil drops the snapshot and every later one)."""
        if not self.rpc("evm_revert", hex(snapshot_id)):
            raise RuntimeError(f"anvil has no snapshot {snapshot_id}")

    def increase_time(self, seconds: int) -> None:
        """Move the clock forward and mine one block at the new time."""
        self.rpc("evm_increaseTime", hex(seconds))
        self.rpc("evm_mine")

    def set_automine(self, enabled: bool) -> None:
        """Mine each transaction at once (``True``) or leave them in the pool (``False``)."""
        self.rpc("evm_setAutomine", enabled)

    def mine(self, blocks: int = 1) -> None:
        """Mine ``blocks`` blocks now."""
        self.rpc("anvil_mine", hex(blocks))

    def dump_state(self, path: Path) -> None:
        """Write the whole chain state to ``path`` in the format ``--load-state`` reads."""
        raw = self.rpc("anvil_dumpState")
        data = gzip.decompress(bytes.fromhex(raw.removeprefix("0x")))
        partial = path.with_suffix(f".{os.getpid()}.partial")  # concurrent sessions never share one
        partial.write_bytes(data)
        partial.rename(path)

    def stop(self) -> None:
        """Terminate the process (idempotent)."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stderr is not None:
            self._process.stderr.close()


__all__ = ["CHAIN_ID", "AnvilNode", "free_port"]
