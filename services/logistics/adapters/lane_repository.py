"""Lane history: counts added by the tracking ingest, read whole by the catalogue cache."""

from __future__ import annotations

from collections import Counter, defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from services.logistics.adapters.lane_tables import lane_outcomes, lane_transit_days
from services.logistics.domain.lane_history import Finish, LaneHistory
from services.shared.uow import insert_for


class LaneRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(self, finishes: list[Finish]) -> None:
        """Add the finishes to their lanes' counts (increments on conflict: concurrent batches add up)."""
        if not finishes:
            return
        outcomes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        days: Counter[tuple[str, str, int]] = Counter()
        for f in finishes:
            lane = outcomes[f.channel_code, f.country]
            lane["finished"] += 1
            lane["delivered"] += f.delivered_days is not None
            lane["exceptions"] += f.exception
            lane["lost"] += f.lost
            if f.delivered_days is not None:
                days[f.channel_code, f.country, f.delivered_days] += 1
        insert = insert_for(self.connection)
        counts = ("finished", "delivered", "exceptions", "lost")
        upsert = insert(lane_outcomes)
        upsert = upsert.on_conflict_do_update(
            index_elements=["channel_code", "destination_country"],
            set_={name: lane_outcomes.c[name] + upsert.excluded[name] for name in counts},
        )
        self.connection.execute(
            upsert,
            [
                {"channel_code": c, "destination_country": k, **{name: n[name] for name in counts}}
                for (c, k), n in sorted(outcomes.items())
            ],
        )
        if days:
            per_day = insert(lane_transit_days)
            per_day = per_day.on_conflict_do_update(
                index_elements=["channel_code", "destination_country", "days"],
                set_={"shipments": lane_transit_days.c.shipments + per_day.excluded.shipments},
            )
            self.connection.execute(
                per_day,
                [
                    {"channel_code": c, "destination_country": k, "days": d, "shipments": n}
                    for (c, k, d), n in sorted(days.items())
                ],
            )

    def revision(self) -> int:
        """Changes whenever a shipment finishes (the total of finished shipments)."""
        return int(
            self.connection.execute(sa.select(sa.func.coalesce(sa.func.sum(lane_outcomes.c.finished), 0))).scalar_one()
        )

    def all(self) -> dict[tuple[str, str], LaneHistory]:
        transit: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
        for row in self.connection.execute(sa.select(lane_transit_days)):
            transit[row.channel_code, row.destination_country][row.days] = row.shipments
        return {
            (r.channel_code, r.destination_country): LaneHistory(
                r.finished, r.delivered, r.exceptions, r.lost, transit.get((r.channel_code, r.destination_country), {})
            )
            for r in self.connection.execute(sa.select(lane_outcomes))
        }
