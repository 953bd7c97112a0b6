import pytest

from services.shared.errors import ConfigurationError
from services.shared.settings import Settings


def test_defaults_are_the_embedded_platform() -> None:
    settings = Settings.from_env({})
    assert settings.database_url is None and settings.broker_url is None
    assert settings.embedded_database
    assert settings.service_address("payments") == "127.0.0.1:50052"


def test_environment_overrides() -> None:
    settings = Settings.from_env(
        {
            "XB_DATABASE_URL": "postgresql+psycopg://app:s3cret@db:5432/xborder",
            "XB_BROKER_URL": "amqp://guest:guest@mq:5672//",
            "XB_PAYMENTS_HOST": "payments",
            "XB_PAYMENTS_PORT": "6000",
            "XB_GRPC_WORKERS": "4",
            "XB_LOG_JSON": "false",
        }
    )
    assert settings.service_address("payments") == "payments:6000"
    assert settings.grpc_workers == 4 and settings.log_json is False
    assert not settings.embedded_database


def test_secrets_are_masked_when_printed() -> None:
    settings = Settings.from_env({"XB_DATABASE_URL": "postgresql+psycopg://app:s3cret@db:5432/xborder"})
    shown = settings.masked()
    assert "s3cret" not in str(shown)
    assert shown["database_url"] == "postgresql+psycopg://app:***@db:5432/xborder"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("XB_GRPC_WORKERS", "many", "XB_GRPC_WORKERS must be an integer >= 1, got 'many'"),
        ("XB_GRPC_WORKERS", "0", "XB_GRPC_WORKERS must be an integer >= 1, got '0'"),
        ("XB_GATEWAY_HTTP_PORT", "70000", "XB_GATEWAY_HTTP_PORT must be a port number"),
        ("XB_DATABASE_URL", "mysql://x", "XB_DATABASE_URL must be"),
        ("XB_BROKER_URL", "redis://x", "XB_BROKER_URL must be"),
        ("XB_LOG_JSON", "maybe", "XB_LOG_JSON must be true or false"),
        ("XB_PAYMENTS_PORT", "x1", "XB_PAYMENTS_PORT must be a port number"),
        ("XB_DEFAULT_DEADLINE_S", "-1", "XB_DEFAULT_DEADLINE_S must be a number of seconds > 0"),
        ("XB_OUTBOX_POLL_S", "nan", "XB_OUTBOX_POLL_S must be a number of seconds > 0"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({name: value})
