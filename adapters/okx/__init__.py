"""OKX API v5: spot, perpetual swaps, dated futures (orders and data) and option market data."""
