"""Entries at scale: 300,000 rows for 10,000 centres, and every entry's key time in UTC.

One run, rounds interleaved, medians:
- the floor: openpyxl's read-only parse of the entries file (every value touched);
- uploading it to a series with no entries (read, reconcile, 300,000 inserts, the
  Key Time Errors refreshed, committed), through the app's own route (Flask's test
  client: no network, every other step of a request);
- uploading the same file again (nothing changes);
- loading the series' 300,000 entries from the database (four columns), against
  working out every entry's exam start and end in UTC (`entry_instants`).
Goals: upload ≤ 1.5× the parse, re-upload ≤ 1.2×, instants ≤ 2× the load.
Run with `make bench` (or `cd bench && ../.venv/bin/python entries.py`).
"""

import io
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import xlsxwriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import delete, insert, select  # noqa: E402

CENTRES = int(os.environ.get("BENCH_ENTRY_CENTRES", "10000"))
PER_CENTRE = 30  # components each: 300,000 entries
ROUNDS = int(os.environ.get("BENCH_ENTRY_ROUNDS", "3"))
SERIES = "2027-11"  # not the demo's series (2027-06)
COMPONENTS = [(f"{500 + 10 * (i // 3):04d}", f"{11 + i % 3:02d}") for i in range(PER_CENTRE)]


def build_app(folder: str):
    os.environ.setdefault("PORTAL_ENV", "development")
    os.environ["DATABASE_URL"] = f"sqlite:///{folder}/entries.db"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from flask_migrate import upgrade

    from app import create_app

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    logging.disable(logging.INFO)  # the migrations' progress lines
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    logging.disable(logging.NOTSET)
    return app


def seed(app) -> list[str]:
    """10,000 centres (the demo's generator), a timetable, and key times everywhere."""
    from app.extensions import db
    from app.models import Centre, KeyTime, TimetableSlot
    from app.services.demo import seed_demo, seed_scale
    from app.services.geography import countries

    with app.app_context():
        seed_demo()
        seed_scale(CENTRES)
        first = date(2027, 10, 25)
        db.session.execute(
            insert(TimetableSlot),
            [
                {
                    "series": SERIES,
                    "syllabus": syllabus,
                    "component": component,
                    "exam_date": first + timedelta(days=index // 2),
                    "session": "AM" if index % 2 == 0 else "PM",
                    "duration_minutes": 90,
                    "zones": "",
                }
                for index, (syllabus, component) in enumerate(COMPONENTS)
            ],
        )
        db.session.execute(
            insert(KeyTime),
            [
                {"series": SERIES, "country": c, "timezone": "", "am": "09:00", "pm": "13:30"}
                for c in countries()
            ],
        )
        db.session.commit()
        return list(
            db.session.scalars(
                select(Centre.number).where(Centre.deleted_at.is_(None)).order_by(Centre.id)
            )
        )[:CENTRES]


def build_file(path: Path, numbers: list[str]) -> None:
    """Written like Excel writes it: shared strings, and the sheet's dimensions stated."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Entries")
    sheet.write_row(0, 0, ["Centre Number", "Syllabus", "Component"])
    row = 1
    for number in numbers:
        for syllabus, component in COMPONENTS:
            sheet.write_row(row, 0, [number, syllabus, component])
            row += 1
    workbook.close()


def raw_parse(path: Path) -> float:
    """openpyxl's fastest plain read: read-only, values only, every value touched."""
    started = time.perf_counter()
    workbook = openpyxl.load_workbook(path, read_only=True)
    for values in workbook.worksheets[0].iter_rows(values_only=True):
        for _value in values:
            pass
    workbook.close()
    return time.perf_counter() - started


def upload(client, content: bytes) -> tuple[float, str]:
    """POST the file as the upload page does; Confirm if a preview asks; the report."""
    started = time.perf_counter()
    response = client.post(
        "/key-times/entries",
        data={"series": SERIES, "file": (io.BytesIO(content), "entries.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True)
    if response.status_code != 200:
        raise SystemExit(f"the upload answered {response.status_code}")
    summary = re.search(r'<p class="flash flash-\w+" role="status">(.*?)</p>', page, re.S)
    return elapsed, " ".join(re.sub(r"<[^>]+>", "", summary.group(1)).split()) if summary else "?"


def clear_entries(app) -> None:
    from app.extensions import db
    from app.models import Entry, EntryError, EntryUpload, KeyTimeError

    with app.app_context():
        for model in (EntryError, Entry, EntryUpload, KeyTimeError):
            db.session.execute(delete(model))
        db.session.commit()


def load_entries(app) -> float:
    from app.extensions import db
    from app.models import Entry

    with app.app_context():
        started = time.perf_counter()
        rows = db.session.execute(
            select(Entry.id, Entry.centre_id, Entry.syllabus, Entry.component).where(
                Entry.series == SERIES, Entry.withdrawn_at.is_(None)
            )
        ).all()
        elapsed = time.perf_counter() - started
        assert len(rows) == len(COMPONENTS) * CENTRES, len(rows)
        return elapsed


def compute_instants(app) -> tuple[float, int]:
    from app.extensions import db
    from app.services.timetable.checks import ExamTimes, entry_instants

    with app.app_context():
        started = time.perf_counter()
        found = list(entry_instants(SERIES))
        elapsed = time.perf_counter() - started
        assert len(found) == len(COMPONENTS) * CENTRES, len(found)
        timed = sum(isinstance(i.times, ExamTimes) for i in found)
        db.session.rollback()
        return elapsed, timed


def signed_in_client(app):
    from app.models import User
    from app.services.demo import DEMO_ADMIN

    client = app.test_client()
    with app.app_context():
        from app.extensions import db

        admin = db.session.scalar(select(User).where(User.email == DEMO_ADMIN))
        with client.session_transaction() as session:
            session["_user_id"] = admin.session_token
            session["_fresh"] = True
    return client


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="portal-bench-entries-") as folder:
        app = build_app(folder)
        started = time.perf_counter()
        numbers = seed(app)
        path = Path(folder) / "entries.xlsx"
        build_file(path, numbers)
        content = path.read_bytes()
        rows = len(numbers) * len(COMPONENTS)
        print(
            f"{len(numbers):,} centres, {rows:,} entries rows, {len(content) / 1e6:.1f} MB file "
            f"(set up in {time.perf_counter() - started:.0f} s); {ROUNDS} rounds, medians"
        )
        client = signed_in_client(app)
        parse, first, again, load, instants = [], [], [], [], []
        for _ in range(ROUNDS):
            clear_entries(app)
            parse.append(raw_parse(path))
            seconds, summary = upload(client, content)
            first.append(seconds)
            seconds, summary_again = upload(client, content)
            again.append(seconds)
            load.append(load_entries(app))
            seconds, timed = compute_instants(app)
            instants.append(seconds)
        floor = statistics.median(parse)
        loaded = statistics.median(load)
        print(f"  upload said: {summary}")
        print(f"  again said:  {summary_again}")
        print(f"  entries with a UTC start and end: {timed:,} of {rows:,}")
        print()
        print("| measure | median | ratio | goal |")
        print("|---|---|---|---|")
        print(f"| openpyxl read-only parse (floor) | {floor:.2f} s | 1.0 | |")
        for name, values, goal in (
            ("upload to an empty series", first, "≤ 1.5"),
            ("the same file again", again, "≤ 1.2"),
        ):
            median = statistics.median(values)
            print(f"| {name} | {median:.2f} s | {median / floor:.2f} × parse | {goal} |")
        print(f"| load the series' entries (4 columns) | {loaded:.2f} s | 1.0 | |")
        median = statistics.median(instants)
        ratio = median / loaded
        print(f"| every entry's UTC start and end | {median:.2f} s | {ratio:.2f} × load | ≤ 2 |")


if __name__ == "__main__":
    main()
