"""The payments service, one subpackage per capability, each with its own layers:

ledger (double-entry accounts, transfers, pending transfers), settlement (collections, fees, refunds),
payouts (screened pending payouts to vaulted bank accounts), fx (rates, spreads, quotes, conversions), vas
(insurance and financing offers), bank_accounts (the encrypted vault), reconciliation (partner statements
against the ledger), reference_data (ISO 4217 currencies, ECB reference rates).

Shared by all of them: `tables.py` (the metadata), `unit_of_work.py` (PaymentsUnitOfWork, which owns every
repository), `migrations/`, and `bootstrap.py`, the one wiring module.
"""
