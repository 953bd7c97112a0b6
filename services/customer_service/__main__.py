"""`python -m services.customer_service` serves the customer-service gRPC API (XB_CUSTOMER_SERVICE_PORT, 50054)."""

from services.shared.process import run_service

run_service("customer_service")
