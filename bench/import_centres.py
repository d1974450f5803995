"""Uploading the board's centres file at scale: how long, against openpyxl's own parse?

A 10,000-centre, 30,000-row file against a site already holding 9,500 of those
centres (so 5% are new), with 3% of them renamed, 2% more centres on the site
that the file lacks, and 1% of the rows giving an email the site has at another
centre. Measured in one run, three rounds interleaved (the site restored between
rounds): openpyxl's read-only parse of the file (the floor), the whole upload
(the POST in, its preview (the renames are shown first), Confirm, which reads
the file again, and the report page out) through gunicorn, and uploading the
same file again; medians, the last two as multiples of the parse. Peak memory is the
gunicorn worker's high-water mark (VmHWM). Run with `make bench`.
Targets: upload ≤ 1.5× the parse, re-upload ≤ 1.2×, peak memory < 300 MB.
"""

import os
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

import openpyxl
import xlsxwriter
from common import Browser, flask, gunicorn, portal_env

CENTRES, PER_CENTRE = 10_000, 3
ON_SITE = 9_500  # the first 9,500 of the file's centres are on the site already
RENAMED = 300  # 3%
MISSING = 200  # 2%: on the site, not in the file
DUPLICATED = 300  # 1% of rows: an email the site has at another centre
ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "3"))
PLACES = [
    ("GB", "London", "Europe/London", 3),
    ("IN", "Pune", "Asia/Kolkata", 4),
    ("PK", "Lahore", "Asia/Karachi", 4),
    ("SG", "Singapore", "Asia/Singapore", 5),
    ("NG", "Lagos", "Africa/Lagos", 3),
    ("JP", "Tokyo", "Asia/Tokyo", 6),
    ("PE", "Lima", "America/Lima", 2),
    ("EG", "Cairo", "Africa/Cairo", 3),
]


def number(i: int) -> str:
    return f"BN{i:05d}"


def file_rows():
    for i in range(CENTRES):
        country, town, timezone, zone = PLACES[i % len(PLACES)]
        for j in range(PER_CENTRE):
            email = f"u{j}.{number(i).lower()}@example.com"
            if i < DUPLICATED // PER_CENTRE:  # these rows name users the site has elsewhere
                email = f"dup{i * PER_CENTRE + j}@example.com"
            yield [number(i), f"Centre {i} School", country, town, timezone, zone, email]


def build_file(path: Path) -> None:
    """Written like Excel writes it: shared strings, and the sheet's dimensions stated."""
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Centres")
    sheet.write_row(
        0, 0, ["Centre Number", "Centre Name", "Country", "Town", "Time Zone", "Zone", "Email"]
    )
    for row_number, values in enumerate(file_rows(), start=1):
        sheet.write_row(row_number, 0, values)
    workbook.close()


SEED_SITE = """
import sys
from sqlalchemy import insert
from app import create_app
from app.extensions import db
from app.models import Centre, User
from app.services.text import search_key
from app.services.clock import utcnow
from app.services.accounts.pins import generate_pin
from app.models.user import new_session_token
sys.path.insert(0, "bench")
from import_centres import *

app = create_app()
with app.app_context():
    now = utcnow()
    centres = []
    for i in list(range(ON_SITE)) + list(range(CENTRES, CENTRES + MISSING)):
        country, town, timezone, zone = PLACES[i % len(PLACES)]
        name = f"Old name {i}" if ON_SITE - RENAMED <= i < ON_SITE else f"Centre {i} School"
        centres.append(dict(number=number(i), name=name, country=country, town=town,
                            timezone=timezone, zone=zone, created_at=now, updated_at=now,
                            search_key=search_key(number(i), name, town)))
    db.session.execute(insert(Centre), centres)
    ids = dict(db.session.execute(db.select(Centre.number, Centre.id)).all())
    users, pins = [], set()
    def user(email, centre_number, activated):
        pin = None
        if not activated:
            pin = generate_pin()
            while pin in pins:
                pin = generate_pin()
            pins.add(pin)
        users.append(dict(email=email, role="centre", centre_id=ids[centre_number], pin=pin,
                          activated_at=now if activated else None, failed_logins=0,
                          session_token=new_session_token(), created_at=now, updated_at=now))
    for i in range(DUPLICATED // PER_CENTRE, ON_SITE):
        for j in range(PER_CENTRE):
            user(f"u{j}.{number(i).lower()}@example.com", number(i), activated=(i + j) % 2 == 0)
    for k in range(DUPLICATED):  # saved at another centre than the file gives
        user(f"dup{k}@example.com", number(ON_SITE - 1 - k), activated=False)
    db.session.execute(insert(User), users)
    db.session.commit()
"""


def raw_parse(path: Path) -> float:
    """openpyxl's fastest plain read: read-only, values only, every value touched."""
    started = time.perf_counter()
    workbook = openpyxl.load_workbook(path, read_only=True)
    for values in workbook.worksheets[0].iter_rows(values_only=True):
        for _value in values:
            pass
    workbook.close()
    return time.perf_counter() - started


def post_file(browser: Browser, content: bytes) -> tuple[float, str]:
    """The whole upload as an admin sees it: POST the file, then load the report."""
    _, page, _ = browser.request("GET", "/admin/centres/upload")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    boundary = uuid.uuid4().hex
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{token}\r\n".encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="centres.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode(),
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    started = time.perf_counter()
    browser.connection.request(
        "POST",
        "/admin/centres/upload",
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        },
    )
    response = browser.connection.getresponse()
    answer = response.read().decode()
    if response.status == 200 and "Check the upload before it is applied" in answer:
        response = confirm(browser, answer)  # the renames are shown first
    if response.status != 302:
        raise SystemExit(f"the upload answered {response.status}")
    location = urllib.parse.urlsplit(response.getheader("Location")).path
    status, report, _ = browser.request("GET", location)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise SystemExit(f"the report answered {status}")
    summary = re.search(r"Processed .*?replaced\)\.", " ".join(report.split())).group(0)
    return elapsed, summary


def confirm(browser: Browser, preview: str):
    """Press Confirm on the preview: the admin's second click."""
    action = re.search(r'<form method="post" action="([^"]+)" data-submit-once', preview).group(1)
    fields = {
        "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', preview).group(1),
        "plan": re.search(r'name="plan" value="([^"]+)"', preview).group(1),
    }
    browser.connection.request(
        "POST",
        action,
        body=urllib.parse.urlencode(fields),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
        },
    )
    response = browser.connection.getresponse()
    response.read()
    return response


def restore_site(database: Path) -> None:
    """Undo what the first upload did (new centres and users, renames), so that it
    can be measured again. The server keeps running: SQLite allows this."""
    with sqlite3.connect(database) as connection:
        new_ones = (number(ON_SITE), number(CENTRES - 1))
        connection.execute(
            "DELETE FROM users WHERE centre_id IN "
            "(SELECT id FROM centres WHERE number BETWEEN ? AND ?)",
            new_ones,
        )
        connection.execute("DELETE FROM centres WHERE number BETWEEN ? AND ?", new_ones)
        for i in range(ON_SITE - RENAMED, ON_SITE):
            connection.execute(
                "UPDATE centres SET name = ? WHERE number = ?", (f"Old name {i}", number(i))
            )


def worker_peak_memory_mb(master_pid: int) -> float:
    children = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
    return max(peaks)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        path = Path(folder) / "centres.xlsx"
        build_file(path)
        content = path.read_bytes()
        env = portal_env(f"sqlite:///{folder}/bench.db")
        flask(env, "db", "upgrade")
        flask(env, "seed-demo")
        subprocess.run(
            [os.sys.executable, "-c", SEED_SITE],
            cwd=Path(__file__).parent.parent,
            env=env,
            check=True,
        )
        print(
            f"file: {CENTRES:,} centres, {CENTRES * PER_CENTRE:,} rows, "
            f"{len(content) / 1024:.0f} KB; site: {ON_SITE + MISSING:,} centres"
        )

        with gunicorn(env, workers=1, master_pid=True) as (port, master):
            browser = Browser(port)
            browser.sign_in("admin@example.com", "portal-demo-2026")
            parses, uploads, reuploads = [], [], []
            for round_number in range(ROUNDS):
                if round_number:
                    restore_site(Path(folder) / "bench.db")
                parses.append(raw_parse(path))
                elapsed, first_summary = post_file(browser, content)
                uploads.append(elapsed)
                parses.append(raw_parse(path))
                elapsed, again_summary = post_file(browser, content)
                reuploads.append(elapsed)
            peak = worker_peak_memory_mb(master)

    parse, upload, reupload = (statistics.median(x) for x in (parses, uploads, reuploads))
    print(f"first upload: {first_summary}")
    print(f"re-upload:    {again_summary}")
    print(f"\n{ROUNDS} rounds, medians:")
    print(f"{'measure':<40} {'seconds':>8} {'× parse':>8}  target")
    print(f"{'openpyxl read-only parse of the file':<40} {parse:>8.2f} {1:>8.2f}")
    print(f"{'whole upload: POST in, report out':<40} {upload:>8.2f} {upload / parse:>8.2f}  ≤ 1.5")
    print(f"{'the same file again':<40} {reupload:>8.2f} {reupload / parse:>8.2f}  ≤ 1.2")
    print(f"{'peak memory of the gunicorn worker':<40} {peak:>7.0f}M {'':>8}  < 300 MB")


if __name__ == "__main__":
    main()
