"""`python -m services.payments` serves the payments gRPC API on its own (XB_PAYMENTS_PORT, default 50052)."""

from services.shared.process import run_service

run_service("payments")
