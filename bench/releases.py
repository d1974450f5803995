"""Releases at scale, in one run:

1. Saving a release: 30 resources to 10,000 entered centres, 300,000 authorisations,
   against a bare bulk insert of the same rows. In-process (no HTTP): the save is what
   the Save button runs — plan_release (the entries, every centre's window from its key
   time in its own zone) and save_release (the Release, its resources, 300,000
   authorisations in bulk, the Event), committed. The floor is a Core bulk insert of the
   same 300,000 rows, committed. Rounds are interleaved and the table emptied between
   them; medians. Goal: saving ≤ 2× the bare insert.
2. A centre's Home with 200 authorised resources (100 available now, 60 opening later,
   40 closed, over 15 exam dates), among the 300,000 authorisations left by (1), served
   by gunicorn (2 workers) and signed in as the centre's exams officer, against the
   trivial /healthz, interleaved in one run (BENCH_ROUNDS, default 300). Goal: the
   Home's p95 ≤ 3× /healthz's.
3. Downloading a 50 MB resource (BENCH_DOWNLOAD_MB) through the same gunicorn, as that
   user while its window is open (the decision, the Download row, the file sent),
   timed until its last byte has been read, against reading the same file from disk in
   1 MiB chunks; interleaved (BENCH_DOWNLOAD_REPEATS, default 10), medians. The bytes
   received are checked against the stored SHA-256 once, outside the timing.

Run with `make bench` (or `cd bench && ../.venv/bin/python releases.py`);
BENCH_RELEASE_PARTS=home,download skips (1).
"""

import hashlib
import http.client
import os
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import Browser, gunicorn, measure, portal_env
from entries import COMPONENTS, SERIES, build_app, seed
from sqlalchemy import delete, func, insert, select

ROUNDS = int(os.environ.get("BENCH_RELEASE_ROUNDS", "3"))


def seed_release_inputs(app, numbers: list[str]) -> list[int]:
    """Every centre entered for every component; one question paper per component."""
    from app.extensions import db
    from app.models import Centre, Entry, Resource

    with app.app_context():
        ids = dict(db.session.execute(select(Centre.number, Centre.id)).all())
        rows = [
            {"series": SERIES, "centre_id": ids[n], "syllabus": s, "component": c}
            for n in numbers
            for s, c in COMPONENTS
        ]
        for start in range(0, len(rows), 50_000):
            db.session.execute(insert(Entry), rows[start : start + 50_000])
        resources = [
            Resource(
                series=SERIES,
                syllabus=s,
                component=c,
                kind="question-paper",
                title=f"Paper {s}/{c}",
            )
            for s, c in COMPONENTS
        ]
        db.session.add_all(resources)
        db.session.commit()
        return [r.id for r in resources]


def clear(app) -> None:
    from app.extensions import db
    from app.models import (
        Authorisation,
        OutboxMessage,
        Release,
        ReleaseCentre,
        ReleaseResource,
    )

    with app.app_context():
        for model in (Authorisation, ReleaseCentre, ReleaseResource):
            db.session.execute(delete(model))
        # The release notices each save queues for the seed's activated users.
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.release_id.is_not(None)))
        db.session.execute(delete(Release))
        db.session.commit()


def save(app, resource_ids: list[int]) -> tuple[float, list[dict]]:
    from app.extensions import db
    from app.models import Authorisation
    from app.services.releases.planning import plan_release, save_release
    from app.services.releases.windows import WindowRule

    with app.app_context():
        started = time.perf_counter()
        plan = plan_release(SERIES, resource_ids, "entered", WindowRule())
        release = save_release(plan, title="bench", actor_id=None)
        db.session.commit()
        elapsed = time.perf_counter() - started
        rows = [
            dict(row._mapping)
            for row in db.session.execute(
                select(
                    Authorisation.release_id,
                    Authorisation.centre_id,
                    Authorisation.resource_id,
                    Authorisation.opens_at,
                    Authorisation.closes_at,
                ).where(Authorisation.release_id == release.id)
            )
        ]
        return elapsed, rows


def bare_insert(app, rows: list[dict]) -> float:
    """The same rows, straight in: the least a save can cost."""
    from app.extensions import db
    from app.models import Authorisation

    with app.app_context():
        started = time.perf_counter()
        for start in range(0, len(rows), 5_000):
            db.session.execute(insert(Authorisation.__table__), rows[start : start + 5_000])
        db.session.commit()
        return time.perf_counter() - started


def save_benchmark(app, numbers: list[str], resource_ids: list[int], rounds: int) -> None:
    saves, bares = [], []
    rows: list[dict] = []
    for _ in range(rounds):
        clear(app)
        seconds, rows = save(app, resource_ids)
        saves.append(seconds)
        release_id = rows[0]["release_id"]
        clear(app)
        from app.extensions import db
        from app.models import Release

        with app.app_context():  # the release the bare rows point at
            db.session.add(Release(id=release_id, series=SERIES, opens_days=3, opens_hours=0))
            db.session.commit()
        bares.append(bare_insert(app, rows))
    floor, saving = statistics.median(bares), statistics.median(saves)
    print(
        f"{len(numbers):,} centres, {len(resource_ids)} resources, {len(rows):,} "
        f"authorisations; {rounds} rounds, medians"
    )
    print()
    print("| measure | median | ratio | goal |")
    print("|---|---|---|---|")
    print(f"| bare bulk insert of the rows (floor) | {floor:.2f} s | 1.0 | |")
    print(f"| plan and save the release | {saving:.2f} s | {saving / floor:.2f} × | ≤ 2 |")


# --- a centre's Home and a download, through gunicorn ------------------------------------

HOME_SERIES = "2027-11"  # timetabled by entries.seed: 30 components over 15 dates
HOME_RESOURCES = 200
OFFICER = "exams.in301@example.com"  # app/services/demo.py: IN301's activated user
EMPTY_OFFICER = "exams.us601@example.com"  # US601's: nothing with a file released to it
PASSWORD = "portal-demo-2026"  # noqa: S105  (app/services/demo.py: DEMO_PASSWORD)
HOME_ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
DOWNLOAD_MB = int(os.environ.get("BENCH_DOWNLOAD_MB", "50"))
DOWNLOAD_REPEATS = int(os.environ.get("BENCH_DOWNLOAD_REPEATS", "10"))
MB = 1024 * 1024
KINDS = (
    "question-paper",
    "insert",
    "pre-release",
    "listening-audio",
    "source-files",
    "confidential-instructions",
    "mark-scheme",
)


def seed_home(app, storage: Path) -> tuple[int, str, int]:
    """200 resources of one series released to IN301 by three releases with fixed
    windows around the real clock (gunicorn's): 100 open now, 60 opening in 3 days,
    40 closed yesterday. The first open one has a real 50 MB file in the storage
    folder; the others' files are rows only (the Home reads no file).
    → (the big resource's id, its SHA-256, its size)."""
    from app.extensions import db
    from app.models import Centre, Resource, ResourceFile
    from app.services.releases.planning import plan_release, save_release
    from app.services.releases.windows import WindowRule

    now = datetime.now(UTC).replace(microsecond=0)
    rules = {
        "open": WindowRule(opens_at=now - timedelta(days=2), closes_at=now + timedelta(days=30)),
        "later": WindowRule(opens_at=now + timedelta(days=3), closes_at=now + timedelta(days=40)),
        "closed": WindowRule(opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=1)),
    }
    big = storage / "files" / f"{secrets.token_hex(16)}.mp3"
    big.parent.mkdir(parents=True, exist_ok=True)
    sha256, size = make_file(big, DOWNLOAD_MB * MB)
    with app.app_context():
        centre_id = db.session.scalar(select(Centre.id).where(Centre.number == "IN301"))
        groups: dict[str, list[Resource]] = {name: [] for name in rules}
        for index in range(HOME_RESOURCES):
            syllabus, component = COMPONENTS[index % len(COMPONENTS)]
            kind = KINDS[index // len(COMPONENTS)]
            resource = Resource(
                series=HOME_SERIES,
                syllabus=syllabus,
                component=component,
                kind=kind,
                title=f"{kind.replace('-', ' ').capitalize()} {syllabus}/{component}",
            )
            resource.files.append(
                ResourceFile(
                    number=1,
                    original_name=f"{syllabus}_w27_{index:03d}_{component}.pdf",
                    stored_name=f"{secrets.token_hex(16)}.pdf",
                    size=200_000 + index,
                    sha256=secrets.token_hex(32),
                    media_type="application/pdf",
                )
            )
            state = "open" if index % 10 < 5 else "later" if index % 10 < 8 else "closed"
            groups[state].append(resource)
        first = groups["open"][0]
        first.kind, first.title = "listening-audio", "Listening 0500/11"
        first.files[0].stored_name = big.name
        first.files[0].original_name = "0500_w27_listening_11.mp3"
        first.files[0].size, first.files[0].sha256 = size, sha256
        first.files[0].media_type = "audio/mpeg"
        db.session.add_all(r for group in groups.values() for r in group)
        db.session.flush()
        for name, rule in rules.items():
            ids = [r.id for r in groups[name]]
            plan = plan_release(HOME_SERIES, ids, "chosen", rule, [centre_id])
            save_release(plan, title=f"bench: {name}", actor_id=None)
        db.session.commit()
        return first.id, sha256, size


def make_file(path: Path, size: int) -> tuple[str, int]:
    """size random bytes, written in 1 MiB chunks and synced: (SHA-256, size)."""
    digest = hashlib.sha256()
    with open(path, "wb") as file:
        left = size
        while left > 0:
            chunk = os.urandom(min(MB, left))
            digest.update(chunk)
            file.write(chunk)
            left -= len(chunk)
        file.flush()
        os.fsync(file.fileno())
    return digest.hexdigest(), size


def read_from_disk(path: Path) -> float:
    """The floor: the file read in 1 MiB chunks (from the page cache, like the server)."""
    buffer = bytearray(MB)
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as file:
        while file.readinto(buffer):
            pass
    return time.perf_counter() - started


def fetch(
    port: int, path: str, cookies: dict, digest=None, headers: dict | None = None
) -> tuple[float, int]:
    """GET path on a new connection, reading 1 MiB at a time until the last byte:
    (seconds, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    buffer = bytearray(MB)
    view = memoryview(buffer)
    received = 0
    started = time.perf_counter()
    try:
        headers = dict(headers or {})
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        if response.status not in (200, 206):
            raise SystemExit(f"GET {path} answered {response.status}")
        while n := response.readinto(buffer):
            received += n
            if digest is not None:
                digest.update(view[:n])
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
    return elapsed, received


def check_home(browser: Browser) -> None:
    status, page, _ = browser.request("GET", "/")
    states = {
        state: page.count(f'data-state="{state}"') for state in ("available", "opens", "closed")
    }
    wanted = {"available": 100, "opens": 60, "closed": 40}
    if status != 200 or states != wanted:
        raise SystemExit(f"the Home answered {status} with {states}; expected {wanted}")
    print(f"the Home lists {sum(states.values())} resources: {states}; {len(page) / 1024:.0f} KiB")


def percentile_95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def serve_benchmark(app, folder: str) -> None:
    storage = Path(folder) / "storage"
    resource_id, sha256, size = seed_home(app, storage)
    with app.app_context():
        from app.extensions import db
        from app.models import Authorisation

        authorisations = db.session.scalar(select(func.count(Authorisation.id)))
        db.engine.dispose()  # the server's workers write from now on
    env = {**portal_env(os.environ["DATABASE_URL"]), "RESOURCE_STORAGE_DIR": str(storage)}
    big = next((storage / "files").glob("*.mp3"))
    bench_folder = Path(__file__).resolve().parent
    bare_env = {**env, "BENCH_SERVE_FILE": str(big)}
    with (
        gunicorn(env) as port,
        gunicorn(bare_env, workers=1, app="serve_file:app", cwd=bench_folder) as bare_port,
    ):
        browser = Browser(port)
        browser.sign_in(OFFICER, PASSWORD)
        check_home(browser)
        other = Browser(port)  # a centre with nothing released: the page's own floor
        other.sign_in(EMPTY_OFFICER, PASSWORD)
        status, page, _ = other.request("GET", "/")
        if status != 200 or "Nothing has been released to your centre yet." not in page:
            raise SystemExit(f"{EMPTY_OFFICER}'s Home answered {status}, not the empty Home")

        timings = measure(
            {
                "`/healthz` (trivial)": lambda i: browser.request("GET", "/healthz")[0],
                "centre Home, nothing released": lambda i: other.request("GET", "/")[0],
                f"centre Home, {HOME_RESOURCES} resources": lambda i: browser.request("GET", "/")[
                    0
                ],
            },
            HOME_ROUNDS,
        )
        download_path = f"/home/resources/{resource_id}/download"
        digest = hashlib.sha256()
        _, received = fetch(port, download_path, browser.cookies, digest)
        if (received, digest.hexdigest()) != (size, sha256):
            raise SystemExit("the downloaded bytes differ from the stored file")
        floor, transport, served, one_byte = [], [], [], []
        for round_number in range(1 + DOWNLOAD_REPEATS):  # one warm-up round first
            disk = read_from_disk(big)
            bare, bare_received = fetch(bare_port, "/", {})
            seconds, received = fetch(port, download_path, browser.cookies)
            if received != size or bare_received != size:
                raise SystemExit(f"a download sent {received:,} / {bare_received:,} of {size:,}")
            first, _ = fetch(port, download_path, browser.cookies, headers={"Range": "bytes=0-0"})
            if round_number:
                floor.append(disk)
                transport.append(bare)
                served.append(seconds)
                one_byte.append(first)

    healthz = timings["`/healthz` (trivial)"]
    print(
        f"\n{HOME_ROUNDS} rounds, gunicorn with 2 workers, one client; "
        f"{authorisations:,} authorisations in the table:"
    )
    print()
    print("| request | median | p95 | × /healthz (median) | × /healthz (p95) | goal |")
    print("|---|---|---|---|---|---|")
    for name, values in timings.items():
        goal = "p95 ≤ 3×" if name.endswith(" resources") else ""
        print(
            f"| {name} | {statistics.median(values):.1f} ms | {percentile_95(values):.1f} ms | "
            f"{statistics.median(values) / statistics.median(healthz):.1f} | "
            f"{percentile_95(values) / percentile_95(healthz):.1f} | {goal} |"
        )
    mb = size / MB
    disk = statistics.median(floor)
    print(
        f"\n{mb:.0f} MB file, {DOWNLOAD_REPEATS} runs each (after a warm-up), interleaved; "
        "the bytes' SHA-256 checked once:"
    )
    print()
    print("| measure | median | min–max | MB/s | ratio |")
    print("|---|---|---|---|---|")
    for name, values in (
        ("read the file from disk, 1 MiB chunks (floor)", floor),
        ("transport: a bare WSGI app sends the file through gunicorn", transport),
        ("the portal's download, signed in (GET → last byte)", served),
        ("the portal's fixed cost: its first byte only (Range: bytes=0-0)", one_byte),
    ):
        median = statistics.median(values)
        rate = "" if values is one_byte else f"{mb / median:,.0f}"
        print(
            f"| {name} | {median * 1000:.1f} ms | {min(values) * 1000:.1f}–"
            f"{max(values) * 1000:.1f} ms | {rate} | {median / disk:.1f} × |"
        )


def main() -> None:
    parts = set(os.environ.get("BENCH_RELEASE_PARTS", "save,home,download").split(","))
    with tempfile.TemporaryDirectory(prefix="portal-bench-releases-") as folder:
        app = build_app(folder)
        numbers = seed(app)
        resource_ids = seed_release_inputs(app, numbers)
        if "save" in parts:
            save_benchmark(app, numbers, resource_ids, ROUNDS)
        else:  # the 300,000 authorisations the Home is read among
            save(app, resource_ids)
        if parts & {"home", "download"}:
            serve_benchmark(app, folder)


if __name__ == "__main__":
    main()
