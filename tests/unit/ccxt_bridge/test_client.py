"""Building the bridge's ccxt client: lazy import, numbers, environments, URLs, keys, logging."""

from __future__ import annotations

import logging
import subprocess
import sys
from decimal import Decimal
from typing import Any, ClassVar

import ccxt
import pytest

import exchanges
from adapters.ccxt_bridge import client as build
from adapters.ccxt_bridge.adapter import CcxtAdapter
from adapters.ccxt_bridge.errors import Scrubber
from exchanges.errors import NotSupported

KEY, SECRET, PASSPHRASE = "fake-key-0123456789", "fake-secret-abcdef", "fake-passphrase-1"
CREDS = exchanges.Credentials(KEY, SECRET, passphrase=PASSPHRASE)
BASE = "http://127.0.0.1:9"


def make(ccxt_id: str, env: str = "mainnet", base_url: str | None = BASE, **kw: Any) -> Any:
    return build.build_client(
        ccxt,
        ccxt_id,
        env=env,
        base_url=base_url,
        credentials=kw.pop("credentials", CREDS),
        timeout=kw.pop("timeout", 10.0),
        recv_window_ms=kw.pop("recv_window_ms", 5000),
        config=kw.pop("config", {}),
        options=kw.pop("options", {}),
        scrub=Scrubber([CREDS]),
        **kw,
    )


# -- lazy import and the missing extra (fresh interpreters) -----------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_importing_and_native_connect_do_not_import_ccxt() -> None:
    done = run_python(
        "import sys, exchanges\n"
        "assert 'ccxt' not in sys.modules\n"
        "exchanges.connect('bybit').close()\n"
        "assert 'ccxt' not in sys.modules, 'connect(bybit) imported ccxt'\n"
        "assert not [m for m in sys.modules if m.startswith('ccxt')]\n"
    )
    assert done.returncode == 0, done.stderr


def test_missing_ccxt_is_not_supported_naming_the_extra() -> None:
    done = run_python(
        "import sys\n"
        "sys.modules['ccxt'] = None  # as if ccxt were not installed\n"
        "import exchanges\n"
        "for connect in (exchanges.connect, exchanges.connect_async):\n"
        "    try:\n"
        "        connect('ccxt:bybit')\n"
        "    except exchanges.NotSupported as err:\n"
        "        assert 'pip install \"exchanges[ccxt]\"' in err.hint, err.hint\n"
        "        assert 'ccxt' in err.message\n"
        "    else:\n"
        "        raise AssertionError('no NotSupported')\n"
        "print('ok')\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# -- the adapter's options --------------------------------------------------------------------


def test_unknown_ids_options_and_verbose_are_refused() -> None:
    with pytest.raises(NotSupported, match="no exchange 'nosuchexchange'"):
        exchanges.connect("ccxt:nosuchexchange")
    with pytest.raises(NotSupported):
        CcxtAdapter(options={})
    with pytest.raises(TypeError, match="region"):
        exchanges.connect("ccxt:bybit", region="nl")
    with pytest.raises(ValueError, match="verbose"):
        exchanges.connect("ccxt:bybit", ccxt_config={"verbose": True})
    with pytest.raises(ValueError, match="ccxt_numbers"):
        exchanges.connect("ccxt:bybit", ccxt_numbers="str")
    with pytest.raises(ValueError, match="environment"):
        exchanges.connect("ccxt:bybit", env="staging")


def test_name_env_prefix_and_repr() -> None:
    adapter = CcxtAdapter(env="testnet", options={"ccxt_id": "kraken"})
    assert (adapter.name, adapter.env_prefix()) == ("kraken", "KRAKEN_TESTNET")
    assert CcxtAdapter(options={"ccxt_id": "bybit"}).env_prefix() == "BYBIT"
    with exchanges.connect("ccxt:bybit", base_url=BASE, credentials=CREDS) as client:
        assert repr(client) == f"<CcxtExchange bybit env=mainnet base_url={BASE} key=fake…6789>"
        assert client.ccxt.apiKey == KEY  # type: ignore[attr-defined]


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "env-key-0123456789")
    monkeypatch.setenv("KRAKEN_API_SECRET", "env-secret-0123456789")
    with exchanges.connect("ccxt:kraken", base_url=BASE) as client:
        assert client.ccxt.apiKey == "env-key-0123456789"  # type: ignore[attr-defined]


# -- environments and URLs --------------------------------------------------------------------


def test_testnet_is_sandbox_mode_then_base_url() -> None:
    bybit = make("bybit", "testnet")
    assert bybit.isSandboxModeEnabled is True
    assert set(build.api_urls(bybit)) == {BASE}
    real = make("bybit", "testnet", base_url=None)
    assert all("testnet" in url for url in build.api_urls(real))


def test_demo_is_demo_trading() -> None:
    bybit = make("bybit", "demo", base_url=None)
    assert bybit.options["enableDemoTrading"] is True
    assert all("api-demo" in url for url in build.api_urls(bybit))
    binance = make("binance", "demo", base_url=None)
    assert binance.options["enableDemoTrading"] is True
    assert "demo" in binance.urls["api"]["public"]


def test_okx_demo_is_its_sandbox_and_it_has_no_testnet() -> None:
    okx = make("okx", "demo")
    assert okx.headers["x-simulated-trading"] == "1"
    assert build.api_urls(okx) == [BASE]
    with pytest.raises(NotSupported, match="no testnet") as caught:
        make("okx", "testnet")
    assert caught.value.hint == "Connect with env='demo'."


def test_environments_an_exchange_lacks_are_not_supported() -> None:
    with pytest.raises(NotSupported, match="no sandbox"):
        make("kraken", "testnet")
    with pytest.raises(NotSupported, match="no demo trading"):
        make("kraken", "demo")
    with pytest.raises(NotSupported, match="no sandbox"):
        exchanges.connect("ccxt:kraken", env="testnet", base_url=BASE)


def test_rewrite_keeps_each_entrys_path() -> None:
    class Fake:
        urls: ClassVar[dict[str, Any]] = {
            "api": {
                "public": "https://api.binance.com/api/v3",
                "sapi": "https://api.binance.com/sapi/v1/",
                "fapi": "https://fapi.binance.com/fapi/v1?x=1",
                "nested": {"rest": "https://api.{hostname}", "list": ["http://a.b/c"]},
                "ws": "wss://stream.binance.com:9443/ws",
                "port": 5,
            }
        }

    fake = Fake()
    build.rewrite_urls(fake, BASE + "/")
    assert fake.urls["api"] == {
        "public": f"{BASE}/api/v3",
        "sapi": f"{BASE}/sapi/v1/",
        "fapi": f"{BASE}/fapi/v1?x=1",
        "nested": {"rest": BASE, "list": [f"{BASE}/c"]},
        "ws": "wss://stream.binance.com:9443/ws",
        "port": 5,
    }
    binance = make("binance")
    assert binance.urls["api"]["fapiPrivateV3"] == f"{BASE}/fapi/v3"
    assert all(url.startswith(BASE) for url in build.api_urls(binance) if url.startswith("http"))


# -- credentials, timeout, options ------------------------------------------------------------


def test_credentials_map_to_ccxts_fields() -> None:
    assert build.credential_config(CREDS) == {
        "apiKey": KEY,
        "secret": SECRET,
        "password": PASSPHRASE,
    }
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )

    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        .decode()
    )
    # ccxt expects the PEM in `secret` (it picks RSA or Ed25519 from it).
    assert build.credential_config(exchanges.Credentials("k" * 12, private_key=pem)) == {
        "apiKey": "k" * 12,
        "secret": pem,
    }


def test_timeout_recv_window_and_options() -> None:
    bybit = make("bybit", timeout=2.5, recv_window_ms=7000, options={"defaultType": "swap"})
    assert (bybit.timeout, bybit.options["recvWindow"]) == (2500, 7000)
    assert bybit.options["defaultType"] == "swap"
    kept = make("bybit", options={"recvWindow": 9000})
    assert kept.options["recvWindow"] == 9000
    binance = make("binance")
    assert binance.options["fetchOpenOrders"]["warnWithoutSymbol"] is False
    assert isinstance(binance.logger, build.CcxtLog)
    plain = make("bybit", decimal_numbers=False)
    assert type(plain) is ccxt.bybit


# -- Decimal numbers --------------------------------------------------------------------------


def test_bridged_class_parses_decimals_and_reads_them_back() -> None:
    cls = build.bridged_class(ccxt.bybit)
    assert build.bridged_class(ccxt.bybit) is cls and issubclass(cls, ccxt.bybit)
    client = cls()
    assert client.parse_number("0.10") == Decimal("0.10")
    assert client.parse_number(0.1) == Decimal("0.1")
    assert client.parse_number("oops") is None
    parsed = {"cost": Decimal("0.19249890"), "tiny": Decimal("1E-8"), "n": None}
    # ccxt's own accessors drop Decimals (only str, int, float pass): the bridge's read them.
    assert ccxt.bybit.safe_string(parsed, "cost") is None
    assert client.safe_string(parsed, "cost") == "0.19249890"
    assert client.safe_string(parsed, "tiny") == "0.00000001"
    assert client.safe_string_2(parsed, "n", "cost") == "0.19249890"
    assert client.safe_string_n(parsed, ["n", "tiny"]) == "0.00000001"
    assert client.safe_string_lower([Decimal("2.5")], 0) == "2.5"
    assert client.safe_number(parsed, "cost") == Decimal("0.19249890")
    assert parsed["cost"] == Decimal("0.19249890")  # the caller's dict is not changed
    assert client.sum(1, 2.5) == 3.5
    assert client.sum(Decimal("0.1"), 0.2, None, 3) == Decimal("3.3")
    assert (
        client.json({"qty": Decimal("1E-7"), "n": [Decimal("2")]})
        == '{"qty":"0.0000001","n":["2"]}'
    )
    level = client.parse_order_book_bid_ask(["64999.98", "0.216046"])
    assert level == [Decimal("64999.98"), Decimal("0.216046")]


def test_exchanges_with_their_own_level_parser_keep_it() -> None:
    kraken = build.bridged_class(ccxt.kraken)()
    assert "parse_order_book_bid_ask" not in vars(type(kraken))
    assert kraken.parse_order_book_bid_ask(["1.5", "2", 7]) == [Decimal("1.5"), Decimal(2), 7]


# -- logging ----------------------------------------------------------------------------------


def test_ccxts_request_log_loses_headers_and_bodies(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="exchanges.ccxt_bridge")
    log = build.CcxtLog(Scrubber([CREDS]))
    headers = {"OK-ACCESS-KEY": KEY, "OK-ACCESS-PASSPHRASE": PASSPHRASE, "OK-ACCESS-SIGN": "s1g"}
    url = f"{BASE}/api/v3/order?timestamp=1&signature=abcdef0123456789"
    log.debug("%s %s, Request: %s %s", "POST", url, headers, f'{{"secret":"{SECRET}"}}')
    log.debug("%s %s, Response: %s %s %s", "POST", url, 200, headers, "{}")
    log.warning("bybit requires to release all resources: %s", SECRET)
    log.info("unformattable %d", "x")
    log.error("plain")
    log.exception("failed")
    log.critical("worse")
    assert log.isEnabledFor(logging.DEBUG)
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == f"ccxt POST {BASE}/api/v3/order?timestamp=1&signature=<redacted>"
    assert messages[1].endswith("-> 200")
    text = "\n".join(messages)
    for needle in (KEY, PASSPHRASE, SECRET, "s1g", "abcdef0123456789"):
        assert needle not in text
    assert "unformattable %d x" in text
