"""A real ``redis-server`` on a free loopback port for the fleet tests (no fake, no skip).

The Lua scripts, TTLs and atomicity are what these tests check, so they run against the real
server binary. ``.ci/run`` installs it when it is missing; locally, a missing binary fails the
fixture with the command that installs it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

#: How long a starting server may take to answer PING.
START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(port: int) -> bool:
    """True when a server on ``port`` answers PING with PONG (raw RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1: started, stopped and restarted on its port."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait (bounded) until it answers PING."""
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.directory),
            "--protected-mode", "yes",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start (code {self.process.returncode})")
            if _ping(self.port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer PING within {START_TIMEOUT:.0f} s")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and wait for it."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def flush(self) -> None:
        """Empty every database (between tests sharing the server)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            assert sock.recv(64).startswith(b"+OK")


def _binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        pytest.fail(
            "redis-server is not installed; the fleet tests run against a real one. Install it "
            "(Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`) "
            "or run .ci/run, which installs it.",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One server for the session; tests that stop it use ``private_redis`` instead."""
    with tempfile.TemporaryDirectory(prefix="exchanges-redis-") as directory:
        server = RedisServer(_binary(), Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The shared server's URL, emptied for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A server of this test's own, which it may stop and start again."""
    with tempfile.TemporaryDirectory(prefix="exchanges-redis-") as directory:
        server = RedisServer(_binary(), Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()
