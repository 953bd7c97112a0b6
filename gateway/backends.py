"""One gRPC channel per backend service, and awaiting a blocking-stub call without blocking the event loop.

The sync channel's `future()` runs the call on gRPC's own threads; its completion is handed to the event
loop with `call_soon_threadsafe`. That keeps the loop free without a thread per call, and works under any
loop (uvicorn's, or the one Starlette's TestClient starts), which a `grpc.aio` channel bound to one loop
would not.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.descriptors import MethodInfo
from services.shared.grpc_server import channel_options
from services.shared.local_calls import invoke_local
from services.shared.logs import get_logger
from services.shared.settings import Settings

log = get_logger(__name__)

Metadata = tuple[tuple[str, str | bytes], ...]


def backend_address(settings: Settings, service: str) -> str | None:
    """Where the service's gRPC server listens, or None when the settings know no port for it."""
    if service not in settings.service_ports:
        return None
    return settings.service_address(service)


class Backends:
    """The shared channels and per-method callables; built once, closed on shutdown.

    `local` handlers (services running in this process, the embedded platform) are called in a thread of
    this process under the servers' own interceptor instead of over loopback gRPC (ADR 0008); their
    channels stay for the health checks.
    """

    def __init__(
        self, settings: Settings, services: Iterable[str], local: Mapping[str, grpc.RpcMethodHandler] | None = None
    ) -> None:
        self.settings = settings
        self.addresses: dict[str, str] = {}
        self._channels: dict[str, grpc.Channel] = {}
        self._callables: dict[str, grpc.UnaryUnaryMultiCallable] = {}
        self._local = dict(local or {})
        self._pool = (
            ThreadPoolExecutor(max_workers=settings.grpc_workers, thread_name_prefix="local-rpc")
            if self._local
            else None
        )
        for service in sorted(set(services)):
            address = backend_address(settings, service)
            if address is None:
                log.warning("backend_unknown", service=service, why="no port in settings.service_ports")
                continue
            self.addresses[service] = address
            self._channels[service] = grpc.insecure_channel(address, options=channel_options(settings))

    def __contains__(self, service: str) -> bool:
        return service in self._channels

    def channel(self, service: str) -> grpc.Channel:
        return self._channels[service]

    def callable(self, method: MethodInfo) -> grpc.UnaryUnaryMultiCallable:
        found = self._callables.get(method.grpc_path)
        if found is None:
            found = self.channel(method.service).unary_unary(
                method.grpc_path,
                request_serializer=method.input_class.SerializeToString,
                response_deserializer=method.output_class.FromString,
            )
            self._callables[method.grpc_path] = found
        return found

    def raw_callable(self, service: str, grpc_path: str) -> grpc.UnaryUnaryMultiCallable:
        """Bytes in, bytes out: for the front door, which forwards without decoding."""
        return self.channel(service).unary_unary(grpc_path, request_serializer=None, response_deserializer=None)

    async def call(self, method: MethodInfo, request: Message, *, timeout: float, metadata: Metadata) -> Any:
        handler = self._local.get(method.grpc_path)
        if handler is not None and self._pool is not None:
            invoke = partial(
                invoke_local,
                handler,
                request,
                method=method.grpc_path,
                metadata=metadata,
                timeout=timeout,
                default_deadline_s=self.settings.default_deadline_s,
            )
            # A copy of the context: the interceptor binds the request id to its own, not the event loop's.
            return await asyncio.get_running_loop().run_in_executor(self._pool, contextvars.copy_context().run, invoke)
        return await await_future(self.callable(method).future(request, timeout=timeout, metadata=metadata))

    def call_sync(self, method: MethodInfo, request: Message, *, timeout: float, metadata: Metadata) -> Any:
        """The same call, blocking (for the front door's worker threads)."""
        handler = self._local.get(method.grpc_path)
        if handler is not None:
            return invoke_local(
                handler,
                request,
                method=method.grpc_path,
                metadata=metadata,
                timeout=timeout,
                default_deadline_s=self.settings.default_deadline_s,
            )
        return self.callable(method)(request, timeout=timeout, metadata=metadata)

    async def health(self, timeout: float) -> dict[str, str]:
        """service -> grpc health status name ("SERVING", "NOT_SERVING", "UNREACHABLE"...)."""

        async def check(service: str) -> tuple[str, str]:
            stub = health_pb2_grpc.HealthStub(self._channels[service])
            try:
                answer = await await_future(stub.Check.future(health_pb2.HealthCheckRequest(), timeout=timeout))
            except grpc.RpcError as error:
                code = error.code() if hasattr(error, "code") else None
                return service, "UNREACHABLE" if code in (grpc.StatusCode.UNAVAILABLE, None) else code.name
            return service, health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)

        results = await asyncio.gather(*(check(service) for service in self._channels))
        return dict(results)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
        self._callables.clear()


async def await_future(call: Any) -> Any:
    """Await a grpc future (which is also the Call); cancelling the awaiting task cancels the RPC."""
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[Any] = loop.create_future()

    def settle(done: Any) -> None:
        if waiter.done():
            return
        error = done.exception()
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(done.result())

    def on_done(done: Any) -> None:
        try:
            if done.cancelled():
                loop.call_soon_threadsafe(lambda: waiter.done() or waiter.cancel())
            else:
                loop.call_soon_threadsafe(settle, done)
        except RuntimeError:  # the loop closed while the call was in flight: nobody is waiting any more
            pass

    call.add_done_callback(on_done)
    try:
        return await waiter
    except asyncio.CancelledError:
        call.cancel()
        raise
