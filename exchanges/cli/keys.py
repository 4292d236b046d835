"""``exchanges key audit``: what the configured API key may do, as a deployment gate."""

from __future__ import annotations

import argparse
from typing import Any

from exchanges.cli.options import add_connection_arguments, connect_from, formatter
from exchanges.cli.render import Output, fmt_time, to_jsonable
from exchanges.models import KeyAudit

__all__ = ["CRITICAL_EXIT", "add_parser", "audit_json", "run_audit", "show_audit"]

#: The exit status when the audit has a critical finding, so a deploy script can stop.
CRITICAL_EXIT = 3


def audit_json(audit: KeyAudit) -> dict[str, Any]:
    """The audit as JSON, with the verdict on top."""
    return {
        "exchange": audit.exchange,
        "key": audit.key,
        "critical": audit.critical,
        "info": to_jsonable(audit.info),
        "findings": to_jsonable(audit.findings),
    }


def show_audit(out: Output, audit: KeyAudit) -> None:
    """The key's properties, then its findings, as tables."""
    info = audit.info
    out.table(
        ["field", "value"],
        [
            ("exchange", audit.exchange),
            ("key", audit.key),
            ("read-only", info.read_only),
            ("permissions", info.permissions),
            ("IP whitelist", info.ip_whitelist),
            ("created (UTC)", fmt_time(info.created_at)),
            ("expires (UTC)", fmt_time(info.expires_at) if info.expires_at else "never"),
        ],
        title="API key",
        text=(1,),
    )
    out.table(
        ["severity", "finding", "advice"],
        [(f.severity.upper(), f.message, f.advice) for f in audit.findings]
        or [("OK", "no findings", "")],
        title="Findings",
        text=(1, 2),
    )


def run_audit(args: argparse.Namespace, out: Output) -> int:
    """Audit the key from the environment; exit status 3 on a critical finding."""
    ex = connect_from(args, out)
    with ex, out.progress(f"auditing the {ex.name} ({ex.env}) key"):
        audit = ex.audit_key()
    if args.json:
        out.json(audit_json(audit))
    else:
        show_audit(out, audit)
    if audit.critical:
        out.error(f"{audit.key}: critical finding(s); exit status {CRITICAL_EXIT}")
        return CRITICAL_EXIT
    return 0


def add_parser(commands: Any) -> None:
    """Register ``exchanges key audit``."""
    key = commands.add_parser(
        "key",
        help="API key tools (audit)",
        description="API key tools.",
        epilog="example:\n  exchanges key audit bybit --env testnet",
        formatter_class=formatter,
    )
    actions = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    audit = actions.add_parser(
        "audit",
        help="audit the key: permissions, withdrawal, IP whitelist, expiry",
        description="Audit the API key from <EXCHANGE>[_TESTNET|_DEMO]_API_KEY/_API_SECRET. "
        "Exit status: 0 no critical finding, 3 a critical one (e.g. the key can withdraw), "
        "1 the exchange refused the call.",
        epilog="example:\n  exchanges key audit bybit --env testnet || echo 'do not deploy'",
        formatter_class=formatter,
    )
    add_connection_arguments(audit)
    audit.set_defaults(handler=run_audit)
