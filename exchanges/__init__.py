"""One interface for crypto exchanges, exact on the wire.

>>> import exchanges
>>> ex = exchanges.connect("bybit", env="testnet")   # keys from BYBIT_TESTNET_API_KEY/_SECRET
>>> ex.fetch_ticker("BTC/USDT")
"""

import logging

from exchanges.async_client import AsyncExchange
from exchanges.batch_items import BatchItem, BatchResult, OrderRequest
from exchanges.client import Exchange
from exchanges.connect import connect, connect_async
from exchanges.credentials import Credentials
from exchanges.errors import (
    AccountRestricted,
    ApiKeyExpired,
    AuthenticationError,
    BadRequest,
    BadResponse,
    BadSymbol,
    ClientClosed,
    ClockSkew,
    DuplicateOrderId,
    ExchangeError,
    ExchangeNotAvailable,
    InsufficientFunds,
    InvalidApiKey,
    InvalidOrder,
    InvalidSignature,
    IpNotAllowed,
    NetworkError,
    NotSupported,
    OrderImmediatelyFillable,
    OrderNotFillable,
    OrderNotFound,
    OutcomeUnknown,
    PermissionDenied,
    RateLimitExceeded,
    RequestTimeout,
    StreamInterrupted,
    StreamOverflow,
    UnsafeApiKey,
)
from exchanges.models import (
    Balance,
    Balances,
    Candle,
    Fill,
    Finding,
    FundingRate,
    FundingRecord,
    KeyAudit,
    KeyInfo,
    LeverageSetting,
    MarginModeSetting,
    Market,
    Order,
    OrderBook,
    Position,
    PositionModeSetting,
    StopSpec,
    Ticker,
    Trade,
    TradingFee,
    TradingStop,
)

__version__ = "0.1.0"

# A library logs; the application decides where logs go. Without a handler of its own, Python
# would print our warnings on stderr on top of the exceptions callers already receive.
logging.getLogger("exchanges").addHandler(logging.NullHandler())

__all__ = [
    "AccountRestricted",
    "ApiKeyExpired",
    "AsyncExchange",
    "AuthenticationError",
    "BadRequest",
    "BadResponse",
    "BadSymbol",
    "Balance",
    "Balances",
    "BatchItem",
    "BatchResult",
    "Candle",
    "ClientClosed",
    "ClockSkew",
    "Credentials",
    "DuplicateOrderId",
    "Exchange",
    "ExchangeError",
    "ExchangeNotAvailable",
    "Fill",
    "Finding",
    "FundingRate",
    "FundingRecord",
    "InsufficientFunds",
    "InvalidApiKey",
    "InvalidOrder",
    "InvalidSignature",
    "IpNotAllowed",
    "KeyAudit",
    "KeyInfo",
    "LeverageSetting",
    "MarginModeSetting",
    "Market",
    "NetworkError",
    "NotSupported",
    "Order",
    "OrderBook",
    "OrderImmediatelyFillable",
    "OrderNotFillable",
    "OrderNotFound",
    "OrderRequest",
    "OutcomeUnknown",
    "PermissionDenied",
    "Position",
    "PositionModeSetting",
    "RateLimitExceeded",
    "RequestTimeout",
    "StopSpec",
    "StreamInterrupted",
    "StreamOverflow",
    "Ticker",
    "Trade",
    "TradingFee",
    "TradingStop",
    "UnsafeApiKey",
    "__version__",
    "connect",
    "connect_async",
]
