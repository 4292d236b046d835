"""A throwaway ``redis-server`` on a free loopback port: for tests, benchmarks and trying fleets.

It runs the real server binary (``apt-get install -y redis-server``, ``brew install redis``),
without persistence, bound to 127.0.0.1, and stops it on ``stop()`` or at the end of a ``with``.
``LocalCluster`` starts three of them as one Redis Cluster (each a master of a third of the
16384 hash slots, no replicas), formed with ``CLUSTER ADDSLOTS`` and ``CLUSTER MEET`` (commands
and flags of Redis 6 as well as 7, so it runs on whatever ``redis-server`` the system has).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["LocalCluster", "RedisServer", "command", "find_binary", "free_port", "ping"]

#: How long a starting server may take to answer PING.
START_TIMEOUT = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _free_pair() -> int:
    """A free port whose cluster bus port (+10000) is free too."""
    for _ in range(200):
        port = free_port()
        if port + 10000 > 65535:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + 10000))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports (port, port + 10000) on 127.0.0.1")


def ping(port: int) -> bool:
    """True when a server on ``port`` answers PING with PONG (raw RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def command(port: int, *args: str | int) -> bytes:
    """Send one command to the server on ``port`` (raw RESP) and return its reply's payload.

    For setting servers up without a client library: a simple string or integer reply comes back
    as its text, a bulk string as its bytes; an error reply raises ``RuntimeError``.
    """
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"".join(parts))
        reply = sock.makefile("rb")
        line = reply.readline()
        if line.startswith(b"-"):
            raise RuntimeError(line[1:].strip().decode(errors="replace"))
        if line.startswith(b"$"):
            size = int(line[1:])
            return reply.read(size + 2)[:size] if size >= 0 else b""
        return line[1:].rstrip(b"\r\n")


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1: started, stopped and restarted on its port."""

    def __init__(
        self, binary: str | None = None, directory: Path | None = None, *, cluster: bool = False
    ) -> None:
        found = binary or find_binary()
        if found is None:
            raise FileNotFoundError(
                "redis-server is not installed (Debian/Ubuntu: apt-get install -y redis-server; "
                "macOS: brew install redis)"
            )
        self.binary = found
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="exchanges-redis-")
            directory = Path(self._scratch.name)
        self.directory = directory
        # A cluster node also listens on its bus port, port + 10000: both must be free.
        self.port = _free_pair() if cluster else free_port()
        self.cluster = cluster
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
        if self.cluster:
            command += [
                "--cluster-enabled", "yes",
                "--cluster-config-file", f"nodes-{self.port}.conf",
            ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start (code {self.process.returncode})")
            if ping(self.port):
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

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        if self._scratch is not None:
            self._scratch.cleanup()

    def flush(self) -> None:
        """Empty every database (between tests sharing the server)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            sock.sendall(b"FLUSHALL\r\n")
            assert sock.recv(64).startswith(b"+OK")


class LocalCluster:
    """Three ``redis-server`` masters on 127.0.0.1 forming one Redis Cluster."""

    def __init__(self, binary: str | None = None, nodes: int = 3) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="exchanges-redis-cluster-")
        directory = Path(self._scratch.name)
        self.nodes = [RedisServer(binary, directory, cluster=True) for _ in range(nodes)]

    @property
    def ports(self) -> list[int]:
        """The nodes' ports."""
        return [node.port for node in self.nodes]

    def start(self) -> None:
        """Start the nodes, share the slots out, join them and wait (bounded) for ``ok``."""
        try:
            for node in self.nodes:
                node.start()
            step = 16384 // len(self.nodes)
            for index, node in enumerate(self.nodes):
                last = 16383 if index == len(self.nodes) - 1 else (index + 1) * step - 1
                command(node.port, "CLUSTER", "ADDSLOTS", *range(index * step, last + 1))
            for node in self.nodes[1:]:
                command(self.nodes[0].port, "CLUSTER", "MEET", "127.0.0.1", node.port)
            deadline = time.monotonic() + START_TIMEOUT
            while not all(
                b"cluster_state:ok" in command(port, "CLUSTER", "INFO") for port in self.ports
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the cluster did not form within {START_TIMEOUT:.0f} s")
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.stop()

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self._scratch.cleanup()

    def flush(self) -> None:
        """Empty every node."""
        for port in self.ports:
            command(port, "FLUSHALL")


def find_binary() -> str | None:
    """The ``redis-server`` on PATH, or None."""
    return shutil.which("redis-server")
