"""`python -m services.identity` serves the identity gRPC API on its own (XB_IDENTITY_PORT, default 50056)."""

from services.shared.process import run_service

run_service("identity")
