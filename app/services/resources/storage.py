"""Resource files on disk: received while they stream, kept under generated names.

Under the storage folder (RESOURCE_STORAGE_DIR):

    incoming/  files arriving from a client, under temporary names (*.part)
    pending/   uploads waiting for the uploader's Confirm: <token>/<n> and batch.json
    files/     kept files, each under a random name and the extension of its type

A file is hashed and counted while it arrives (`Incoming`), so nothing reads it
again, and it is never held whole in memory. It becomes a kept file only by
rename or hard link within the folder, so a file under files/ is always complete;
an upload that fails or is cut off leaves at most a *.part that its request
deletes. Nothing here imports the app: the web layer says where the folder is.
"""

import contextlib
import errno
import hashlib
import logging
import os
import queue
import re
import secrets
import shutil
import threading
from pathlib import Path

log = logging.getLogger(__name__)

STORED_NAME = re.compile(r"[0-9a-f]{32}\.[a-z0-9]{1,5}")
DISK_FULL = (
    "The portal's disk is full, so the file could not be kept. Nothing was saved: "
    "tell the portal's technical team."
)
WRITE_FAILED = "The portal could not write the file to its disk. Nothing was saved: try again."


def too_large_message(max_bytes: int) -> str:
    return (
        f"It is larger than {max_bytes // (1024 * 1024)} MB, the largest file the portal accepts."
    )


class Incoming:
    """A file arriving from a client, written to a temporary name and hashed as it
    streams. Werkzeug's form parser writes into it (it is the parser's "stream
    factory"), then seeks to the start.

    Past the first MiB, hashing happens on a thread of its own, while the request's
    thread goes on receiving, parsing and writing the body: hashlib and file writes
    release the GIL, so the two overlap on two cores. At most QUEUED chunks wait
    between them, so memory stays bounded whatever the file's size.

    Once past `max_bytes`, or when the disk refuses a write, the partial file is
    deleted and the rest of the stream is only counted: the request goes on to show
    the reason (`problem`) on the file's row rather than breaking off.
    """

    THREAD_AFTER = 1024 * 1024  # smaller files are written where they arrive
    QUEUED = 16

    def __init__(self, folder: Path, max_bytes: int) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path: Path | None = folder / f"{secrets.token_hex(16)}.part"
        self._file = open(self.path, "xb+")  # noqa: SIM115 - closed by close()/discard()
        self.max_bytes = max_bytes
        self.size = 0
        self.problem: str | None = None
        self._sha256 = hashlib.sha256()
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._failure: OSError | None = None  # a write the disk refused

    @property
    def sha256(self) -> str:
        self._drain()
        return self._sha256.hexdigest()

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.problem is not None:
            return len(data)
        if self.size > self.max_bytes:
            self._refuse(too_large_message(self.max_bytes))
            return len(data)
        try:
            self._file.write(data)
        except OSError as error:
            self._failure = error
            self._refuse_failed_write()
            return len(data)
        if self._queue is None and self.size > self.THREAD_AFTER:
            self._queue = queue.Queue(self.QUEUED)
            self._thread = threading.Thread(target=self._hash_queued, daemon=True)
            self._thread.start()
        if self._queue is not None:
            self._queue.put(_unchanging(data))
        else:
            self._sha256.update(data)
        return len(data)

    def _hash_queued(self) -> None:
        while (data := self._queue.get()) is not None:
            self._sha256.update(data)

    def _drain(self) -> None:
        """Wait until the thread has hashed everything queued, and stop it."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None
        if self._failure is not None and self.problem is None:
            self._refuse_failed_write()

    def _refuse_failed_write(self) -> None:
        error = self._failure
        log.error("could not write an incoming file to %s: %s", self.path, error)
        full = error.errno in (errno.ENOSPC, errno.EDQUOT)
        self._refuse(DISK_FULL if full else WRITE_FAILED)

    def _refuse(self, problem: str) -> None:
        self.problem = problem
        self.discard()

    # What werkzeug's FileStorage may call besides write(): each waits for the
    # thread first, so the file is complete.
    def seek(self, offset: int, whence: int = 0) -> int:
        self._drain()
        return self._file.seek(offset, whence) if not self._file.closed else 0

    def tell(self) -> int:
        self._drain()
        return self._file.tell() if not self._file.closed else 0

    def read(self, size: int = -1) -> bytes:
        self._drain()
        return self._file.read(size) if not self._file.closed else b""

    def readline(self, size: int = -1) -> bytes:
        self._drain()
        return self._file.readline(size) if not self._file.closed else b""

    def flush(self) -> None:
        self._drain()
        if not self._file.closed:
            self._file.flush()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Close the file, keeping it on disk (see `finish`)."""
        self._drain()
        if not self._file.closed:
            self._file.close()

    def finish(self) -> None:
        """The whole file has arrived: flush it to the disk so it can be kept."""
        self._drain()
        if self.problem is None and not self._file.closed:
            try:
                self._file.flush()
            except OSError as error:
                self._failure = error
                self._refuse_failed_write()
                return
        self.close()

    def discard(self) -> None:
        """Close and delete the partial or unwanted file."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = self._queue = None
        # Closing flushes what is buffered: to a full disk that fails, and it goes anyway.
        with contextlib.suppress(OSError):
            self._file.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None

    def move_to(self, target: Path) -> None:
        """Keep the received file under `target` (same file system: a rename)."""
        self.finish()
        if self.path is None:
            raise RuntimeError("the incoming file was discarded")
        os.replace(self.path, target)
        self.path = None


def _unchanging(data) -> bytes | memoryview:
    """`data` as an object the writer thread may keep: bytes, or a view of bytes
    (immutable), as they are; anything else copied."""
    if isinstance(data, bytes) or (isinstance(data, memoryview) and isinstance(data.obj, bytes)):
        return data
    return bytes(data)


class Storage:
    """The storage folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.incoming = self.root / "incoming"
        self.pending = self.root / "pending"
        self.files = self.root / "files"

    def receive(self, max_bytes: int) -> Incoming:
        return Incoming(self.incoming, max_bytes)

    def path_of(self, stored_name: str) -> Path:
        """The kept file's path; the name is checked, so it never leaves files/."""
        if not STORED_NAME.fullmatch(stored_name):
            raise ValueError(f"not a stored file name: {stored_name!r}")
        return self.files / stored_name

    def keep(self, source: Path, extension: str) -> str:
        """Keep a complete file under a new generated name (made durable first) and
        return the name. The source stays where it is: a hard link, or a copy where
        the file system has none, so a rolled-back save can still be confirmed again."""
        self.files.mkdir(mode=0o700, parents=True, exist_ok=True)
        stored_name = f"{secrets.token_hex(16)}.{extension.lstrip('.').lower()}"
        target = self.files / stored_name
        with open(source, "rb") as file:
            os.fsync(file.fileno())
        try:
            os.link(source, target)
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            partial = target.with_suffix(".part")
            try:
                shutil.copyfile(source, partial)
                with open(partial, "rb") as copy:
                    os.fsync(copy.fileno())
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
        _sync_folder(self.files)
        return stored_name

    def remove(self, stored_name: str) -> None:
        self.path_of(stored_name).unlink(missing_ok=True)


def _sync_folder(folder: Path) -> None:
    """Make a new name in `folder` durable (POSIX: fsync the directory)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
