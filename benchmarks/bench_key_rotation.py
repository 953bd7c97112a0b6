"""Key rotation of N encrypted fields on SQLite (a WAL file database), with a concurrent reader.

Fills a table with N envelope-encrypted 40-character values under KEK v1 (format 2), then rotates twice in
the same run with the production code (services/shared/crypto/rotation.py: batches, checkpoint, compare-
and-set), while a reader thread opens random rows as fast as it can with a cipher whose ring predates the
new KEK (it re-reads the ring file on first meeting it, as a running service does):

  reencrypt  baseline: decrypt + encrypt each value with a fresh data key (what format 1 required)
  rewrap     unwrap the data key with the old KEK and wrap it with the new one; value untouched

Prints time, rows/s and failed reads (target 0) for each, after the cryptography alone (us per row, no
database). Reports only; never fails on a timing.

    .venv/bin/python benchmarks/bench_key_rotation.py [--rows 1000000] [--batch 2000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from services.shared.crypto import EnvelopeCipher, KeyRing
from services.shared.crypto.fields import EncryptedColumn
from services.shared.crypto.rotation import ColumnRotation, checkpoint_table, column_status

metadata = sa.MetaData()
fields = sa.Table(
    "fields",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("tenant", sa.String(18), nullable=False),
    sa.Column("record", sa.String(18), nullable=False),
    sa.Column("value_enc", sa.Text, nullable=False),
)
checkpoints = checkpoint_table(metadata)
COLUMN = EncryptedColumn(
    "bench", fields, "value_enc", (), entity="bench", field="value", tenant_column="tenant", record_column="record"
)


def _engine(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def fill(engine: sa.Engine, cipher: EnvelopeCipher, rows: int) -> float:
    started = time.perf_counter()
    chunk = 10_000
    with engine.begin() as connection:
        for start in range(0, rows, chunk):
            batch = []
            for n in range(start, min(start + chunk, rows)):
                row = {"id": n + 1, "tenant": f"MC{n % 97:05d}", "record": f"R{n:09d}"}
                value = secrets.token_hex(20)
                batch.append({**row, "value_enc": cipher.encrypt_text(value, COLUMN.binding(_Row(row)))})
            connection.execute(fields.insert(), batch)
    return time.perf_counter() - started


class _Row:
    def __init__(self, values: dict[str, object]) -> None:
        self.__dict__.update(values)


def rotate(
    engine: sa.Engine, ring_path: Path, reader_ring: KeyRing, rows: int, batch: int, mode: str
) -> dict[str, float]:
    ring = KeyRing.load_file(ring_path).with_new_version()
    ring.save(ring_path)  # the new KEK is in the file before the first row is re-wrapped
    cipher = EnvelopeCipher(ring)
    reader = EnvelopeCipher(reader_ring, lambda: KeyRing.load_file(ring_path))
    stop = threading.Event()
    counts = {"reads": 0, "failed": 0}

    def read_loop() -> None:
        rng = random.Random(7)
        with engine.connect() as connection:
            while not stop.is_set():
                key = rng.randint(1, rows)
                row = connection.execute(sa.select(fields).where(fields.c.id == key)).one()
                connection.rollback()
                try:
                    reader.decrypt_text(row.value_enc, COLUMN.binding(row))
                    counts["reads"] += 1
                except Exception:
                    counts["failed"] += 1

    thread = threading.Thread(target=read_loop, daemon=True)
    thread.start()
    rewrap = (lambda c, t, b: c.reencrypt_text(t, b)) if mode == "reencrypt" else None
    started = time.perf_counter()
    result = ColumnRotation(engine, checkpoints, COLUMN, cipher, batch_size=batch, rewrap=rewrap).run()
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    left = column_status(engine, COLUMN, ring.newest.version).remaining
    return {
        "seconds": elapsed,
        "rows": result.rewrapped,
        "rows_per_s": result.rewrapped / elapsed,
        "remaining": left,
        "reads": counts["reads"],
        "failed_reads": counts["failed"],
    }


def per_row_us(ring: KeyRing, count: int = 20_000) -> dict[str, float]:
    """The cryptography alone, no database: us per row for each way of moving a value to a new KEK."""
    old = EnvelopeCipher(ring)
    new = EnvelopeCipher(ring.with_new_version())
    rows = [_Row({"tenant": f"MC{n % 97:05d}", "record": f"R{n:09d}"}) for n in range(count)]
    tokens = [old.encrypt_text(secrets.token_hex(20), COLUMN.binding(r)) for r in rows]
    out = {}
    for mode in ("reencrypt", "rewrap"):
        started = time.perf_counter()
        for token, row in zip(tokens, rows, strict=True):
            binding = COLUMN.binding(row)
            if mode == "rewrap":
                new.rewrap_text(token, binding)
            else:
                new.reencrypt_text(token, binding)
        out[mode] = (time.perf_counter() - started) / count * 1e6
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="encrypted fields (default 100,000)")
    parser.add_argument("--batch", type=int, default=2000, help="rows per rotation transaction")
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, SQLite (WAL, file), SQLAlchemy {sa.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        ring_path = Path(tmp) / "keyring.json"
        first = KeyRing.generate("bench")
        first.save(ring_path)
        crypto = per_row_us(first)
        print(
            f"crypto only: reencrypt {crypto['reencrypt']:.1f} us/row, rewrap {crypto['rewrap']:.1f} us/row "
            f"({crypto['reencrypt'] / crypto['rewrap']:.2f}x)"
        )
        engine = _engine(Path(tmp) / "bench.db")
        metadata.create_all(engine)
        filled = fill(engine, EnvelopeCipher(first), args.rows)
        print(f"filled {args.rows:,} fields under v1 in {filled:.1f} s")
        for mode in ("reencrypt", "rewrap"):
            reader_ring = KeyRing.load_file(ring_path)  # the reader knows only the KEKs that exist now
            r = rotate(engine, ring_path, reader_ring, args.rows, args.batch, mode)
            print(
                f"{mode:<10} {r['rows']:>10,.0f} rows in {r['seconds']:7.1f} s = {r['rows_per_s']:>8,.0f} rows/s; "
                f"remaining {r['remaining']:.0f}; concurrent reads {r['reads']:,.0f}, failed {r['failed_reads']:.0f}"
            )
        engine.dispose()


if __name__ == "__main__":
    main()
