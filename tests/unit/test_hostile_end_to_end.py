"""Hostile payloads end to end: per exchange, a real client against a loopback proxy in front
of the emulator that serves a NaN book level and a deeply nested body."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import exchanges
from exchanges.emulator import Emulator
from exchanges.retry import RetryPolicy
from tests.unit.hostile_bodies import DEEP, Venue, refused, venues

# -- end to end: a real client against a loopback proxy in front of the emulator ---------------


class Tamper(BaseHTTPRequestHandler):
    """Forwards to the emulator; answers ``replace[path]`` instead for the paths it names."""

    target: tuple[str, int]
    replace: dict[str, tuple[int, bytes]]

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in self.replace:
            status, body = self.replace[path]
            headers = [("Content-Type", "application/json")]
        else:
            upstream = http.client.HTTPConnection(*self.target, timeout=10)
            upstream.request("GET", self.path, headers={"Accept": "application/json"})
            answer = upstream.getresponse()
            status, body = answer.status, answer.read()
            headers = [
                (k, v)
                for k, v in answer.getheaders()
                if k.lower() not in ("content-length", "transfer-encoding", "connection")
            ]
            upstream.close()
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def tampering(emulator: Emulator, replace: dict[str, tuple[int, bytes]]) -> Iterator[str]:
    url = urlsplit(emulator.base_url)
    assert url.hostname is not None and url.port is not None
    handler = type("Handler", (Tamper,), {"target": (url.hostname, url.port), "replace": replace})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@venues
def test_a_real_client_refuses_a_nan_book_level_and_a_deep_body(venue: Venue) -> None:
    nan_book = venue.book_body(venue.row('"NaN"', '"1"'), venue.row('"65000.5"', '"1"'))
    replace: dict[str, tuple[int, bytes]] = {}
    with (
        Emulator(venue.name, seed=7) as emulator,
        tampering(emulator, replace) as base_url,
        exchanges.connect(
            venue.name, base_url=base_url, retry=RetryPolicy(attempts=2, initial_wait=0.01)
        ) as client,
    ):
        assert client.fetch_order_book(venue.symbol, 5).bids  # through the proxy, untouched
        replace[venue.book_path] = (200, nan_book.encode())
        err = refused(venue, lambda: client.fetch_order_book(venue.symbol, 5))
        assert "NaN" in err.message
        replace[venue.book_path] = (200, DEEP)
        err = refused(venue, lambda: client.fetch_order_book(venue.symbol, 5))
        assert "not JSON" in err.message and err.http_status == 200
        replace[venue.book_path] = (200, venue.book_body(venue.row("65000.1", "0.3"), "").encode())
        floats = client.fetch_order_book(venue.symbol, 5)
        assert [(str(p), str(s)) for p, s in floats.bids] == [("65000.1", "0.3")]
