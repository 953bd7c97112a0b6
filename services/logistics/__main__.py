"""`python -m services.logistics` serves the logistics gRPC API on its own (XB_LOGISTICS_PORT, default 50053)."""

from services.shared.process import run_service

run_service("logistics")
