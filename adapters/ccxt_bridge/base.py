"""The ccxt bridge's base: connecting ccxt clients, the pipeline hooks and shared helpers.

``CcxtAdapter`` (``adapters.ccxt_bridge.adapter``) builds on it; market data is in
``adapters.ccxt_bridge.market_data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, NoReturn, TypeVar

import attrs

from adapters.ccxt_bridge import conditional, convert
from adapters.ccxt_bridge.capabilities import OPERATION_OF, derive
from adapters.ccxt_bridge.errors import Scrubber, family_of
from adapters.ccxt_bridge.runner import ccxt_request
from adapters.okx import parse as okx_parse
from exchanges.adapter import Adapter
from exchanges.capabilities import Capabilities, market_type
from exchanges.credentials import Credentials
from exchanges.decimals import to_wire
from exchanges.errors import (
    BadResponse,
    NotSupported,
)
from exchanges.flow import Flow, Session
from exchanges.models import (
    MarginMode,
    Order,
)
from exchanges.parsing import ms
from exchanges.symbols import Symbol
from exchanges.units import unified
from exchanges.wire import Prepared, Request, Response

M = TypeVar("M")


__all__ = ["CLIENT_ID_LOOKUP", "CcxtBase"]

#: ccxt families whose ``fetch_order(None, symbol, {"clientOrderId": ...})`` asks the exchange
#: by client order id (Binance ``origClientOrderId``, OKX ``clOrdId``): its "not found" is final.
CLIENT_ID_LOOKUP = frozenset({"binance", "okx"})

_TERMINAL = ("closed", "canceled", "rejected", "expired")
_OPTIONS = ("ccxt_config", "ccxt_options", "ccxt_numbers")


def _plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    # ccxt serialises params itself: Decimals go as their plain digits, never an exponent.
    return {k: to_wire(v) if isinstance(v, Decimal) else v for k, v in params.items()}


class CcxtBase(Adapter):
    """What every ccxt bridge operation shares: clients, pipeline hooks, helpers."""

    name = "ccxt"
    environments = ("mainnet", "testnet", "demo")
    option_names = _OPTIONS
    # ccxt passes params through to the exchange, where a native name would replace the id
    # ccxt set from clientOrderId: the names its exchanges use are taken as the id instead.
    client_id_params = (
        "orderLinkId",
        "newClientOrderId",
        "clOrdId",
        "clientOid",
        "client_oid",
        "cliOrdId",
    )
    reserved_order_params: ClassVar[Mapping[str, str]] = {
        "postOnly": "post_only",
        "timeInForce": "time_in_force or post_only",
        "reduceOnly": "reduce_only",
    }

    def __init__(
        self,
        *,
        env: str = "mainnet",
        base_url: str | None = None,
        recv_window_ms: int = 5000,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        given = dict(options or {})
        # ccxt's ids are lower case: "ccxt:Kraken" is "kraken".
        ccxt_id = str(given.pop("ccxt_id", "") or "").strip().lower()
        if not ccxt_id:
            raise NotSupported(
                "the ccxt bridge needs an exchange id", hint="Connect with 'ccxt:<id>'."
            )
        # One class serves every ccxt id, so the name (errors, logs, env prefix) is per instance.
        self.name = ccxt_id
        super().__init__(env=env, base_url=base_url, recv_window_ms=recv_window_ms, options=given)
        self.ccxt_config: dict[str, Any] = dict(self.options.get("ccxt_config") or {})
        self.ccxt_options: dict[str, Any] = dict(self.options.get("ccxt_options") or {})
        numbers = self.options.get("ccxt_numbers", "decimal")
        if numbers not in ("decimal", "float"):
            raise ValueError(f"ccxt_numbers must be 'decimal' or 'float', not {numbers!r}")
        self.decimal_numbers = numbers == "decimal"
        if self.ccxt_config.get("verbose"):
            raise ValueError(
                "ccxt's verbose mode prints request headers (API key, signature) to stdout; "
                "use logging at DEBUG on 'exchanges' instead"
            )
        from adapters.ccxt_bridge.client import exchange_class, load_ccxt

        # Fails early, at connect(), for a missing ccxt package or an unknown id.
        self._class = exchange_class(load_ccxt(), ccxt_id)
        self.family = family_of(self._class)
        #: set_margin_mode's choice per symbol: OKX orders carry it (``modes.py``).
        self.margin_modes: dict[str, MarginMode] = {}
        self.client: Any = None
        # The capabilities of the client they were derived from (see ``capabilities``).
        self._derived: tuple[Any, Capabilities] | None = None
        self._described: Any = None

    # -- connecting -----------------------------------------------------------------------

    def _clients(self, module: Any, session: Session, timeout: float) -> tuple[Any, Any, Scrubber]:
        from adapters.ccxt_bridge.client import build_client

        scrub = Scrubber((session.credentials, session.trade_credentials))

        def build(credentials: Credentials | None) -> Any:
            return build_client(
                module,
                self.name,
                env=self.env,
                base_url=self.base_url_override,
                credentials=credentials,
                timeout=timeout,
                recv_window_ms=self.recv_window_ms,
                config=self.ccxt_config,
                options=self.ccxt_options,
                scrub=scrub,
                decimal_numbers=self.decimal_numbers,
            )

        read = build(session.credentials)
        trade = read if session.trade_credentials is None else build(session.trade_credentials)
        self.client = read
        return read, trade, scrub

    def connect_sync(self, session: Session, timeout: float) -> Any:
        """The blocking client: ``CcxtExchange`` over ccxt (``connect()``'s hook)."""
        from adapters.ccxt_bridge.client import CcxtExchange, load_ccxt
        from adapters.ccxt_bridge.runner import SyncRunner

        read, trade, scrub = self._clients(load_ccxt(), session, timeout)
        return CcxtExchange(self, session, SyncRunner(read, trade, scrub))

    def connect_async(self, session: Session, timeout: float) -> Any:
        """The asyncio client: ``CcxtAsyncExchange`` over ``ccxt.async_support``."""
        from adapters.ccxt_bridge.client import CcxtAsyncExchange, load_ccxt
        from adapters.ccxt_bridge.runner import AsyncRunner

        read, trade, scrub = self._clients(load_ccxt(asynchronous=True), session, timeout)
        return CcxtAsyncExchange(self, session, AsyncRunner(read, trade, scrub))

    # -- pipeline hooks -------------------------------------------------------------------

    def env_prefix(self) -> str:
        """Keys come from ``<ID>_API_KEY`` etc. (``KRAKEN_TESTNET_API_KEY`` on testnet)."""
        prefix = self.name.upper().replace("-", "_")
        return prefix if self.env == "mainnet" else f"{prefix}_{self.env.upper()}"

    def acts_until_ms(self, request: Request, timestamp_ms: int) -> int | None:
        """ccxt signs writes itself, with the receive window set at connect where it has one.

        OKX has none but refuses a stamp 30 s away from its clock (the REST authentication
        section of its docs); for an exchange with neither nothing is known.
        """
        if not request.write:
            return None
        options = getattr(self.client, "options", None)
        window = options.get("recvWindow") if isinstance(options, dict) else None
        if isinstance(window, int) and not isinstance(window, bool) and window > 0:
            return timestamp_ms + window
        if self.family == "okx":
            return timestamp_ms + 30_000
        return None

    def sign(self, request: Request, timestamp_ms: int, credentials: Credentials) -> Prepared:
        """Never used: ccxt signs its own requests (the bridge's requests are not ``signed``)."""
        raise NotSupported("ccxt signs its own requests", exchange=self.name)

    def prepare(self, request: Request) -> Prepared:
        """The call as a ``Prepared`` request for the runner (nothing goes on a wire here)."""
        return Prepared(request.method, f"ccxt://{self.name}/{request.path}", {}, None, request)

    def decode(self, response: Response) -> None:
        """Nothing to decode: the runner put ccxt's answer in ``response.data``."""

    def time_request(self) -> Request:
        """ccxt's ``fetch_time``."""
        return ccxt_request("fetch_time")

    def parse_time(self, response: Response) -> int:
        """The server time in ms."""
        stamp = ms(response.data)
        if stamp is None:
            raise BadResponse(
                f"ccxt's fetch_time gave {type(response.data).__name__}, not a time in ms",
                exchange=self.name,
            )
        return stamp

    def stream_dialect(self) -> NoReturn:
        """No WebSocket streams through the bridge (ccxt.pro's ``watch_*`` are not bridged).

        Overridden because the stream registry is keyed by adapter name, and this adapter is
        named after the ccxt id: ``ccxt:bybit`` must not get the native Bybit dialect.
        """
        raise NotSupported(
            f"the ccxt bridge has no WebSocket streams ({self.name})",
            exchange=self.name,
            hint="Poll with fetch_* here, or connect to the native adapter for streams.",
        )

    # -- helpers --------------------------------------------------------------------------

    def _has(self, feature: str) -> bool:
        has = getattr(self.client or self._class, "has", {}) or {}
        return bool(has.get(feature))

    # A property where the native adapters have a class attribute: one class serves every ccxt
    # id, so the capabilities are derived per instance.
    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        """What ccxt's ``has`` says for this id, within the bridge's limits (``capabilities``)."""
        source = self.client
        if source is None:
            # Not connected: a bare instance, since ccxt's class holds only the defaults of has.
            if self._described is None:
                self._described = self._class()
            source = self._described
        if self._derived is None or self._derived[0] is not source:
            self._derived = (source, derive(self.name, source, self.family))
        return self._derived[1]

    def _require(self, feature: str, what: str) -> None:
        # The declared entry decides (derived from the same has): one reason, one shape.
        key = OPERATION_OF[feature]
        if not self.capabilities.supports(key):
            error = self.capabilities.error(key)
            error.hint = f"{what} is not available through ccxt for this exchange."
            raise error

    def market_group(self, symbol: Symbol) -> str:
        """Every market loads at once; a market type ccxt lacks for this id is ``NotSupported``."""
        self.capabilities.require(f"market.{market_type(symbol)}", subject=str(symbol))
        return "all"

    def _symbol(self, item: Mapping[str, Any], default: str) -> str:
        symbol = item.get("symbol")
        return symbol if isinstance(symbol, str) and symbol else default

    def _unified(self, model: M) -> M:
        """``model`` in the interface's units: ccxt counts contracts, the interface does not."""
        market = self.markets.get(getattr(model, "symbol", ""))
        return model if market is None else unified(model, market)

    def _ack(self, symbol: str, data: Any, known: Mapping[str, Any]) -> Order:
        """A write's answer, completed from the request and stamped."""
        return self._stamped(_complete(self._order(symbol, data), known))

    def _stamped(self, order: Order) -> Order:
        """An answer without any time gets ccxt's clock reading of when it came back."""
        if order.timestamp is not None or order.updated is not None:
            return order
        return attrs.evolve(order, updated=int(self.client.milliseconds()))

    def _scope(self, symbol: Symbol | None) -> Flow[str | None]:
        """A listing's market name (None: every market, whose units must then be known)."""
        if symbol is None:
            yield from self.load_markets()
            return None
        return (yield from self.market(symbol)).symbol

    def _order(self, default: str, item: Any) -> Order:
        if not isinstance(item, Mapping):
            raise TypeError(f"ccxt returned {type(item).__name__} where an order belongs")
        item = conditional.cleaned(item)
        order = convert.order(self._symbol(item, default), item)
        order = self._unified(attrs.evolve(order, **conditional.order_fields(item)))
        market = self.markets.get(order.symbol)
        if order.reduce_only is None and market is not None and market.spot:
            # Spot orders cannot reduce a position; ccxt leaves the flag empty for them.
            order = attrs.evolve(order, reduce_only=False)
        if order.time_in_force is None and self.family == "okx":
            # ccxt's okx parser leaves a plain limit order's time in force empty; OKX's own
            # ordType says it (as the native adapter reads it).
            info = order.raw.get("info") if isinstance(order.raw, Mapping) else None
            ord_type = info.get("ordType") if isinstance(info, Mapping) else None
            found = okx_parse.ORDER_TYPES.get(str(ord_type))
            if found is not None:
                tif = found[1]
                order = attrs.evolve(order, time_in_force=tif, post_only=tif == "PO")
        return order

    def _orders(self, default: str, items: Any) -> list[Order]:
        if not isinstance(items, list):
            raise TypeError(f"ccxt returned {type(items).__name__} where a list belongs")
        return [self._order(default, item) for item in items]


def _complete(order: Order, known: Mapping[str, Any]) -> Order:
    """Fill what an acknowledgement left out from what the request itself said.

    Only an acknowledgement (no status: Bybit's and OKX's answers to writes carry ids only) is
    completed, as the native adapters do; a full order stays as the exchange reported it.
    """
    if order.status is not None:
        return order
    missing = {k: v for k, v in known.items() if getattr(order, k) is None and v is not None}
    return attrs.evolve(order, **missing) if missing else order
