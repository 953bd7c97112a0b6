"""`python -m services.compliance` serves the compliance gRPC API on its own (XB_COMPLIANCE_PORT, default 50051)."""

from services.shared.process import run_service

run_service("compliance")
