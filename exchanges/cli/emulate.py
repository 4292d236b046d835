"""``exchanges emulate``: serve an exchange's emulator on loopback until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import shlex
import signal
from typing import TYPE_CHECKING, Any

from exchanges.cli import values
from exchanges.cli.local import EXCHANGES, unavailable
from exchanges.cli.options import formatter
from exchanges.cli.render import Output
from exchanges.credentials import mask_key

if TYPE_CHECKING:
    from exchanges.emulator import Emulator

__all__ = ["add_parser", "admin_token", "build_emulator", "run"]

_DEFAULT_PERMISSIONS = "read,spot_trade,derivatives_trade,options_trade"


def build_emulator(args: argparse.Namespace) -> Emulator:
    """The emulator the arguments describe (not started)."""
    from exchanges.emulator import Emulator

    permissions = [p.strip() for p in args.permissions.split(",") if p.strip()]
    key: dict[str, Any] = {}
    if args.api_key is not None:
        key = {"api_key": args.api_key, "api_secret": args.api_secret}
    return Emulator(
        args.exchange,
        host=args.host,
        port=args.port,
        seed=args.seed,
        permissions=permissions,
        faults=args.faults or None,
        admin_token=admin_token(args),
        **key,
    )


def admin_token(args: argparse.Namespace) -> str | None:
    """The admin API's token: --admin-token, none with --no-admin-token, else a fresh one."""
    if args.no_admin_token:
        return None
    if args.admin_token is None:
        return secrets.token_urlsafe(24)
    token: str = args.admin_token
    return token


async def _serve(emu: Emulator, out: Output, args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        # Not on Windows: there Ctrl-C arrives as KeyboardInterrupt, handled by run().
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)

    def ready(base_url: str) -> None:
        print(f"exchanges emulator ({args.exchange}) listening on {base_url}", flush=True)
        token = emu.server.admin_token
        if token is not None:
            # On stdout with the URL: whoever started the emulator needs both to control it.
            header = shlex.quote(f"X-Emulator-Token: {token}")
            print(
                f"admin API ({base_url}/_emulator/): send header X-Emulator-Token: {token}\n"
                f"  e.g. curl -H {header} {base_url}/_emulator/stats",
                flush=True,
            )
        else:
            out.info("admin API without a token (--no-admin-token): any local program may use it")
        key = mask_key(args.api_key) if args.api_key else "the default test key"
        out.info(f"API key {key}, permissions {args.permissions}; Ctrl-C or SIGTERM stops it")

    server = asyncio.create_task(emu.serve_forever(ready))
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({server, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    server.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await server
    out.info("emulator stopped")


def run(args: argparse.Namespace, out: Output) -> int:
    """Serve until stopped; 0 on a clean stop, 2 when the exchange has no emulator yet."""
    if (args.api_key is None) != (args.api_secret is None):
        out.error("exchanges emulate: --api-key and --api-secret go together")
        return 2
    missing = unavailable(args.exchange, emulator=True)
    if missing is not None:
        out.error(f"exchanges emulate: {missing}")
        return 2
    emu = build_emulator(args)
    try:
        asyncio.run(_serve(emu, out, args))
    except KeyboardInterrupt:
        out.info("emulator stopped")
    except OSError as exc:
        # The address is taken or not this machine's: well-formed arguments, so not status 2.
        out.error(
            f"exchanges emulate: cannot listen on --host {args.host} --port {args.port}: {exc}"
        )
        return 1
    return 0


def add_parser(commands: Any) -> None:
    """Register ``exchanges emulate``."""
    parser = commands.add_parser(
        "emulate",
        help="serve an exchange's emulator on loopback for your own bot or tests",
        description="Serve an exchange's API on loopback: real envelopes and error codes, "
        "signature and permission checks, a matching engine, fault injection. Prints its base "
        "URL and the token of its /_emulator/ admin API, then serves until Ctrl-C or SIGTERM. "
        "Without --api-key it knows the key 'test-key' with secret 'test-secret'.",
        epilog="examples:\n"
        "  exchanges emulate bybit --port 8080\n"
        "  exchanges emulate bybit --api-key my-test-key --api-secret my-test-secret "
        "--permissions read\n"
        "  exchanges emulate bybit --faults 'latency:0.1=300,drop_after:0.05@/v5/order/create'\n"
        "  exchanges emulate bybit --admin-token my-admin-token   # then: curl -H "
        "'X-Emulator-Token: my-admin-token' http://127.0.0.1:PORT/_emulator/stats",
        formatter_class=formatter,
    )
    parser.add_argument(
        "exchange", metavar="EXCHANGE", choices=EXCHANGES, help=f"one of {', '.join(EXCHANGES)}"
    )
    parser.add_argument(
        "--host", type=values.host, default="127.0.0.1", help="the address (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=values.port, default=0, help="the port (default: 0, any free one)"
    )
    parser.add_argument(
        "--api-key", metavar="K", type=values.api_key, help="the key the emulator accepts"
    )
    parser.add_argument(
        "--api-secret", metavar="S", type=values.api_secret, help="its secret (HMAC)"
    )
    parser.add_argument(
        "--permissions",
        type=values.permissions,
        default=_DEFAULT_PERMISSIONS,
        help=f"the key's scopes, comma-separated (default: {_DEFAULT_PERMISSIONS}); also: "
        "transfer, withdraw",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        type=values.faults,
        help="fault rules: kind[:probability][@path][*count][=param], comma-separated",
    )
    parser.add_argument("--seed", type=values.seed, default=0, help="the random seed (default: 0)")
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--admin-token",
        metavar="TOKEN",
        type=values.admin_token,
        help="the token /_emulator/ admin calls must send in header X-Emulator-Token "
        "(default: a random one, printed at start)",
    )
    token.add_argument(
        "--no-admin-token",
        action="store_true",
        help="serve the admin API without a token (any local program may then use it)",
    )
    parser.set_defaults(handler=run)
