"""How long does a big centres upload hold the write lock? (SQLite)

While it is held, every other writer waits, and gives up after the busy
timeout (5 s). For 30,000- and 50,000-row files (three users per centre), on
an empty site (everything is new: the most to insert) and on a site already
holding 95% of the file's centres and their users (3% renamed, half the users
activated), the upload is run in-process as a POST would run it, and the time
from taking the lock (lock_centre_imports) to the end of the commit is
measured, beside the whole upload. Run with
`cd bench && ../.venv/bin/python import_lock.py`.
"""

import io
import logging
import sys
import tempfile
import time
from pathlib import Path

import xlsxwriter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the app, from bench/

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from app import create_app  # noqa: E402
from app.config import TestConfig  # noqa: E402
from app.extensions import db  # noqa: E402
from app.models import Centre, User  # noqa: E402
from app.models.user import new_session_token  # noqa: E402
from app.services.centres.upload import apply  # noqa: E402
from app.services.clock import utcnow  # noqa: E402
from app.services.text import search_key  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PER_CENTRE = 3


def number(i: int) -> str:
    return f"LK{i:06d}"


def workbook(rows: int) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Centres")
    sheet.write_row(0, 0, ["Centre Number", "Centre Name", "Country", "Town", "Time Zone", "Zone"])
    sheet.write(0, 6, "Email")
    for r in range(rows):
        i = r // PER_CENTRE
        email = f"u{r % PER_CENTRE}.{number(i).lower()}@example.com"
        values = [number(i), f"Centre {i} School", "GB", "London", "Europe/London", 3, email]
        sheet.write_row(r + 1, 0, values)
    book.close()
    return buffer.getvalue()


def seed(rows: int) -> None:
    """95% of the file's centres and their users; 3% of those under an old name."""
    now = utcnow()
    on_site = rows // PER_CENTRE * 95 // 100
    renamed = on_site * 3 // 100
    centres = []
    for i in range(on_site):
        name = f"Old name {i}" if i < renamed else f"Centre {i} School"
        centres.append(
            dict(
                number=number(i),
                name=name,
                country="GB",
                town="London",
                timezone="Europe/London",
                zone=3,
                created_at=now,
                updated_at=now,
                search_key=search_key(number(i), name, "London"),
            )
        )
    db.session.execute(insert(Centre), centres)
    ids = dict(db.session.execute(db.select(Centre.number, Centre.id)).all())
    users = [
        dict(
            email=f"u{j}.{number(i).lower()}@example.com",
            role="centre",
            centre_id=ids[number(i)],
            pin=None if (i + j) % 2 == 0 else f"P{i:07d}{j}",
            activated_at=now if (i + j) % 2 == 0 else None,
            failed_logins=0,
            session_token=new_session_token(),
            created_at=now,
            updated_at=now,
        )
        for i in range(on_site)
        for j in range(PER_CENTRE)
    ]
    db.session.execute(insert(User), users)
    db.session.commit()


class StagesOfTheLastUpload(logging.Handler):
    """Keeps the upload's own log line (its stages, and how long it held the lock)."""

    message = ""

    def emit(self, record: logging.LogRecord) -> None:
        StagesOfTheLastUpload.message = record.getMessage()


def measure(rows: int, site: str) -> tuple[float, float]:
    """(seconds the write lock was held, seconds of the whole upload)."""
    content = workbook(rows)
    with tempfile.TemporaryDirectory(prefix="portal-lock-") as folder:
        app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/lock.db"})
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            if site == "95% on site":
                seed(rows)
        taken = []
        lock = apply.lock_centre_imports

        def timed_lock():
            lock()
            taken.append(time.perf_counter())

        apply.lock_centre_imports = timed_lock
        try:
            with app.test_request_context("/admin/centres/upload", method="POST"):
                started = time.perf_counter()
                result = apply.import_centres(content, "big.xlsx")
                if not hasattr(result, "status"):  # a preview: confirm what it showed
                    fingerprint = result.plan.fingerprint()
                    result = apply.import_centres(content, "big.xlsx", confirmed=fingerprint)
                db.session.commit()
                ended = time.perf_counter()
                assert result.status == "applied", result.problems[:3]
                db.session.remove()
        finally:
            apply.lock_centre_imports = lock
    return ended - taken[-1], ended - started


def main() -> None:
    stages = logging.getLogger(apply.__name__)
    stages.addHandler(StagesOfTheLastUpload())
    stages.setLevel(logging.INFO)
    print(f"{'rows':>7}  {'site':<12} {'lock held':>10} {'whole upload':>13}")
    for rows in (30_000, 50_000):
        for site in ("empty", "95% on site"):
            held, whole = measure(rows, site)
            print(f"{rows:>7,}  {site:<12} {held:>9.2f}s {whole:>12.2f}s", flush=True)
            print(f"         {StagesOfTheLastUpload.message}", flush=True)


if __name__ == "__main__":
    main()
