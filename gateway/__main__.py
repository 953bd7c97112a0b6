"""`python -m gateway` serves the REST gateway (uvicorn, XB_GATEWAY_HTTP_PORT) and the gRPC front door
(XB_GATEWAY_GRPC_PORT) until SIGINT/SIGTERM, then drains both."""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn

from gateway.app import create_app
from gateway.front_door import serve_front_door
from services.shared.logs import configure, get_logger
from services.shared.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    configure(settings.log_level, json=settings.log_json)
    log = get_logger("gateway")
    front_door = serve_front_door(settings)
    host = settings.bind_host
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=settings.gateway_http_port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    server = uvicorn.Server(config)

    def stop(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True

    # uvicorn drains on SIGINT/SIGTERM and then re-raises the signal to the handler it found installed; with
    # this one installed first, that re-raise does not kill the process before the front door has drained.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    try:
        server.run()
    finally:
        log.info("shutting_down")
        front_door.stop(grace=5.0)


if __name__ == "__main__":
    main()
