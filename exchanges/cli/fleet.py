"""``exchanges fleet status``: each shared budget's use and the orders in doubt, per account.

It reads the fleet's Redis (``--fleet URL``) and changes nothing. Accounts appear by their hash
(``exchanges.fleet.keys.account_id``); ``--exchange`` (with ``--env``) narrows the output to the
account of the API key in that exchange's environment variables.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from exchanges.cli import values
from exchanges.cli.options import formatter
from exchanges.cli.render import Output
from exchanges.cli.values import UsageError

__all__ = ["add_parser", "run"]


def _account_of(exchange: str, env: str) -> str:
    """The hash naming the account whose key is in the environment (as ``connect`` reads it)."""
    from exchanges.credentials import Credentials
    from exchanges.fleet.keys import account_id
    from exchanges.registry import adapter_class

    adapter = adapter_class(exchange)(env=env, base_url=None, recv_window_ms=5000, options={})
    credentials, problem = Credentials.read_env(adapter.env_prefix())
    if credentials is None:
        raise UsageError(
            f"--exchange {exchange}: {problem or 'no API key in the environment'}; "
            f"set {adapter.env_prefix()}_API_KEY, or pass --account"
        )
    return account_id(adapter.name, adapter.env, credentials.api_key)


def _age(ms: int) -> str:
    seconds = max(0, time.time() - ms / 1000)
    return f"{seconds:.0f} s ago" if seconds < 120 else f"{seconds / 60:.0f} min ago"


def run(args: argparse.Namespace, out: Output) -> int:
    """Read the fleet's Redis and print (or dump as JSON) what it holds."""
    from exchanges.fleet.link import Link, cluster_client
    from exchanges.fleet.policy import FleetUnavailable
    from exchanges.fleet.status import read_status

    account = args.account
    if args.exchange is not None:
        account = _account_of(args.exchange, args.env)
    cluster = None
    try:
        if args.cluster:
            cluster = cluster_client(args.fleet)
        link = Link(cluster or args.fleet, asynchronous=False)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None
    except OSError as err:
        raise FleetUnavailable(str(err)) from None
    try:
        accounts = read_status(link.sync_client(), account)
    except link.errors as err:
        raise FleetUnavailable(
            f"the fleet's Redis {link.where} is unreachable ({type(err).__name__})"
        ) from None
    finally:
        link.close()
        if cluster is not None:
            cluster.close()
    if args.json:
        out.json([_as_dict(a) for a in accounts])
        return 0
    if not accounts:
        out.info(f"no fleet state in {link.where}" + (f" for account {account}" if account else ""))
        return 0
    for acct in accounts:
        out.section(f"account {acct.account}: {acct.reserved_ids} client order ids reserved")
        rows = [
            [
                b.key,
                f"{b.used}/{b.limit}" if b.limit else str(b.used),
                f"{b.period_ms / 1000:g} s" if b.period_ms else "?",
                f"{b.share:.0%}" if b.share is not None else "?",
                f"{b.blocked_ms / 1000:.1f} s" if b.blocked_ms else "",
            ]
            for b in acct.budgets
        ]
        out.table(["budget", "used", "window", "use", "blocked for"], rows, right=(1, 2, 3, 4))
        doubt = [
            [e.client_order_id, e.symbol, e.state, e.owner, _age(e.recorded_ms)]
            for e in acct.in_doubt
        ]
        if doubt:
            out.table(["order in doubt", "symbol", "state", "recorded by", "recorded"], doubt)
        else:
            out.line("no orders in doubt")
    return 0


def _as_dict(account: Any) -> dict[str, Any]:
    return {
        "account": account.account,
        "reserved_ids": account.reserved_ids,
        "budgets": [
            {
                "key": b.key,
                "limit": b.limit,
                "period_ms": b.period_ms,
                "used": b.used,
                "blocked_ms": b.blocked_ms,
            }
            for b in account.budgets
        ],
        "in_doubt": [
            {
                "client_order_id": e.client_order_id,
                "symbol": e.symbol,
                "state": e.state,
                "owner": e.owner,
                "recorded_ms": e.recorded_ms,
                "conclusive_after_ms": e.conclusive_after_ms,
            }
            for e in account.in_doubt
        ],
    }


def add_parser(commands: Any) -> None:
    """Register ``exchanges fleet status``."""
    parser = commands.add_parser(
        "fleet",
        help="what a fleet's Redis holds: budgets in use, orders in doubt",
        description="Read a fleet's Redis (connect(..., fleet=URL)) without changing it.",
        formatter_class=formatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = actions.add_parser(
        "status",
        help="each shared budget's use and the orders in doubt, per account",
        description="Each shared rate budget (bookings in its current window against its "
        "limit, and any block the exchange ordered) and each order in doubt, per account.",
        epilog="examples:\n"
        "  exchanges fleet status --fleet redis://127.0.0.1:6379/0\n"
        "  exchanges fleet status --fleet redis://10.0.0.5:6379/2 --exchange bybit --json",
        formatter_class=formatter,
    )
    status.add_argument(
        "--fleet", required=True, metavar="URL", help="redis://, rediss://, unix://"
    )
    who = status.add_mutually_exclusive_group()
    who.add_argument("--account", metavar="HASH", help="only this account (16 hex digits)")
    who.add_argument(
        "--exchange",
        type=values.exchange_name,
        help="only the account of the API key in this exchange's environment variables",
    )
    status.add_argument(
        "--env", choices=("mainnet", "testnet", "demo"), default="mainnet", help="with --exchange"
    )
    status.add_argument(
        "--cluster",
        action="store_true",
        help="the URL names one node of a Redis Cluster (fleet=redis.RedisCluster(...))",
    )
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=run)
