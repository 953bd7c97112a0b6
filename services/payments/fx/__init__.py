"""FX: reference rates from a provider chain, spreads, locked quotes and their conversion."""
