"""``python -m exchanges.cli``: the same as the ``exchanges`` command."""

from exchanges.cli import main

raise SystemExit(main())
