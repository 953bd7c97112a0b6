"""Reference data: ISO 4217 currencies and ECB reference rates (crossed through EUR)."""
