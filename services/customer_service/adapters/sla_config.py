"""The SLA calendar and policies from data/customer_service/: sla.yaml, makeup_workdays.csv, and the
public holidays of the calendar's country from the `holidays` package."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

import holidays
import yaml

from services.customer_service.domain.calendar import BusinessCalendar, CalendarSpec, weekly_hours
from services.customer_service.domain.sla import SlaPolicy, Targets
from services.customer_service.domain.tickets import Priority, TicketType
from services.shared.errors import ConfigurationError

FOLDER = "customer_service"


def makeup_workdays(path: Path, country: str) -> frozenset[date]:
    """The make-up working days of `country` listed in the CSV (country,date,notice)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return frozenset(date.fromisoformat(row["date"]) for row in csv.DictReader(handle) if row["country"] == country)


def public_holidays(country: str, first_year: int, last_year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(country, years=range(first_year, last_year + 1)).keys())


def load(data_dir: Path) -> tuple[BusinessCalendar, SlaPolicy]:
    folder = data_dir / FOLDER
    try:
        config: dict[str, Any] = yaml.safe_load((folder / "sla.yaml").read_text(encoding="utf-8"))
        calendar_config = config["calendar"]
        country = str(calendar_config["country"])
        first_year, last_year = int(calendar_config["first_year"]), int(calendar_config["last_year"])
        spec = CalendarSpec(
            zone=str(calendar_config["zone"]),
            weekly=weekly_hours(calendar_config["hours"]),
            holidays=public_holidays(country, first_year, last_year),
            makeup_days=makeup_workdays(folder / "makeup_workdays.csv", country),
        )
        calendar = BusinessCalendar(spec, date(first_year, 1, 1), date(last_year, 12, 31))
        policy = SlaPolicy(
            by_priority={Priority[name]: _targets(values) for name, values in config["policies"].items()},
            by_type={
                (Priority[priority], TicketType[type_name]): _targets(values)
                for type_name, per_priority in (config.get("types") or {}).items()
                for priority, values in per_priority.items()
            },
        )
    except (OSError, KeyError, ValueError, TypeError) as error:
        raise ConfigurationError(f"{folder / 'sla.yaml'}: {error!r}") from error
    missing = [p.name for p in Priority if p not in policy.by_priority]
    if missing:
        raise ConfigurationError(f"{folder / 'sla.yaml'}: no policy for priority {', '.join(missing)}")
    return calendar, policy


def _targets(values: dict[str, Any]) -> Targets:
    targets = Targets(int(values["first_response"]), int(values["next_response"]), int(values["resolution"]))
    if min(targets.first_response, targets.next_response, targets.resolution) <= 0:
        raise ValueError(f"SLA targets must be positive minutes, got {values}")
    return targets
