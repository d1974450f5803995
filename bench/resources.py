"""Upload Resources - TP: a large file through the portal against the disk's own floor.

One run, side by side, on this machine and over loopback only:

- the floor: shutil.copyfile of the file, then reading the copy with SHA-256 in
  1 MiB chunks (copy + hash: what storing a file and knowing its hash costs at least);
- the transport: the same POST to a WSGI app that only reads the body and throws it
  away (bench/discard_body.py), under gunicorn too: what HTTP alone costs here;
- the app: gunicorn with one sync worker, signed in as the demo tp user, a
  multipart/form-data POST to /resources/upload streamed from disk by http.client
  (Content-Length computed up front; the file is never held in the client's
  memory), timed from the first byte sent until the 302 to the confirmation page
  has been read.

Floor, transport and app runs alternate (floor, transport, app, floor, ...) so noise hits both
alike; one untimed warm-up pair comes first. The source file, the floor's copy and
the portal's storage folder share one temporary folder, so one file system. Neither
side syncs what it writes (the app does not while staging), so both mostly write
into the page cache; the source is synced before the runs so that its own
write-back does not land in some of them.

The worker's memory: before each upload its peak RSS is reset (clear_refs 5) and
its RSS read; after, its peak (VmHWM). Where clear_refs is not permitted, VmRSS is
sampled every 10 ms during the upload instead (the output says so).

Settings: BENCH_RESOURCE_MB (file size, default 200), BENCH_REPEATS (default 5).
"""

import contextlib
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from common import Browser, gunicorn, seeded_database

MB = 1024 * 1024
CHUNK = MB
SIZE_MB = int(os.environ.get("BENCH_RESOURCE_MB", "200"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
WARMUP = 1
NAME = "0580_s26_qp_22.pdf"
PRODUCER = "producer@example.com"  # app/services/demo.py: DEMO_PRODUCER, role tp
PASSWORD = "portal-demo-2026"  # noqa: S105  (app/services/demo.py: DEMO_PASSWORD)
CONFIRMATION = re.compile(r"/resources/upload/([0-9a-f]{32})$")
TIME_GOAL = 1.5  # app ≤ 1.5 × the floor
MEMORY_GOAL_MB = 100  # worker's peak < 100 MB above idle


def make_source(path: Path, size: int) -> None:
    """size bytes: a PDF's first line, then random bytes, written in 1 MiB chunks and
    synced."""
    with open(path, "wb") as file:
        file.write(b"%PDF-1.7\n")
        left = size - 9
        while left > 0:
            n = min(CHUNK, left)
            file.write(os.urandom(n))
            left -= n
        # On the disk before anything is timed: its write-back would land in some runs.
        file.flush()
        os.fsync(file.fileno())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as file:
        while n := file.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


def floor_run(source: Path, target: Path) -> tuple[float, str]:
    started = time.perf_counter()
    shutil.copyfile(source, target)
    digest = sha256_of(target)
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed, digest


# The worker's memory, from /proc.


def worker_pid(master: int, timeout: float = 30) -> int:
    deadline = time.time() + timeout
    while time.time() < deadline:
        children = []
        for task in Path(f"/proc/{master}/task").iterdir():
            with contextlib.suppress(OSError):
                children += (task / "children").read_text().split()
        if children:
            if len(children) != 1:
                raise SystemExit(f"expected one gunicorn worker, found {children}")
            return int(children[0])
        time.sleep(0.1)
    raise SystemExit("the gunicorn worker did not start")


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def can_clear_refs(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


class RssSampler(threading.Thread):
    """The fallback: VmRSS every 10 ms, keeping the largest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = status_kb(pid, "VmRSS")
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.01):
            self.peak_kb = max(self.peak_kb, status_kb(self.pid, "VmRSS"))

    def stop(self) -> int:
        self.stopping.set()
        self.join()
        return max(self.peak_kb, status_kb(self.pid, "VmRSS"))


# The upload.


def upload_form(browser: Browser) -> str:
    """Open the upload page (as a person would) and return its CSRF token."""
    status, page, _ = browser.request("GET", "/resources/upload")
    if status != 200:
        raise SystemExit(f"GET /resources/upload answered {status}:\n{page[:2000]}")
    found = re.search(r'"X-CSRFToken": "([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    if not found:
        raise SystemExit("no CSRF token on /resources/upload")
    return found.group(1)


def post_file(port: int, cookies: dict, token: str, source: Path) -> tuple[float, str]:
    """POST source as the one `files` part, streamed from disk; (seconds, batch token)."""
    boundary = "----bench" + secrets.token_hex(16)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{NAME}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + source.stat().st_size + len(tail)

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.connect()
    try:
        connection.putrequest("POST", "/resources/upload")
        connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        connection.putheader("Content-Length", str(length))
        connection.putheader("Cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
        connection.putheader("Referer", f"http://127.0.0.1:{port}/resources/upload")
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        started = time.perf_counter()
        try:
            connection.endheaders(head)
            with open(source, "rb", buffering=0) as file:
                while n := file.readinto(buffer):
                    connection.send(view[:n])
            connection.send(tail)
        except OSError as error:
            # The server stopped reading (and perhaps answered): show what it said.
            answer = early_answer(connection)
            raise SystemExit(f"the upload was cut off ({error}): {answer}") from None
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
    finally:
        connection.close()

    location = response.getheader("Location") or ""
    found = CONFIRMATION.search(location)
    if response.status != 302 or not found:
        raise SystemExit(
            f"the upload answered {response.status} (Location: {location!r}):\n"
            f"{body.decode(errors='replace')[:4000]}"
        )
    return elapsed, found.group(1)


def early_answer(connection: http.client.HTTPConnection) -> str:
    """What a server that closed an upload early answered, if anything."""
    try:
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as error:
        return f"no answer ({error})"
    return f"it answered {response.status}:\n{body[:4000]}"


def check_batch(storage: Path, batch: str, size: int, sha256: str) -> None:
    """The staged file is whole: its size and the hash the app recorded are the source's."""
    manifest = json.loads((storage / "pending" / batch / "batch.json").read_text())
    (staged,) = manifest["files"]
    if staged.get("problem"):
        raise SystemExit(f"the app refused the file: {staged['problem']}")
    kept = (storage / "pending" / batch / "1").stat().st_size
    if (staged["size"], kept, staged["sha256"]) != (size, size, sha256):
        raise SystemExit(
            f"the staged file differs: size {staged['size']} (on disk {kept}), "
            f"sha256 {staged['sha256']}; expected {size} bytes, {sha256}"
        )


def clear_pending(storage: Path) -> list[str]:
    """Delete the staged batches; return what was left in incoming/ (should be nothing)."""
    for folder in (storage / "pending").glob("*"):
        shutil.rmtree(folder)
    incoming = storage / "incoming"
    return sorted(p.name for p in incoming.iterdir()) if incoming.is_dir() else []


# The report.


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):7.3f} s   "
        f"min {min(values):7.3f}   max {max(values):7.3f}"
    )


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def machine_note(folder: Path) -> None:
    df = subprocess.run(["df", "-T", str(folder)], capture_output=True, text=True).stdout
    line = df.strip().splitlines()[-1].split()
    print(
        f"\nmachine: {os.cpu_count()} cores; temp folder {folder} on {line[0]} "
        f"({line[1]}, {int(line[4]) // (1024 * 1024)} GB free)"
    )
    print(df.rstrip())


def main() -> None:
    size = SIZE_MB * MB
    work = Path(tempfile.mkdtemp(prefix="portal-bench-resources-"))
    try:
        storage = work / "storage"
        storage.mkdir()
        source = work / NAME
        copy = work / "floor-copy.pdf"
        started = time.perf_counter()
        make_source(source, size)
        print(f"made a {SIZE_MB} MB file in {time.perf_counter() - started:.1f} s")

        with seeded_database(0) as env:
            env = {**env, "RESOURCE_STORAGE_DIR": str(storage)}
            if SIZE_MB >= 500:
                env["RESOURCE_MAX_MB"] = str(SIZE_MB + 1)
            bench_folder = Path(__file__).resolve().parent
            with (
                gunicorn(env, workers=1, master_pid=True) as (port, master),
                gunicorn(env, workers=1, app="discard_body:app", cwd=bench_folder) as bare_port,
            ):
                results = run(port, bare_port, master, source, copy, storage, size)
        report(results, size)
        machine_note(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(
    port: int, bare_port: int, master: int, source: Path, copy: Path, storage: Path, size: int
) -> dict:
    worker = worker_pid(master)
    clear_refs = can_clear_refs(worker)
    browser = Browser(port)
    browser.sign_in(PRODUCER, PASSWORD)
    results = {
        "floor": [],
        "transport": [],
        "app": [],
        "worker_cpu": [],
        "memory_mb": [],
        "clear_refs": clear_refs,
        "leftovers": [],
    }
    expected = None
    for round_number in range(WARMUP + REPEATS):
        timed = round_number >= WARMUP
        label = f"run {round_number - WARMUP + 1}" if timed else "warm-up"

        floor_seconds, digest = floor_run(source, copy)
        expected = expected or digest
        if digest != expected:
            raise SystemExit("the floor's copy hashed differently")

        transport_seconds, _ = post_file(bare_port, {}, "none", source)

        token = upload_form(browser)
        cpu_before = cpu_seconds(worker)
        if clear_refs:
            Path(f"/proc/{worker}/clear_refs").write_text("5")
            idle_kb = status_kb(worker, "VmRSS")
            app_seconds, batch = post_file(port, browser.cookies, token, source)
            peak_kb = status_kb(worker, "VmHWM")
        else:
            idle_kb = status_kb(worker, "VmRSS")
            sampler = RssSampler(worker)
            sampler.start()
            try:
                app_seconds, batch = post_file(port, browser.cookies, token, source)
            finally:
                peak_kb = sampler.stop()
        worker_cpu = cpu_seconds(worker) - cpu_before
        if worker_pid(master) != worker:
            raise SystemExit("the gunicorn worker was replaced during the upload")
        check_batch(storage, batch, size, expected)
        leftovers = clear_pending(storage)
        results["leftovers"] += leftovers

        above_mb = (peak_kb - idle_kb) / 1024
        print(
            f"{label:>8}: floor {floor_seconds:6.3f} s   transport {transport_seconds:6.3f} s   "
            f"app {app_seconds:6.3f} s (worker CPU {worker_cpu:5.2f} s) "
            f"({app_seconds / floor_seconds:4.2f}x)   worker idle {idle_kb / 1024:6.1f} MB, "
            f"peak {peak_kb / 1024:6.1f} MB (+{above_mb:.1f})"
            + (f"   left in incoming/: {leftovers}" if leftovers else "")
        )
        if timed:
            results["floor"].append(floor_seconds)
            results["transport"].append(transport_seconds)
            results["app"].append(app_seconds)
            results["worker_cpu"].append(worker_cpu)
            results["memory_mb"].append(above_mb)
    return results


def report(results: dict, size: int) -> None:
    floor, app = results["floor"], results["app"]
    mb = size / MB
    pair_ratio = statistics.median(a / f for a, f in zip(app, floor, strict=True))
    median_ratio = statistics.median(app) / statistics.median(floor)
    memory = max(results["memory_mb"])
    print(
        f"\n{mb:.0f} MB file, {len(app)} runs each (after {WARMUP} warm-up), interleaved; "
        "gunicorn with 1 sync worker, one client, loopback:"
    )
    print(
        f"  floor (copyfile + sha256): {spread(floor)}   {mb / statistics.median(floor):6.0f} MB/s"
    )
    transport = results["transport"]
    print(
        f"  transport (POST, discarded): {spread(transport)}"
        f"   {mb / statistics.median(transport):6.0f} MB/s"
    )
    print(f"  app (POST → 302):          {spread(app)}   {mb / statistics.median(app):6.0f} MB/s")
    print(
        f"  app / floor: median of per-run ratios {pair_ratio:.2f}x, "
        f"ratio of medians {median_ratio:.2f}x   "
        f"(goal: <= {TIME_GOAL}x the floor: {verdict(max(pair_ratio, median_ratio) <= TIME_GOAL)})"
    )
    how = (
        "VmHWM after clear_refs"
        if results["clear_refs"]
        else "clear_refs not permitted: VmRSS sampled every 10 ms"
    )
    print(
        f"  worker's peak memory above idle during an upload: {memory:.1f} MB (max over runs; "
        f"{how})   (goal: < {MEMORY_GOAL_MB} MB above idle: {verdict(memory < MEMORY_GOAL_MB)})"
    )
    transport_ratio = statistics.median(transport) / statistics.median(floor)
    app_over_transport = statistics.median(app) / statistics.median(transport)
    print(
        f"  transport / floor: {transport_ratio:.2f}x (HTTP alone);   "
        f"app / transport: {app_over_transport:.2f}x (what the portal adds)"
    )
    print(
        f"  the worker's CPU time per upload (all threads): median "
        f"{statistics.median(results['worker_cpu']):.2f} s"
    )
    if results["leftovers"]:
        print(f"  files left in incoming/ after the uploads: {len(results['leftovers'])}")


if __name__ == "__main__":
    main()
