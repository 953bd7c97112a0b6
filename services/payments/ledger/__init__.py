"""The double-entry ledger: accounts, balanced transactions, pending transfers, invariants."""
