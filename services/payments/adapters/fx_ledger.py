"""The ledger as FX sees it: conversion postings and settled-collection history (wired after the ledger lands)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from services.payments.service_layer.fx_handlers import PostedConversion
from services.shared.errors import Unavailable
from services.shared.money import Money
from services.shared.uow import UnitOfWork


class LedgerConversions:
    def post_conversion(
        self, uow: UnitOfWork, *, reference: str, merchant_code: str, sell: Money, buy: Money, spread: Money
    ) -> PostedConversion:
        raise Unavailable("the ledger is not wired into FX yet")


class LedgerSettledHistory:
    def settled_volume(
        self, uow: UnitOfWork, merchant_code: str, currency: str, since: datetime, until: datetime
    ) -> tuple[Decimal, int]:
        raise Unavailable("the ledger is not wired into FX yet")
