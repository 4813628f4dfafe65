"""Catalog import: a 50,000-row CSV read, checked and applied in one transaction.

Postgres and Redis are embedded with production settings (fsync on). A shop is created,
then two imports run the way `souk import` runs them (read -> plan under the import
lock -> apply, one transaction; embeddings left to the worker):

- "new": a 50,000-row CSV (UTF-8 with BOM, semicolons, an extra column) into the empty
  shop: 50,000 inserts and their stock movements;
- "changed": the same file with a fifth of the prices changed, and half of those also
  with a new title and stock: 50,000 rows compared, ~10,000 updates with their audit
  rows (~5,000 products to re-embed, left to the worker).

Run: `.venv/bin/python bench/import.py [--rows 50000]`. Prints seconds, rows/s and the
peak memory (VmHWM) of this process; PASS if each import takes under 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` and `tests` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import bench_workdir, embedded_services
from bench.procfs import peak_rss_mb
from bench.report import fmt, print_table
from souk.db.session import create_engine, create_session_factory
from souk.embedded import ServiceURLs
from souk.logs import setup_logging
from souk.services.imports import CatalogImport, ImportSummary, read_table
from souk.services.shops import ShopService

TARGET_SECONDS = 60.0
_CATEGORIES = ["Phones", "Laptops", "Audio", "Cables", "Кухня", "Освещение", "Garden", "Toys"]
_WORDS = ["wireless", "smart", "compact", "steel", "classic", "pro", "mini", "ultra", "eco"]
_COLUMNS = ["sku", "title", "description", "category", "brand", "price", "currency", "stock"]


def catalog_csv(rows: int, *, changed: bool, seed: int = 7) -> bytes:
    """`rows` products as a seller's CSV; with `changed`, some prices, titles and stocks
    differ (the same ones every time for a seed)."""
    pick = random.Random(seed)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([*_COLUMNS, "attributes", "colour"])
    for n in range(rows):
        words = " ".join(pick.sample(_WORDS, 3))
        price = pick.randint(100, 500_000) / 100
        stock = pick.randint(0, 200)
        title = f"{words.title()} {n}"
        roll = pick.random()
        if changed and roll < 0.2:
            price = round(price * 1.1, 2)
        if changed and roll < 0.1:
            title += " (2025)"
            stock += 1
        writer.writerow(
            [
                f"SKU-{n:06d}",
                title,
                f"A {words} thing; model {n}.\nTwo lines of text.",
                _CATEGORIES[n % len(_CATEGORIES)],
                f"Brand {n % 97}",
                f"{price:.2f}".replace(".", ","),
                "USD",
                stock,
                f'{{"weight_g": {n % 1000}}}',
                pick.choice(["red", "black", "white", ""]),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def import_once(
    urls: ServiceURLs, shop_id: int, data: bytes
) -> tuple[ImportSummary, float, float]:
    """The summary, the seconds to read/check/compare, and the seconds in all."""
    engine = create_engine(urls.database_url, pool_size=1)
    try:
        started = time.perf_counter()
        async with create_session_factory(engine)() as session, session.begin():
            importer = CatalogImport(session, shop_id)
            plan = await importer.plan(read_table(data, "catalog.csv"), lock=True)
            planned = time.perf_counter()
            summary = await importer.apply(plan)
        return summary, planned - started, time.perf_counter() - started
    finally:
        await engine.dispose()


async def create_shop(urls: ServiceURLs) -> int:
    engine = create_engine(urls.database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            shop = await ShopService(session).create(slug="bench-import", name="Bench import")
            return shop.id
    finally:
        await engine.dispose()


async def run(rows: int) -> bool:
    async with bench_workdir("souk-bench-import-") as workdir, embedded_services(workdir) as urls:
        shop_id = await create_shop(urls)
        baseline = peak_rss_mb(os.getpid())
        files = {
            "new": catalog_csv(rows, changed=False),
            "changed": catalog_csv(rows, changed=True),
        }
        figures, passed = [], True
        for name, data in files.items():
            summary, checking, seconds = await import_once(urls, shop_id, data)
            passed &= seconds < TARGET_SECONDS and summary.rejected == 0
            figures.append(
                [
                    name,
                    f"{len(data) / 1024 / 1024:.1f}",
                    f"{summary.new:,}",
                    f"{summary.changed:,}",
                    f"{summary.unchanged:,}",
                    f"{summary.rejected:,}",
                    fmt(checking),
                    fmt(seconds),
                    fmt(rows / seconds, 0),
                ]
            )
    print(f"catalog import, {rows:,} rows, one transaction each (target < {TARGET_SECONDS:.0f} s)")
    print_table(
        ["import", "MB", "new", "changed", "same", "rejected", "check s", "total s", "rows/s"],
        figures,
    )
    print(
        f"peak memory of the importing process: {fmt(peak_rss_mb(os.getpid()))} MiB "
        f"({fmt(baseline)} MiB before the first import)"
    )
    print("PASS" if passed else "FAIL")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    setup_logging(level="WARNING", json=False)
    sys.exit(0 if asyncio.run(run(args.rows)) else 1)


if __name__ == "__main__":
    main()
