"""Compliance reports a match applies, read from the compliance service.

`ComplianceReports` is the port; the gRPC adapter (adapters/compliance_reports.py) asks compliance's
GetProductCheck and bootstrap wires it. An unknown report is the caller's mistake (ReportNotFound);
compliance out of reach (ComplianceUnavailable) never fails the match: the plans come without the report
and the note says so.
"""

from __future__ import annotations

from typing import Protocol

from services.logistics.domain.compliance_reports import ComplianceReport


class ReportNotFound(Exception):
    """Compliance has no check with that code."""


class ComplianceUnavailable(Exception):
    """Compliance could not answer now; the message says why."""


class ComplianceReports(Protocol):
    def report(self, code: str) -> ComplianceReport: ...
