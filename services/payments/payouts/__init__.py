"""Payouts: screened, reserved as ledger pending transfers, posted, voided or expired."""
