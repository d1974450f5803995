"""Reports at scale, in one run, served by gunicorn (2 workers) and signed in as an admin:

- 10,000 centres, a release of 30 resources to all of them (300,000 authorisations,
  windows open now), 500,000 downloads under it (9,400 centres have downloaded, the
  rest not), and 1,000,000 events in the Event Logs' hash chain;
- interleaved with the trivial /healthz (BENCH_ROUNDS, default 200): the by-release
  Audit Report's first page, its "not downloaded" filter, the Event Logs' page 1 and
  its page 1,000 (the cursor 999 "Older" clicks away). Goal: p95 ≤ 5× /healthz's.
- a full-release .xlsx export through a gunicorn with one worker: the worker's peak
  memory (VmHWM) above its resident memory once warmed up. Goal: < 150 MB.

Run with `make bench` (or `cd bench && ../.venv/bin/python reports.py`).
"""

import os
import re
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import Browser, gunicorn, measure, portal_env
from entries import SERIES, build_app, seed
from releases import percentile_95, seed_release_inputs
from sqlalchemy import func, insert, select

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
DOWNLOADS = int(os.environ.get("BENCH_DOWNLOADS", "500000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "1000000"))
DOWNLOADED_CENTRES = 9_400
PAGE_SIZE = 50  # the Event Logs' page size
ADMIN = "admin@example.com"  # app/services/demo.py
PASSWORD = "portal-demo-2026"  # noqa: S105  (app/services/demo.py: DEMO_PASSWORD)
ACTIONS = (
    ("login.succeeded", 70),
    ("logout", 10),
    ("centre.edited", 8),
    ("user.created", 5),
    ("email.queued", 4),
    ("resource.uploaded", 2),
    ("release.created", 1),
)


def seed_release(app, resource_ids: list[int]) -> int:
    """A release of the 30 resources to every entered centre, windows open now (a
    fixed window: opened two days ago, closes in thirty); each resource gets a file."""
    from app.extensions import db
    from app.models import ResourceFile
    from app.services.releases.planning import plan_release, save_release
    from app.services.releases.windows import WindowRule

    now = datetime.now(UTC).replace(microsecond=0)
    rule = WindowRule(opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=30))
    with app.app_context():
        for index, resource_id in enumerate(resource_ids):
            db.session.add(
                ResourceFile(
                    resource_id=resource_id,
                    number=1,
                    original_name=f"paper_{index:02d}.pdf",
                    stored_name=f"{secrets.token_hex(16)}.pdf",
                    size=250_000 + index,
                    sha256=secrets.token_hex(32),
                    media_type="application/pdf",
                )
            )
        db.session.flush()
        plan = plan_release(SERIES, resource_ids, "entered", rule)
        release = save_release(plan, title="bench: reports", actor_id=None)
        db.session.commit()
        return release.id


def seed_downloads(app, release_id: int) -> None:
    """DOWNLOADS sent downloads by the first DOWNLOADED_CENTRES centres (in id order),
    spread over their resources and the last two days."""
    from app.extensions import db
    from app.models import Authorisation, Download, ResourceFile
    from app.services.releases import figures

    with app.app_context():
        files = dict(db.session.execute(select(ResourceFile.resource_id, ResourceFile.id)).all())
        pairs = db.session.execute(
            select(Authorisation.centre_id, Authorisation.resource_id)
            .where(Authorisation.release_id == release_id)
            .order_by(Authorisation.centre_id, Authorisation.resource_id)
        ).all()
        centres = sorted({centre for centre, _ in pairs})[:DOWNLOADED_CENTRES]
        chosen = set(centres)
        pairs = [(c, r) for c, r in pairs if c in chosen]
        started = datetime.now(UTC) - timedelta(days=2)
        batch = []
        for n in range(DOWNLOADS):
            centre_id, resource_id = pairs[n % len(pairs)]
            batch.append(
                {
                    "at": started + timedelta(seconds=n * 0.3),
                    "user_email": f"exams.{centre_id}@example.com",
                    "centre_id": centre_id,
                    "resource_file_id": files[resource_id],
                    "release_id": release_id,
                    "ip": f"10.{n % 250}.{n // 250 % 250}.{n % 7 + 1}",
                    "status": "sent",
                }
            )
            if len(batch) == 50_000:
                db.session.execute(insert(Download), batch)
                batch = []
        if batch:
            db.session.execute(insert(Download), batch)
        # Bulk-inserted downloads: their figures worked out afresh (recording each
        # download one by one keeps them as it goes: catalogue.record_download).
        figures.rebuild(release_id)
        db.session.commit()


def seed_events(app) -> None:
    """EVENTS events in the hash chain, as the app would write them (chained in
    batches, under the chain's lock)."""
    from app.extensions import db
    from app.models import Event
    from app.services.event_chain import chain

    weighted = [action for action, weight in ACTIONS for _ in range(weight)]
    started = datetime.now(UTC) - timedelta(days=365)
    with app.app_context():
        connection = db.session.connection()
        for first in range(0, EVENTS, 20_000):
            rows = [
                {
                    "at": started + timedelta(seconds=n * 30),
                    "actor_id": n % 400 + 1,
                    "actor_email": f"user{n % 400}@example.com",
                    "action": weighted[n % len(weighted)],
                    "subject_type": "Centre",
                    "subject_id": n % 10_000 + 1,
                    "details": {"n": n, "changed": {"name": ["Old name", "New name"]}},
                    "ip": f"192.0.2.{n % 200 + 1}",
                }
                for n in range(first, min(first + 20_000, EVENTS))
            ]
            chain(connection, rows)
            connection.execute(insert(Event.__table__), rows)
        db.session.commit()


def cursor_of_page(app, page: int) -> int:
    """The `before` id that the Event Logs' Older link carries to reach `page`."""
    from app.extensions import db
    from app.models import Event

    with app.app_context():
        return db.session.scalar(
            select(Event.id).order_by(Event.id.desc()).offset((page - 1) * PAGE_SIZE - 1).limit(1)
        )


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) for key in ("VmRSS", "VmHWM")}


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def export_memory(env: dict, release_id: int) -> tuple[float, float, int, float]:
    """(MB resident once warm, MB peak above it, bytes exported, seconds)."""
    with gunicorn(env, workers=1, master_pid=True) as (port, master):
        browser = Browser(port)
        browser.sign_in(ADMIN, PASSWORD)
        report = f"/reports/audit/releases/{release_id}"
        for path in (report, f"{report}?downloaded=no", "/reports/events"):
            for _ in range(3):
                browser.request("GET", path)
        # Warm: one small export first (imports openpyxl, fills the caches).
        browser.request("GET", f"{report}/export?format=xlsx&country=GB", text=False)
        pid = worker_pid(master)
        idle = memory_kib(pid)["VmRSS"]
        started = time.perf_counter()
        status, body, _ = browser.request("GET", f"{report}/export?format=xlsx", text=False)
        seconds = time.perf_counter() - started
        if status != 200 or not body.startswith(b"PK"):
            raise SystemExit(f"the export answered {status}")
        peak = memory_kib(pid)["VmHWM"]
        return idle / 1024, (peak - idle) / 1024, len(body), seconds


def getter(browser: Browser, path: str):
    return lambda round_number: browser.request("GET", path)[0]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="portal-bench-reports-") as folder:
        app = build_app(folder)
        started = time.perf_counter()
        numbers = seed(app)
        release_id = seed_release(app, seed_release_inputs(app, numbers))
        seed_downloads(app, release_id)
        seed_events(app)
        page_1000 = cursor_of_page(app, 1000)
        with app.app_context():
            from app.extensions import db
            from app.models import Authorisation, Download, Event

            counts = [
                db.session.scalar(select(func.count()).select_from(model))
                for model in (Authorisation, Download, Event)
            ]
            db.engine.dispose()
        print(
            f"seeded in {time.perf_counter() - started:.0f} s: {len(numbers):,} centres, "
            f"{counts[0]:,} authorisations, {counts[1]:,} downloads, {counts[2]:,} events"
        )
        env = {**portal_env(os.environ["DATABASE_URL"]), "RESOURCE_STORAGE_DIR": folder}
        report = f"/reports/audit/releases/{release_id}"
        with gunicorn(env) as port:
            browser = Browser(port)
            browser.sign_in(ADMIN, PASSWORD)
            pages = {
                "`/healthz` (trivial)": "/healthz",
                "by-release report, page 1": report,
                "by-release report, not downloaded": f"{report}?downloaded=no",
                "Event Logs, page 1": "/reports/events",
                "Event Logs, page 1,000": f"/reports/events?before={page_1000}",
            }
            for name, path in pages.items():
                status, body, _ = browser.request("GET", path)
                if status != 200:
                    raise SystemExit(f"{name} ({path}) answered {status}")
            timings = measure({name: getter(browser, path) for name, path in pages.items()}, ROUNDS)
        print_timings(timings)
        idle, above, size, seconds = export_memory(env, release_id)
    print(
        f"\nFull-release .xlsx export ({size / 1024:,.0f} KiB in {seconds:.1f} s), one worker: "
        f"resident {idle:.0f} MB once warm, peak {above:.1f} MB above that (goal < 150 MB)."
    )


def print_timings(timings: dict[str, list[float]]) -> None:
    healthz = timings["`/healthz` (trivial)"]
    print(f"\n{ROUNDS} rounds, gunicorn with 2 workers, one client; medians and p95:\n")
    print("| request | median | p95 | × /healthz (median) | × /healthz (p95) | goal |")
    print("|---|---|---|---|---|---|")
    for name, values in timings.items():
        goal = "" if values is healthz else "p95 ≤ 5×"
        print(
            f"| {name} | {statistics.median(values):.1f} ms | {percentile_95(values):.1f} ms | "
            f"{statistics.median(values) / statistics.median(healthz):.1f} | "
            f"{percentile_95(values) / percentile_95(healthz):.1f} | {goal} |"
        )


if __name__ == "__main__":
    main()
