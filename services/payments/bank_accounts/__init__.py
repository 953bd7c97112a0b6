"""The bank-account vault: merchants' payout accounts, encrypted, masked and blind-indexed."""
