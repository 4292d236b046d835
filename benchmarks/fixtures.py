"""Synthetic, shape-correct Bybit v5 payloads (field names per Bybit's v5 docs).

Values are made up but deterministic; every number inside ``result`` is a string as on the wire,
envelope numbers (``retCode``, ``time``, order book ``ts``/``u``/``seq``/``cts``) are JSON numbers.
"""

from __future__ import annotations

import json
import random
from typing import Any

API_KEY = "test-key"
API_SECRET = "test-secret"
OKX_PASSPHRASE = "test-passphrase"
RECV_WINDOW = 5000

# A fixed instant so payload sizes do not drift between runs.
FIXED_MS = 1_764_000_000_000

# Real coin names first, then made-up ones (ZAAA, ZAAB, ...) up to the count needed.
_REAL_COINS = (
    "BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "DOT", "TRX", "MATIC", "LTC",
    "BCH", "UNI", "ATOM", "ETC", "XLM", "FIL", "APT", "ARB", "OP", "NEAR", "INJ", "SUI", "SEI",
    "TIA", "PEPE", "WIF",
)  # fmt: skip


def coins(n: int) -> list[str]:
    names = list(_REAL_COINS[:n])
    i = 0
    while len(names) < n:
        a, b, c = i // 676, (i // 26) % 26, i % 26
        names.append("Z" + chr(65 + a) + chr(65 + b) + chr(65 + c))
        i += 1
    return names


def envelope(result: Any, *, time_ms: int = FIXED_MS, ret_msg: str = "OK") -> dict[str, Any]:
    return {"retCode": 0, "retMsg": ret_msg, "result": result, "retExtInfo": {}, "time": time_ms}


def dumps(obj: Any) -> bytes:
    # Compact, like Bybit's own bodies.
    return json.dumps(obj, separators=(",", ":")).encode()


# -- market data --------------------------------------------------------------------------


def _price(i: int) -> str:
    # BTC near 65000, the rest spread over several magnitudes.
    return "65000.5" if i == 0 else f"{(i * 37.13) % 900 + 0.0123:.4f}"


def spot_instrument(i: int, base: str) -> dict[str, Any]:
    return {
        "symbol": f"{base}USDT",
        "symbolId": 10000 + i,
        "baseCoin": base,
        "quoteCoin": "USDT",
        "innovation": "0",
        "symbolType": "",
        "xstockMultiplier": "",
        "status": "Trading",
        "marginTrading": "utaOnly",
        "stTag": "0",
        "lotSizeFilter": {
            "basePrecision": "0.000001",
            "quotePrecision": "0.00000001",
            "minOrderQty": "0.000048",
            "maxOrderQty": "71.73956243",
            "minOrderAmt": "1",
            "maxOrderAmt": "2000000",
            "maxLimitOrderQty": "71.73956243",
            "maxMarketOrderQty": "35.86978121",
            "postOnlyMaxLimitOrderSize": "60000",
        },
        "priceFilter": {"tickSize": "0.01"},
        "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
    }


def linear_instrument(i: int, base: str) -> dict[str, Any]:
    return {
        "symbol": f"{base}USDT",
        "symbolId": 20000 + i,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": "USDT",
        "symbolType": "",
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": "0.10", "maxPrice": "1999999.80", "tickSize": "0.10"},
        "lotSizeFilter": {
            "maxOrderQty": "1190.000",
            "minOrderQty": "0.001",
            "qtyStep": "0.001",
            "postOnlyMaxOrderQty": "1190.000",
            "maxMktOrderQty": "500.000",
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": "USDT",
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
        "riskParameters": {"priceLimitRatioX": "0.01", "priceLimitRatioY": "0.02"},
        "displayName": "",
        "forbidUplWithdrawal": False,
    }


def instruments(category: str, n: int = 500) -> list[dict[str, Any]]:
    make = spot_instrument if category == "spot" else linear_instrument
    return [make(i, base) for i, base in enumerate(coins(n))]


def linear_ticker(i: int, base: str) -> dict[str, Any]:
    p = _price(i)
    return {
        "symbol": f"{base}USDT",
        "lastPrice": p,
        "indexPrice": p,
        "markPrice": p,
        "prevPrice24h": p,
        "price24hPcnt": "0.012345",
        "highPrice24h": p,
        "lowPrice24h": p,
        "prevPrice1h": p,
        "openInterest": "52341.123",
        "openInterestValue": "3402173995.12",
        "turnover24h": "9912345678.1234",
        "volume24h": "152345.123",
        "fundingRate": "0.0001",
        "nextFundingTime": "1764028800000",
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": "1.234",
        "bid1Price": p,
        "ask1Price": p,
        "bid1Size": "2.345",
        "basis": "",
        "preOpenPrice": "",
        "preQty": "",
        "curPreListingPhase": "",
        "fundingIntervalHour": "8",
        "basisRateYear": "",
        "fundingCap": "0.005",
    }


def tickers(n: int = 500) -> dict[str, Any]:
    return {"category": "linear", "list": [linear_ticker(i, b) for i, b in enumerate(coins(n))]}


def order_book(levels: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    bids, asks = [], []
    for k in range(levels):
        bids.append([f"{65000.4 - k * 0.1:.1f}", f"{rng.randint(1, 99999) / 1000:.3f}"])
        asks.append([f"{65000.5 + k * 0.1:.1f}", f"{rng.randint(1, 99999) / 1000:.3f}"])
    return {
        "s": "BTCUSDT",
        "b": bids,
        "a": asks,
        "ts": FIXED_MS,
        "u": 18521288,
        "seq": 7961638724,
        "cts": FIXED_MS - 3,
    }


# -- account ------------------------------------------------------------------------------


def _coin(name: str, amount: str, usd: str) -> dict[str, Any]:
    return {
        "coin": name,
        "equity": amount,
        "usdValue": usd,
        "walletBalance": amount,
        "locked": "0",
        "spotHedgingQty": "0",
        "borrowAmount": "0.000000000000000000",
        "accruedInterest": "0",
        "totalOrderIM": "0",
        "totalPositionIM": "0",
        "totalPositionMM": "0",
        "unrealisedPnl": "0",
        "cumRealisedPnl": "-0.00001234",
        "bonus": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
        "availableToWithdraw": "",
        "availableToBorrow": "",
        "free": "",
        "spotBorrow": "0",
    }


def wallet_balance() -> dict[str, Any]:
    # Four coins: 2.2 KB, close to the baseline's 2.3 KB response.
    return {
        "list": [
            {
                "accountType": "UNIFIED",
                "accountIMRate": "0",
                "accountMMRate": "0",
                "accountIMRateByMp": "0",
                "accountMMRateByMp": "0",
                "totalEquity": "108423.83412345",
                "totalWalletBalance": "108423.83412345",
                "totalMarginBalance": "108423.83412345",
                "totalAvailableBalance": "108423.83412345",
                "totalPerpUPL": "0",
                "totalInitialMargin": "0",
                "totalMaintenanceMargin": "0",
                "totalInitialMarginByMp": "0",
                "totalMaintenanceMarginByMp": "0",
                "accountLTV": "0",
                "coin": [
                    _coin("USDT", "50000.12345678", "50001.23456789"),
                    _coin("BTC", "0.5", "32500.25"),
                    _coin("ETH", "5.123456", "17923.12345"),
                    _coin("USDC", "8000", "7999.2"),
                ],
            }
        ]
    }


def query_api() -> dict[str, Any]:
    # A trading key WITHOUT withdrawal permission: the library checks this once before orders.
    return {
        "id": "13770661",
        "note": "bench",
        "apiKey": API_KEY,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": ["SpotTrade"],
            "Wallet": ["AccountTransfer", "SubMemberTransferList"],
            "Options": ["OptionsTrade"],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": ["ExchangeHistory"],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": 83,
        "expiredAt": "2026-12-31T00:00:00Z",
        "createdAt": "2025-01-01T00:00:00Z",
        "unified": 0,
        "uta": 1,
        "userID": 24617703,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


def account_info() -> dict[str, Any]:
    return {
        "unifiedMarginStatus": 4,
        "marginMode": "REGULAR_MARGIN",
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
        "updatedTime": "1700000000000",
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
    }


# -- the order we place, in every client's own vocabulary --------------------------------

ORDER_LINK_ID = "bench-0000000000000001"

#: Bybit v5 create-order body (the hand-written floors and pybit send exactly this).
BYBIT_ORDER: dict[str, str] = {
    "category": "linear",
    "symbol": "BTCUSDT",
    "side": "Buy",
    "orderType": "Limit",
    "qty": "0.001",
    "price": "65000.5",
    "timeInForce": "GTC",
    "orderLinkId": ORDER_LINK_ID,
}

#: Binance spot /api/v3/order parameters (for ccxt's and, later, our Binance signer).
BINANCE_ORDER: dict[str, str] = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.001",
    "price": "65000.5",
    "newClientOrderId": ORDER_LINK_ID,
}

#: OKX /api/v5/trade/order body.
OKX_ORDER: dict[str, str] = {
    "instId": "BTC-USDT-SWAP",
    "tdMode": "cross",
    "side": "buy",
    "ordType": "limit",
    "sz": "1",
    "px": "65000.5",
    "clOrdId": "bench0000000000000001",
}


class Bodies:
    """Every canned response body, encoded once."""

    def __init__(self, n_instruments: int = 500, n_tickers: int = 500) -> None:
        self.spot_items = instruments("spot", n_instruments)
        self.linear_items = instruments("linear", n_instruments)
        self.order_book_50 = dumps(envelope(order_book(50)))
        self.order_book_200 = dumps(envelope(order_book(200)))
        self.tickers = dumps(envelope(tickers(n_tickers)))
        self.wallet = dumps(envelope(wallet_balance()))
        self.query_api = dumps(envelope(query_api(), ret_msg=""))
        self.account_info = dumps(envelope(account_info(), ret_msg="success"))
        self.spot_page = dumps(envelope({"category": "spot", "list": self.spot_items}))
        # All linear instruments on one page (limit=1000, as both clients ask), last page: "".
        self.linear_page = dumps(
            envelope({"category": "linear", "list": self.linear_items, "nextPageCursor": ""})
        )

    def instruments_page(
        self, category: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        items = self.linear_items if category == "linear" else []
        page = items[offset : offset + limit]
        nxt = offset + limit
        return page, (nxt if nxt < len(items) else None)
