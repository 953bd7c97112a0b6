"""The payments metadata (schema `payments`) with the kernel's tables; each capability defines its own tables on it."""

from __future__ import annotations

import sqlalchemy as sa

from services.shared.idempotency import idempotency_table
from services.shared.tables import kernel_tables

metadata = sa.MetaData()
OUTBOX, PROCESSED_EVENTS, DATASET_VERSIONS = kernel_tables(metadata)
IDEMPOTENCY_KEYS = idempotency_table(metadata)
