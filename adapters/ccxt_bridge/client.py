"""Building the ccxt client behind ``connect("ccxt:<id>")``: numbers, environment, URLs, keys.

* ccxt is imported here, on first use; a missing package is ``NotSupported`` naming the extra
  to install (``pip install "exchanges[ccxt]"``).
* The client is an instance of a small subclass of ccxt's exchange class (``bridged_class``)
  whose numbers are ``Decimal`` built from the exchange's strings (see ``convert.py``).
* ``env``: ``testnet`` is ccxt's ``set_sandbox_mode(True)`` (the exchange's ``urls['test']``),
  ``demo`` is ``enable_demo_trading(True)`` (``urls['demo']``, or the exchange's own override,
  e.g. Bybit's ``demotrading``). OKX is the exception: its only sandbox is demo trading, which
  ccxt reaches with ``set_sandbox_mode`` (header ``x-simulated-trading: 1``), so OKX's ``demo``
  maps there and it has no ``testnet``. Anything else is ``NotSupported`` with the reason.
* ``base_url`` replaces the scheme and host of every http(s) entry of ``urls['api']``, after the
  environment is applied, and keeps each entry's path (Binance's ``/sapi/v1``, ``/fapi/v1`` …),
  so one base URL serves all of an exchange's API groups, as the emulator does.
* Credentials: ``apiKey``; ``secret`` holds the HMAC secret or the PEM private key (ccxt picks
  RSA or Ed25519 from the PEM itself, as Bybit's and Binance's classes do); ``password`` the
  passphrase (OKX).
* ccxt's logger is replaced: ccxt logs every request's headers (API key, signature, OKX
  passphrase) at DEBUG; the bridge logs method and scrubbed URL only. ``verbose`` (which prints
  the same to stdout) is refused.
"""

from __future__ import annotations

import logging
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from adapters.ccxt_bridge.errors import Scrubber, family_of
from exchanges.async_client import AsyncExchange
from exchanges.client import Exchange
from exchanges.credentials import Credentials
from exchanges.decimals import to_wire
from exchanges.errors import NotSupported

if TYPE_CHECKING:
    from adapters.ccxt_bridge.runner import AsyncRunner, SyncRunner
    from exchanges.adapter import Adapter
    from exchanges.flow import Session

__all__ = [
    "INSTALL_HINT",
    "SANDBOX_IS_DEMO",
    "CcxtAsyncExchange",
    "CcxtExchange",
    "CcxtLog",
    "api_urls",
    "apply_env",
    "bridged_class",
    "build_client",
    "credential_config",
    "exchange_class",
    "load_ccxt",
    "rewrite_urls",
]

INSTALL_HINT = 'Install it with: pip install "exchanges[ccxt]"'

#: ccxt families whose only sandbox is demo trading, reached with set_sandbox_mode.
SANDBOX_IS_DEMO = frozenset({"okx"})

_ORIGIN = re.compile(r"^(?:https?)://[^/?#]*", re.IGNORECASE)


def load_ccxt(asynchronous: bool = False) -> Any:
    """``ccxt`` (or ``ccxt.async_support``), or ``NotSupported`` saying how to install it."""
    try:
        if asynchronous:
            import ccxt.async_support as module
        else:
            import ccxt as module
    except ImportError as exc:
        raise NotSupported(
            f"the ccxt bridge needs the ccxt package ({exc})",
            exchange="ccxt",
            hint=INSTALL_HINT,
        ) from None
    return module


def exchange_class(module: Any, ccxt_id: str) -> type[Any]:
    """ccxt's exchange class for ``ccxt_id``, or ``NotSupported``."""
    known = getattr(module, "exchanges", None) or []
    cls = getattr(module, ccxt_id, None) if ccxt_id in known else None
    if not isinstance(cls, type):
        raise NotSupported(
            f"ccxt has no exchange {ccxt_id!r}",
            exchange=ccxt_id,
            hint="Use one of ccxt's exchange ids (ccxt.exchanges), e.g. 'ccxt:kraken'.",
        )
    return cls


# -- numbers ----------------------------------------------------------------------------------


def _number(value: Any) -> Decimal:
    # ccxt's parse_number hook: its argument is the exchange's string in nearly every path;
    # a float is taken through repr (the shortest text that round-trips it).
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _sum(*args: Any) -> Any:
    # ccxt's sum() adds ints and floats only and would skip Decimals silently.
    numbers = [a for a in args if isinstance(a, int | float | Decimal) and not isinstance(a, bool)]
    if any(isinstance(a, Decimal) for a in numbers):
        return sum((a if isinstance(a, Decimal) else _number(a) for a in numbers), Decimal(0))
    return sum(numbers, 0)


def _text(value: Decimal) -> str:
    # Plain digits, as the exchange would write them: ccxt's Precise reads no exponents.
    return format(value, "f")


def _with_text(container: Any, keys: Any) -> Any:
    """``container`` with the Decimals at ``keys`` turned into strings (a copy when needed)."""
    try:
        if isinstance(container, dict):
            hits = [k for k in keys if type(container.get(k)) is Decimal]
        elif isinstance(container, list):
            size = len(container)
            hits = [k for k in keys if isinstance(k, int) and 0 <= k < size]
            hits = [k for k in hits if type(container[k]) is Decimal]
        else:
            return container
    except TypeError:  # an unhashable key: ccxt's own accessor will say what it makes of it
        return container
    if not hits:
        return container
    copy: Any = dict(container) if isinstance(container, dict) else list(container)
    for key in hits:
        copy[key] = _text(copy[key])
    return copy


def _reading_decimals(base: Any, arity: int | None) -> Any:
    """ccxt's ``safe_string*`` accessor ``base``, also reading Decimals (as their digits).

    ccxt's accessors accept only str, int and float (its code has ``# or t is Decimal`` in a
    comment): without this, re-reading a parsed number (fee costs, trades inside orders) would
    silently give None. ``arity`` is the number of key arguments, None for a key list.
    """

    def accessor(container: Any, *args: Any) -> Any:
        keys = args[0] if arity is None else args[:arity]
        return base(_with_text(container, keys), *args)

    return staticmethod(accessor)


_ACCESSORS: dict[str, int | None] = {
    "safe_string": 1,
    "safe_string_lower": 1,
    "safe_string_upper": 1,
    "safe_string_2": 2,
    "safe_string_lower_2": 2,
    "safe_string_upper_2": 2,
    "safe_string_n": None,
    "safe_string_lower_n": None,
    "safe_string_upper_n": None,
}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return to_wire(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def bridged_class(cls: type[Any]) -> type[Any]:
    """The bridge's subclass of ``cls`` (made once per class)."""
    made = _BRIDGED.get(cls)
    if made is None:
        made = _BRIDGED[cls] = _bridge(cls)
    return made


_BRIDGED: dict[type[Any], type[Any]] = {}


def _bridge(cls: type[Any]) -> type[Any]:
    """``cls`` with ``Decimal`` numbers.

    ccxt's ``number`` hook parses with ``Decimal``; its accessors read Decimals back; its base
    order-book parser keeps strings; ``sum`` adds Decimals; JSON bodies write them plainly.
    """
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"ccxt's {cls.__name__} with Decimal numbers (the ccxt bridge's client).",
        "number": staticmethod(_number),
        "sum": staticmethod(_sum),
    }
    for accessor, arity in _ACCESSORS.items():
        namespace[accessor] = _reading_decimals(getattr(cls, accessor), arity)
    base_json = cls.json

    def json(data: Any, params: Any = None) -> Any:
        # A parsed Decimal that ccxt puts into a JSON body is sent as its plain digits.
        return base_json(_plain(data), params)

    namespace["json"] = staticmethod(json)
    base_bid_ask = _base_attr(cls, "parse_order_book_bid_ask")
    if base_bid_ask is not None and cls.parse_order_book_bid_ask is base_bid_ask:
        # ccxt's base parser reads levels with safe_float; this one keeps the strings.
        # (Exchanges that override it, kraken and mexc, already use safe_number.)
        namespace["parse_order_book_bid_ask"] = _bid_ask
    return type(f"Bridged{cls.__name__}", (cls,), namespace)


def _base_attr(cls: type[Any], name: str) -> Any:
    for klass in reversed(cls.__mro__):
        if name in vars(klass):
            return vars(klass)[name]
    return None


def _bid_ask(
    self: Any, bidask: Any, priceKey: Any = 0, amountKey: Any = 1, countOrIdKey: Any = 2
) -> list[Any]:
    level = [self.safe_number(bidask, priceKey), self.safe_number(bidask, amountKey)]
    count = self.safe_integer(bidask, countOrIdKey)
    if count is not None:
        level.append(count)
    return level


# -- environment, URLs, credentials -----------------------------------------------------------


def apply_env(client: Any, env: str) -> None:
    """Switch ``client`` to ``env`` with ccxt's own switches, or raise ``NotSupported``."""
    if env == "mainnet":
        return
    ccxt_id = str(client.id)
    urls = client.urls
    sandbox_is_demo = family_of(type(client)) in SANDBOX_IS_DEMO
    if env == "testnet":
        if sandbox_is_demo:
            raise NotSupported(
                f"{ccxt_id} has no testnet; its sandbox is demo trading",
                exchange=ccxt_id,
                hint="Connect with env='demo'.",
            )
        if not urls.get("test"):
            # Every ccxt class has the key; those without a sandbox hold None (kraken).
            raise NotSupported(
                f"ccxt's {ccxt_id} has no sandbox (testnet) URL",
                exchange=ccxt_id,
                hint="Use env='mainnet', or base_url= to point it at a test server.",
            )
        client.set_sandbox_mode(True)
        return
    if env == "demo":
        if sandbox_is_demo and urls.get("test"):
            client.set_sandbox_mode(True)
            return
        base = _base_attr(type(client), "enable_demo_trading")
        overridden = type(client).enable_demo_trading is not base
        if not urls.get("demo") and not overridden:
            raise NotSupported(
                f"ccxt's {ccxt_id} has no demo trading",
                exchange=ccxt_id,
                hint="Use env='mainnet' or env='testnet', or base_url= for a test server.",
            )
        client.enable_demo_trading(True)
        return
    raise ValueError(f"unknown environment {env!r}")


def _rewrite(value: Any, base: str) -> Any:
    if isinstance(value, str):
        # {hostname} placeholders live in the host part, which is replaced whole.
        match = _ORIGIN.match(value)
        return base + value[match.end() :] if match else value
    if isinstance(value, dict):
        return {key: _rewrite(item, base) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, base) for item in value]
    return value


def rewrite_urls(client: Any, base_url: str) -> None:
    """Point every http(s) entry of ``client.urls['api']`` at ``base_url``, keeping its path."""
    client.urls["api"] = _rewrite(client.urls["api"], base_url.rstrip("/"))


def api_urls(client: Any) -> list[str]:
    """Every URL of ``client.urls['api']`` (nested groups flattened)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(client.urls["api"])
    return found


def credential_config(credentials: Credentials) -> dict[str, str]:
    """ccxt's credential fields: apiKey, secret (HMAC secret or PEM), password (passphrase)."""
    config = {"apiKey": credentials.api_key}
    key = credentials.private_key or credentials.secret
    if key is not None:
        config["secret"] = key.reveal()
    if credentials.passphrase is not None:
        config["password"] = credentials.passphrase.reveal()
    return config


class CcxtLog:
    """Stands in for ccxt's logger: request and response lines keep method, URL and status only.

    ccxt logs ``"%s %s, Request: %s %s"`` (method, url, headers, body) and the response with its
    headers and body at DEBUG; headers carry the API key, the signature and OKX's passphrase.
    """

    def __init__(self, scrub: Scrubber, name: str = "exchanges.ccxt_bridge") -> None:
        self._log = logging.getLogger(name)
        self._scrub = scrub

    def isEnabledFor(self, level: int) -> bool:
        """Whether ``level`` is logged."""
        return self._log.isEnabledFor(level)

    def _emit(self, level: int, msg: Any, args: tuple[Any, ...]) -> None:
        if not self._log.isEnabledFor(level):
            return
        text = str(msg)
        if ("Request:" in text or "Response:" in text) and len(args) >= 2:
            status = f" -> {args[2]}" if "Response:" in text and len(args) >= 3 else ""
            self._log.log(level, "ccxt %s %s%s", args[0], self._scrub(str(args[1])), status)
            return
        try:
            text = text % args if args else text
        except (TypeError, ValueError):
            text = " ".join([text, *map(str, args)])
        self._log.log(level, "%s", self._scrub(text))

    def debug(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at DEBUG (request and response lines without headers and bodies)."""
        self._emit(logging.DEBUG, msg, args)

    def info(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at INFO."""
        self._emit(logging.INFO, msg, args)

    def warning(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at WARNING."""
        self._emit(logging.WARNING, msg, args)

    def error(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at ERROR."""
        self._emit(logging.ERROR, msg, args)

    def exception(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at ERROR (without the traceback, whose frames may hold secrets)."""
        self._emit(logging.ERROR, msg, args)

    def critical(self, msg: Any, *args: Any, **kwargs: Any) -> None:
        """Log at CRITICAL."""
        self._emit(logging.CRITICAL, msg, args)


def build_client(
    module: Any,
    ccxt_id: str,
    *,
    env: str,
    base_url: str | None,
    credentials: Credentials | None,
    timeout: float,
    recv_window_ms: int,
    config: dict[str, Any],
    options: dict[str, Any],
    scrub: Scrubber,
    decimal_numbers: bool = True,
) -> Any:
    """A ccxt client for ``ccxt_id`` in ``env``, at ``base_url`` when given, with the keys.

    ``decimal_numbers=False`` keeps ccxt's float numbers (converted through ``repr``): the
    escape hatch should an exchange's ccxt code not cope with Decimals.
    """
    cls = exchange_class(module, ccxt_id)
    if decimal_numbers:
        cls = bridged_class(cls)
    settings: dict[str, Any] = {**config, "timeout": max(1, round(timeout * 1000))}
    settings["options"] = {**config.get("options", {}), **options}
    if credentials is not None:
        settings.update(credential_config(credentials))
    client = cls(settings)
    client.logger = CcxtLog(scrub)
    ccxt_options = client.options
    if "recvWindow" in ccxt_options and "recvWindow" not in options:
        ccxt_options["recvWindow"] = recv_window_ms
    # fetch_open_orders(None) is part of the interface: ccxt's guard (Binance) would refuse it.
    if ccxt_options.get("warnOnFetchOpenOrdersWithoutSymbol") is True:
        ccxt_options["warnOnFetchOpenOrdersWithoutSymbol"] = False
    open_orders = ccxt_options.get("fetchOpenOrders")
    if isinstance(open_orders, dict) and open_orders.get("warnWithoutSymbol") is True:
        ccxt_options["fetchOpenOrders"] = {**open_orders, "warnWithoutSymbol": False}
    apply_env(client, env)
    if base_url:
        rewrite_urls(client, base_url)
    return client


class CcxtExchange(Exchange):
    """A blocking client whose calls run on a ccxt exchange (``connect("ccxt:<id>")``)."""

    def __init__(self, adapter: Adapter, session: Session, runner: SyncRunner) -> None:
        super().__init__(adapter, session, runner)
        self.runner = runner

    @property
    def ccxt(self) -> Any:
        """The ccxt client that serves reads (writes use a second one with trade credentials)."""
        return self.runner.read


class CcxtAsyncExchange(AsyncExchange):
    """A coroutine client whose calls run on ``ccxt.async_support`` (``connect_async``)."""

    def __init__(self, adapter: Adapter, session: Session, runner: AsyncRunner) -> None:
        super().__init__(adapter, session, runner)
        self.runner = runner

    @property
    def ccxt(self) -> Any:
        """The ccxt client that serves reads (writes use a second one with trade credentials)."""
        return self.runner.read
