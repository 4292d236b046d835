"""Client-cost benchmarks against a canned loopback server: ``python -m benchmarks [--quick]``."""
