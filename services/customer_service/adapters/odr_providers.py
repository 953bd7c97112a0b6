"""ODR providers: where a case file goes. The EU ODR platform closed on 2025-07-20 (Regulation (EU)
2024/3228), so there is no single endpoint: a provider is an adapter chosen by configuration.

- `FileDropProvider` writes the case file as JSON into a directory (a provider or an operator collects it).
- `HttpProvider` POSTs the case file as JSON to the provider's URL.

`submit` returns the provider's reference for the case, or raises `ProviderUnavailable`; the delivery task
(service_layer/odr.py) records the attempt and tries again later with backoff.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

import httpx


class ProviderUnavailable(Exception):
    """The provider did not take the case this time (down, timed out, refused); it is retried."""


class OdrProvider(Protocol):
    name: str

    def submit(self, case_file: dict[str, Any]) -> str: ...


def _file_name(case_file: dict[str, Any]) -> str:
    case = case_file["case"]
    return f"{case['ticket_code']}-v{case['version']}.json"


class FileDropProvider:
    name = "file"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def submit(self, case_file: dict[str, Any]) -> str:
        """Write atomically (a reader never sees half a file); the same version again overwrites it identically."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / _file_name(case_file)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(case_file, out, ensure_ascii=False, indent=2, sort_keys=True)
            os.replace(temporary, target)
        except OSError as error:
            raise ProviderUnavailable(f"cannot write to {self.directory}: {error}") from error
        return target.name


class HttpProvider:
    name = "http"

    def __init__(self, url: str, timeout_s: float, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.transport = transport

    def submit(self, case_file: dict[str, Any]) -> str:
        """POST the case file; a 2xx answer is taken (its JSON `reference`, if any, is kept)."""
        case = case_file["case"]
        headers = {"Idempotency-Key": f"{case['ticket_code']}-v{case['version']}"}
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                response = client.post(self.url, json=case_file, headers=headers)
        except httpx.HTTPError as error:
            raise ProviderUnavailable(f"{type(error).__name__}: {error}") from error
        if not response.is_success:
            raise ProviderUnavailable(f"HTTP {response.status_code} from {self.url}")
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        reference = answer.get("reference") if isinstance(answer, dict) else None
        return str(reference) if reference else headers["Idempotency-Key"]
