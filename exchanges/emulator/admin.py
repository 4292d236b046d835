"""The emulator's admin API (``/_emulator/``): who may call it, and what each call does.

It answers only what a web page in the user's browser cannot send: a loopback peer, a loopback
``Host`` (no DNS rebinding), no foreign ``Origin``, JSON content for anything that writes, and,
when the server has an admin token, that token in the ``X-Emulator-Token`` header. Input is
validated field by field: bad input answers 400 with a hint, an unknown endpoint 404.

It knows the emulator's state only through ``AdminState``, so it does not import the server.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any, Protocol

import attrs
from aiohttp import web

from exchanges.emulator.engine import Engine, EngineError, OrderView
from exchanges.emulator.faults import FaultInjector, FaultRule, parse_faults
from exchanges.emulator.inputs import BadInput, integer, json_body
from exchanges.emulator.keys import ApiKey, KeyStore

__all__ = ["TOKEN_HEADER", "AdminApi", "AdminError", "AdminState", "order_json"]

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
#: The header that carries the admin token when the server has one.
TOKEN_HEADER = "X-Emulator-Token"


class AdminState(Protocol):
    """What the admin API reads and changes (``EmulatorState`` provides it)."""

    clock_offset_ms: int

    @property
    def lock(self) -> AbstractContextManager[Any]:
        """The lock that serialises every change to the state."""
        ...

    @property
    def seed(self) -> int:
        """The seed of the current run."""
        ...

    @property
    def engine(self) -> Engine:
        """The matching engine and its accounts."""
        ...

    @property
    def keys(self) -> KeyStore:
        """The registered API keys."""
        ...

    @property
    def faults(self) -> FaultInjector:
        """The fault rules and what they injected."""
        ...

    def now_ms(self) -> int:
        """The emulator's clock."""
        ...

    def add_key(
        self,
        key: ApiKey,
        balances: Mapping[str, Decimal] | None = None,
        *,
        wallet: str | None = None,
    ) -> None:
        """Register a key, creating its account if it is new (or depositing ``balances``)."""
        ...

    def reset(self, seed: int | None = None) -> None:
        """Back to the initial state, keeping keys."""
        ...

    def stats(self) -> dict[str, Any]:
        """Counts for tests and reports."""
        ...


class AdminError(ValueError):
    """A refused admin call: its HTTP status, what is wrong, and what to do instead."""

    def __init__(self, message: str, status: int = 400, hint: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.hint = hint


def order_json(order: OrderView) -> dict[str, Any]:
    """An engine order as plain JSON (Decimals as strings)."""
    out: dict[str, Any] = {}
    for field, value in attrs.asdict(order).items():
        out[field] = str(value) if isinstance(value, Decimal) else value
    return out


class AdminApi:
    """The ``/_emulator/`` endpoints over an emulator's state, behind the guards above."""

    def __init__(
        self,
        state: AdminState,
        *,
        token: str | None,
        port: Callable[[], int],
        default_uid: int,
    ) -> None:
        if token is not None and not _header_safe(token):
            raise ValueError("admin_token must be non-empty printable ASCII, without spaces")
        self.state = state
        self.token = token
        # The port is known only once the server is bound; Host and Origin checks need it.
        self._port = port
        self._default_uid = default_uid

    async def handle(self, request: web.Request) -> web.Response:
        """The aiohttp handler of ``/_emulator/{name}``: guards, body, then ``call``."""
        refusal = self._guard(request)
        if refusal is not None:
            return refusal
        raw = await request.read()
        body: Any = dict(request.query) if request.method == "GET" and not raw else {}
        if raw:
            try:
                body = json_body(raw)
            except BadInput as exc:
                return _refusal(400, f"the body is refused: {exc}", _BODY_HINT)
        try:
            result = self.call(request.method, request.match_info["name"], body)
        except AdminError as err:
            return _refusal(err.status, str(err), err.hint)
        return web.json_response(result)

    def _guard(self, request: web.Request) -> web.Response | None:
        """Why a web page, or any caller without the token, may not use the admin API."""
        if (request.remote or "") not in _LOOPBACK:
            return _refusal(
                403, "the admin API answers loopback peers only", "call it from this machine"
            )
        host = request.headers.get("Host", "")
        if not self._loopback_host(host):
            # A page whose own name was made to resolve to 127.0.0.1 (DNS rebinding) sends it.
            return _refusal(
                421,
                f"the admin API answers Host 127.0.0.1, localhost or [::1] only, not {host[:80]!r}",
                f"call http://127.0.0.1:{self._port()}/_emulator/... directly, not through "
                "another name",
            )
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self._loopback_origins():
            # Browsers send Origin on every cross-site POST; programs and curl send none.
            return _refusal(
                403,
                f"the admin API refuses calls from web pages (Origin {origin[:80]!r})",
                "call it from a program, a test or curl, not from a browser",
            )
        if self.token is not None:
            given = request.headers.get(TOKEN_HEADER, "").encode("utf-8", "replace")
            if not hmac.compare_digest(given, self.token.encode()):
                return _refusal(
                    403,
                    f"the admin API needs this emulator's token in header {TOKEN_HEADER}",
                    f"send '{TOKEN_HEADER}: <token>' with the token printed when the emulator "
                    "started (or the one given with --admin-token)",
                )
        if (request.method != "GET" or request.body_exists) and (
            request.content_type != "application/json"
        ):
            # A page can POST text/plain or a form cross-site without asking; JSON it cannot.
            return _refusal(
                415,
                "admin calls that send a body or change something need "
                "'Content-Type: application/json'",
                "send the JSON body with that header, e.g. curl -H 'Content-Type: "
                "application/json' -d '{...}'",
            )
        return None

    def _loopback_host(self, host: str) -> bool:
        host = host.lower()
        if host.startswith("["):
            name, _, port = host[1:].partition("]")
            if port and not port.startswith(":"):
                return False
            port = port[1:]
            loopback = name == "::1"
        else:
            name, _, port = host.partition(":")
            loopback = name in ("127.0.0.1", "localhost")
        return loopback and port in ("", str(self._port()))

    def _loopback_origins(self) -> set[str]:
        bound = self._port()
        ports = [f":{bound}"] + ([""] if bound == 80 else [])
        names = ("127.0.0.1", "localhost", "[::1]")
        return {f"http://{name}{port}" for name in names for port in ports}

    def call(self, method: str, name: str, body: Mapping[str, Any]) -> Any:
        """Serve one admin call (HTTP or in-process); AdminError when refused."""
        routes: dict[tuple[str, str], Callable[[Mapping[str, Any]], Any]] = {
            ("GET", "ledger"): self._ledger,
            ("GET", "faults"): self._faults,
            ("POST", "faults"): self._set_faults,
            ("DELETE", "faults"): self._clear_faults,
            ("GET", "clock"): self._clock,
            ("POST", "clock"): self._set_clock,
            ("GET", "keys"): self._keys,
            ("POST", "keys"): self._add_key,
            ("POST", "reset"): self._reset,
            ("GET", "stats"): self._stats,
            ("GET", "balances"): self._balances,
            ("POST", "price"): self._price,
        }
        route = routes.get((method, name))
        if route is None:
            known = ", ".join(f"{m} /_emulator/{n}" for m, n in routes)
            raise AdminError(
                f"no admin endpoint {method} /_emulator/{name}", 404, f"known: {known}"
            )
        example = _EXAMPLES.get((method, name), "")
        if not isinstance(body, Mapping):
            raise AdminError(
                f"the body must be a JSON object, not {type(body).__name__}", 400, example
            )
        with self.state.lock:
            try:
                return route(body)
            except AdminError as err:
                raise AdminError(str(err), err.status, err.hint or example) from None
            except ValueError as exc:
                raise AdminError(str(exc), 400, example) from None
            except EngineError as err:
                raise AdminError(err.message, 400, example) from None

    def _ledger(self, body: Mapping[str, Any]) -> Any:
        return [order_json(o) for o in self.state.engine.ledger()]

    def _faults(self, body: Mapping[str, Any]) -> Any:
        faults = self.state.faults
        return {"rules": [r.to_json() for r in faults.rules], "injected": dict(faults.injected)}

    def _set_faults(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {"rules", "seed"})
        rules = body.get("rules", [])
        if isinstance(rules, str):
            parsed = parse_faults(rules)
        elif isinstance(rules, list):
            parsed = [FaultRule.from_json(rule) for rule in rules]
        else:
            raise AdminError(
                "rules must be a spec string or a list of rule objects",
                hint='e.g. {"rules": "latency:0.1=300@/v5/order/create"}',
            )
        self.state.faults.set(parsed, _whole(body, "seed"))
        return {"rules": [r.to_json() for r in self.state.faults.rules]}

    def _clear_faults(self, body: Mapping[str, Any]) -> Any:
        self.state.faults.clear()
        return {"rules": []}

    def _clock(self, body: Mapping[str, Any]) -> Any:
        return {"offset_ms": self.state.clock_offset_ms, "now_ms": self.state.now_ms()}

    def _set_clock(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {"offset_ms"})
        offset = _whole(body, "offset_ms", required=True, low=-_MAX_OFFSET_MS, high=_MAX_OFFSET_MS)
        assert offset is not None
        self.state.clock_offset_ms = offset
        return {"offset_ms": offset}

    def _keys(self, body: Mapping[str, Any]) -> Any:
        return [
            {
                "api_key": k.api_key,
                "uid": k.uid,
                "permissions": sorted(k.permissions),
                "ips": list(k.ips),
                "expires_at": k.expires_at,
            }
            for k in self.state.keys.all()
        ]

    def _add_key(self, body: Mapping[str, Any]) -> Any:
        _fields(
            body,
            {*_KEY_TEXTS, *_KEY_LISTS, "uid", "expires_at", "created_at", "balances", "wallet"},
        )
        fields: dict[str, Any] = {}
        for name in _KEY_TEXTS:
            value = body.get(name)
            if value is not None and not isinstance(value, str):
                raise AdminError(f"{name} must be a string")
            if value is not None:
                fields[name] = value
        if not fields.get("api_key"):
            raise AdminError("api_key is required", hint=_KEY_HINT)
        for name in _KEY_LISTS:
            value = body.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise AdminError(f"{name} must be a list of strings", hint=_KEY_HINT)
            fields[name] = value
        if "permissions" not in body:
            del fields["permissions"]
        uid = _whole(body, "uid", low=1)
        fields["uid"] = self._default_uid if uid is None else uid
        fields["expires_at"] = _whole(body, "expires_at", low=0, high=_MAX_STAMP_MS)
        fields["created_at"] = _whole(body, "created_at", low=0, high=_MAX_STAMP_MS) or 0
        if fields.get("public_key") is not None:
            _check_public_key(fields["public_key"])
        balances = _balances(body.get("balances"))
        wallet = self._wallet(body)
        self.state.add_key(ApiKey(**fields), balances or None, wallet=wallet)
        return {"api_key": fields["api_key"], "uid": fields["uid"]}

    def _reset(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {"seed"})
        self.state.reset(_whole(body, "seed"))
        return {"seed": self.state.seed}

    def _stats(self, body: Mapping[str, Any]) -> Any:
        return self.state.stats()

    def _price(self, body: Mapping[str, Any]) -> Any:
        """Move an instrument's last price (a sweep) and/or set its mark and index prices
        (``exchanges.emulator.prices``); conditional orders and stops then fire."""
        _fields(body, {"symbol", "category", "last", "mark", "index"})
        symbol, category = body.get("symbol"), body.get("category")
        if not isinstance(symbol, str) or (category is not None and not isinstance(category, str)):
            raise AdminError("symbol (and category, when given) must be strings")
        prices: dict[str, Decimal | None] = {}
        for name in ("last", "mark", "index"):
            value = body.get(name)
            if value is not None and (not isinstance(value, str | int) or isinstance(value, bool)):
                raise AdminError(f"{name} must be a decimal price as a string")
            try:
                prices[name] = None if value is None else Decimal(str(value))
            except ArithmeticError:
                raise AdminError(f"{name} must be a decimal price as a string") from None
        engine = self.state.engine
        engine.move_price(symbol, category=category, **prices)
        ticker = engine.ticker(symbol, category=category)
        return {"last": str(ticker.last), "mark": str(ticker.mark), "index": str(ticker.index)}

    def _wallet(self, body: Mapping[str, Any]) -> str | None:
        wallet = body.get("wallet")
        names = self.state.engine.wallet_names
        if wallet is not None and wallet not in names:
            raise AdminError(
                f"wallet must be one of {', '.join(names)}",
                hint=f'e.g. "wallet": "{names[-1]}" (absent: {names[0]})',
            )
        return wallet

    def _balances(self, body: Mapping[str, Any]) -> Any:
        _fields(body, {"uid", "wallet"})
        uid = _whole(body, "uid")
        return {
            c: {"total": str(b.total), "locked": str(b.locked), "free": str(b.free)}
            for c, b in self.state.engine.balances(
                self._default_uid if uid is None else uid, wallet=self._wallet(body)
            ).items()
        }


_BODY_HINT = 'send a JSON object, e.g. {"offset_ms": 1000} to /_emulator/clock'
_KEY_HINT = (
    'e.g. {"api_key": "k", "secret": "s", "permissions": ["read", "spot_trade"], '
    '"balances": {"USDT": "1000"}} (a known uid: a deposit, into "wallet" if given)'
)
_EXAMPLES = {
    ("POST", "keys"): _KEY_HINT,
    ("POST", "faults"): 'e.g. {"rules": "latency:0.1@/v5/order/create=300", "seed": 1}',
    ("POST", "clock"): 'e.g. {"offset_ms": -1500}',
    ("POST", "reset"): 'e.g. {"seed": 7} or {}',
    ("POST", "price"): (
        'e.g. {"symbol": "BTCUSDT", "category": "linear", "last": "64000"} (a sweep to that '
        'price; "mark" and "index" set those prices apart from the book)'
    ),
    ("GET", "balances"): (
        "e.g. GET /_emulator/balances?uid=1001 (a uid from GET /_emulator/keys)"
        "&wallet=usdm (Binance's USD-M wallet; absent: the main one)"
    ),
}
_KEY_TEXTS = ("api_key", "secret", "public_key", "passphrase", "label", "environment")
_KEY_LISTS = ("permissions", "ips")
_MAX_OFFSET_MS = 10 * 365 * 86_400_000  # ten years: now_ms stays a positive, datable instant
_MAX_UID = 2**63 - 1
_MAX_STAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime has


def _header_safe(token: str) -> bool:
    return bool(token) and token.isascii() and token.isprintable() and " " not in token


def _refusal(status: int, error: str, hint: str = "") -> web.Response:
    body = {"error": error, "hint": hint} if hint else {"error": error}
    return web.json_response(body, status=status)


def _fields(body: Mapping[str, Any], known: set[str]) -> None:
    unknown = set(body) - known
    if unknown:
        raise AdminError(f"unknown field(s) {sorted(unknown)[:10]}; known: {sorted(known)}")


def _whole(
    body: Mapping[str, Any],
    name: str,
    *,
    required: bool = False,
    low: int = -_MAX_UID,
    high: int = _MAX_UID,
) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise AdminError(f"{name} is required (a whole number)")
        return None
    number = integer(value)
    if number is None or not low <= number <= high:
        raise AdminError(f"{name} must be a whole number from {low} to {high}")
    return number


def _balances(value: object) -> dict[str, Decimal]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise AdminError('balances must be an object of coin -> amount, e.g. {"USDT": "1000"}')
    out: dict[str, Decimal] = {}
    for coin, amount in value.items():
        number = None
        if isinstance(amount, str | int | float) and not isinstance(amount, bool):
            try:
                number = Decimal(str(amount))
            except ArithmeticError:
                number = None
        # The engine keeps amounts of at most 18 integer digits (``to_amount``).
        if number is None or not number.is_finite() or number < 0 or number.adjusted() > 18:
            raise AdminError(
                f"the balance of {coin[:20]!r} must be a decimal amount >= 0 below 1e18, "
                "as a string"
            )
        out[coin] = number
    return out


def _check_public_key(pem: str) -> None:
    # Checked here: the front-ends load it on every signed request, where a bad PEM would fail.
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization

    try:
        serialization.load_pem_public_key(pem.encode("utf-8", "replace"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AdminError("public_key is not a PEM public key (RSA or Ed25519)") from None
