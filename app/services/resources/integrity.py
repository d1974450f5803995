"""Do the storage folder and the database agree? For `flask resources check`.

Every kept file (a resource version, a help document) must be in files/, whole
(its size; with `hashes`, its SHA-256 too: that reads every byte). A file in files/
that no row names is a stray: left by a worker killed between keeping a file and
committing its row. Strays younger than STRAY_AGE may belong to a save in progress
and are not counted.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import HelpDocument, ResourceFile
from app.services.resources.storage import Storage

STRAY_AGE = timedelta(hours=1)


@dataclass
class StorageReport:
    checked: int = 0
    problems: list[str] = field(default_factory=list)  # one line each, for people
    strays: list[str] = field(default_factory=list)  # stored names no row uses

    @property
    def ok(self) -> bool:
        return not self.problems and not self.strays


def check_storage(storage: Storage, now: datetime, *, hashes: bool = False) -> StorageReport:
    report = StorageReport()
    named = set()
    kept = [
        (f"resource {f.resource_id} version {f.number}", f.stored_name, f.size, f.sha256)
        for f in db.session.scalars(select(ResourceFile).order_by(ResourceFile.id))
    ] + [
        (f"help document {d.id} ({d.audience})", d.stored_name, d.size, d.sha256)
        for d in db.session.scalars(select(HelpDocument).order_by(HelpDocument.id))
    ]
    for what, stored_name, size, sha256 in kept:
        named.add(stored_name)
        report.checked += 1
        path = storage.path_of(stored_name)
        if not path.is_file():
            report.problems.append(f"{what}: {stored_name} is missing")
        elif path.stat().st_size != size:
            report.problems.append(
                f"{what}: {stored_name} has {path.stat().st_size:,} bytes, not {size:,}"
            )
        elif hashes and _sha256(path) != sha256:
            report.problems.append(f"{what}: {stored_name} does not have the SHA-256 stored")
    if storage.files.is_dir():
        old_enough = (now - STRAY_AGE).timestamp()
        for path in sorted(storage.files.iterdir()):
            if path.name not in named and path.stat().st_mtime < old_enough:
                report.strays.append(path.name)
    return report


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()
