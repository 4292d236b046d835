"""The ccxt bridge: any exchange ccxt knows, behind this library's interface, models and errors.

``exchanges.connect("ccxt:<id>")`` (``connect_async`` for ``ccxt.async_support``) builds a ccxt
client for ``<id>`` and drives it through the library's own pipeline: argument validation,
retries, exactly-once order placement and secret scrubbing stay the library's, and each answer is
converted into the library's models with ``Decimal`` amounts.

Modules: ``adapter`` (each operation as a flow of ccxt calls), ``runner`` (executes those calls on
the ccxt client, sync or awaited), ``client`` (builds the ccxt client: environment, ``base_url``,
credentials), ``convert`` (ccxt's unified dicts into models), ``errors`` (ccxt's exceptions into
the error tree). ccxt itself is imported only when a client is built: it is an optional extra
(``pip install "exchanges[ccxt]"``).
"""
