"""OKX's own SDK (python-okx's ``WsPublicAsync``/``WsPrivateAsync``) against the emulator.

The SDK's WebSocket factory always passes a TLS context, so it can only open ``wss://`` URLs:
the test puts a TLS terminator (a self-signed certificate for 127.0.0.1, trusted through
``SSL_CERT_FILE``) in front of the emulator. The SDK runs unchanged; only its URL points at the
emulator. Its private client logs in, waits 5 s without reading the answer, then subscribes
(python-okx 0.4.4, ``WsPrivateAsync.subscribe``).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import exchanges
from exchanges.emulator import Emulator

okx_ws = pytest.importorskip("okx.websocket.WsPrivateAsync")
okx_public = pytest.importorskip("okx.websocket.WsPublicAsync")

pytestmark = pytest.mark.timeout(60)

WAIT = 20.0


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with Emulator("okx", seed=7) as emu:
        yield emu


@pytest.fixture
async def wss(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """``wss://127.0.0.1:<port>`` forwarding to the emulator (TLS ends here)."""
    cert, key = _certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = emulator.server.port

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    async with server:
        yield f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        server.close()


async def _first(inbox: asyncio.Queue[Any], check: Any) -> Any:
    async def scan() -> Any:
        while True:
            message = json.loads(await inbox.get())
            if check(message):
                return message

    return await asyncio.wait_for(scan(), WAIT)


def _collector() -> tuple[asyncio.Queue[str], Any]:
    inbox: asyncio.Queue[str] = asyncio.Queue()

    def callback(message: str) -> None:
        if message != "pong":
            inbox.put_nowait(message)

    return inbox, callback


async def test_sdk_public_client_receives_a_book(wss: str) -> None:
    inbox, callback = _collector()
    client = okx_public.WsPublicAsync(url=f"{wss}/ws/v5/public")
    await client.start()
    try:
        await client.subscribe([{"channel": "books", "instId": "BTC-USDT"}], callback, id="b1")
        ack = await _first(inbox, lambda m: m.get("event") == "subscribe")
        assert ack["id"] == "b1" and ack["arg"] == {"channel": "books", "instId": "BTC-USDT"}
        book = await _first(inbox, lambda m: m.get("arg", {}).get("channel") == "books")
        (item,) = book["data"]
        assert book["action"] == "snapshot" and item["prevSeqId"] == -1
        assert item["checksum"] == 0 and len(item["bids"]) > 0
        assert Decimal(item["bids"][0][0]) < Decimal(item["asks"][0][0])
    finally:
        await client.stop()


async def test_sdk_private_client_receives_a_fill(wss: str, emulator: Emulator) -> None:
    inbox, callback = _collector()
    client = okx_ws.WsPrivateAsync(
        apiKey="test-key",
        passphrase="test-passphrase",
        secretKey="test-secret",
        url=f"{wss}/ws/v5/private",
    )
    await client.start()
    try:
        await client.subscribe([{"channel": "orders", "instType": "ANY"}], callback)
        login = await _first(inbox, lambda m: m.get("event") == "login")
        assert login["code"] == "0"
        await _first(inbox, lambda m: m.get("event") == "subscribe")
        credentials = exchanges.Credentials("test-key", "test-secret", passphrase="test-passphrase")
        async with exchanges.connect_async(
            "okx", base_url=emulator.base_url, credentials=credentials
        ) as ex:
            placed = await ex.create_order("BTC/USDT:USDT", "market", "buy", Decimal("0.05"))
        push = await _first(inbox, lambda m: m.get("arg", {}).get("channel") == "orders")
        (item,) = push["data"]
        assert item["ordId"] == placed.id and item["state"] == "filled"
        assert item["fillSz"] == "5" and item["tradeId"] and item["execType"] == "T"
        assert push["arg"]["uid"] == "1001"
    finally:
        await client.stop()
