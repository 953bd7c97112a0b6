"""Partner settlement statements reconciled against the ledger, and merchant statements."""
