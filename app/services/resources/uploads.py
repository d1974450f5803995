"""Upload Resources - TP: received files wait for the uploader's Confirm, then are
saved all together or not at all.

Staging (`stage`) checks each received file on its own (name, size, type by
extension and content) and moves the accepted ones into a pending batch under the
storage folder, with a manifest (batch.json) of what was received and the metadata
read from each name. The confirmation table shows every file; the uploader
corrects the metadata; `review` checks every row (the same check for the table
and for Save); `save` keeps the files and adds the resources only when no row has
a problem. Refused files are listed with their reason and never saved.

Batches are files, not rows: nothing reaches the database before Confirm, and an
abandoned batch is deleted after PENDING_HOURS, when the upload page is next opened or
another upload is staged.
"""

import contextlib
import json
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Resource, ResourceFile, User
from app.services import transactions
from app.services.audit import record_event
from app.services.errors import DomainError
from app.services.resources import filetypes, naming
from app.services.resources.storage import Incoming, Storage

PENDING_HOURS = 24
TOKEN = re.compile(r"[0-9a-f]{32}")
METADATA = ("series", "syllabus", "component", "kind", "title")


@dataclass
class StagedFile:
    """One received file of a batch: accepted (problem None) or refused."""

    number: int  # its row, from 1, in the order the files were sent
    original_name: str
    size: int
    sha256: str = ""
    media_type: str = ""
    problem: str | None = None
    named_by_convention: bool = False
    # The metadata read from the name (or the title made from it): the table's start.
    series: str = ""
    syllabus: str = ""
    component: str = ""
    kind: str = ""
    title: str = ""

    @property
    def extension(self) -> str:
        return filetypes.extension_of(self.original_name)

    def suggested(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in METADATA}


@dataclass
class Batch:
    token: str
    uploader_id: int
    staged_at: datetime
    files: list[StagedFile] = field(default_factory=list)

    @property
    def accepted(self) -> list[StagedFile]:
        return [f for f in self.files if f.problem is None]

    @property
    def refused(self) -> list[StagedFile]:
        return [f for f in self.files if f.problem is not None]


@dataclass
class RowReview:
    """What `review` found for one accepted file with the metadata given for it."""

    file: StagedFile
    values: dict[str, str]  # as given
    clean: dict[str, str] = field(default_factory=dict)  # as they will be saved
    errors: dict[str, str] = field(default_factory=dict)  # field name (or "file") → message
    # Not a problem: a resource with these details already exists (shown, with a link).
    existing: list[Resource] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class BatchNotFound(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "This upload is no longer waiting: it was saved, cancelled or is more than "
            f"{PENDING_HOURS} hours old. Upload the files again."
        )


class BatchSaved(DomainError):
    """The batch was saved already (a second click on Save, or Back then Save)."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"This upload has already been saved ({count} resource{'' if count == 1 else 's'}): "
            "they are listed in Manage Resources - TP."
        )


class Batches:
    """The pending batches under a storage folder."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.folder = storage.pending

    def stage(self, received: list[tuple[str, Incoming]], uploader_id: int, now: datetime) -> Batch:
        """Check each received file and keep the accepted ones, as a new batch."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.delete_expired(now)
        batch = Batch(secrets.token_hex(16), uploader_id, now)
        folder = self.folder / batch.token
        folder.mkdir(mode=0o700)
        for number, (name, incoming) in enumerate(received, start=1):
            incoming.finish()  # all of it on disk, before its type is read
            staged = StagedFile(number, name, incoming.size)
            batch.files.append(staged)
            staged.problem = _file_problem(name, incoming)
            if staged.problem is None:
                try:
                    staged.media_type = filetypes.identify(name, incoming.path)
                except filetypes.FileRefused as refused:
                    staged.problem = str(refused)
            if staged.problem is not None:
                incoming.discard()
                continue
            staged.sha256 = incoming.sha256
            incoming.move_to(folder / str(number))
            _suggest_metadata(staged)
        (folder / "batch.json").write_text(json.dumps(_manifest(batch)))
        return batch

    def find(self, token: str, uploader_id: int, now: datetime) -> Batch:
        """The batch `token` of this uploader; BatchNotFound if there is none."""
        if not TOKEN.fullmatch(token or ""):
            raise BatchNotFound
        try:
            data = json.loads((self.folder / token / "batch.json").read_text())
        except (OSError, ValueError):
            self._refuse_saved(token, uploader_id)
            raise BatchNotFound from None
        batch = Batch(
            token,
            data["uploader_id"],
            datetime.fromisoformat(data["staged_at"]),
            [StagedFile(**item) for item in data["files"]],
        )
        if batch.uploader_id != uploader_id or _expired(batch.staged_at, now):
            raise BatchNotFound
        return batch

    def mark_saved(self, batch: Batch, count: int) -> None:
        """Delete the batch, leaving a note that it was saved (kept PENDING_HOURS), so
        that a second Save says so rather than "no longer waiting"."""
        note = {"uploader_id": batch.uploader_id, "saved": count}
        (self.folder / f"{batch.token}.saved").write_text(json.dumps(note))
        self.discard(batch.token)

    def _refuse_saved(self, token: str, uploader_id: int) -> None:
        try:
            note = json.loads((self.folder / f"{token}.saved").read_text())
        except (OSError, ValueError):
            return
        if note.get("uploader_id") == uploader_id:
            raise BatchSaved(note.get("saved", 0))

    def claim(self, batch: Batch) -> None:
        """Mark the batch as being saved, so that a second Save of it (a double click,
        another tab) is refused rather than saving it twice. Released if the
        request's transaction rolls back; the batch is deleted once it commits."""
        claim = self.folder / batch.token / "saving"
        try:
            claim.mkdir()
        except FileExistsError:
            raise DomainError(
                "This upload is already being saved (from another tab, or by a second click). "
                "Check Manage Resources - TP in a moment."
            ) from None
        transactions.after_rollback(lambda: self.release(batch))

    def release(self, batch: Batch) -> None:
        """Undo claim(): the save did not happen."""
        with contextlib.suppress(FileNotFoundError):
            (self.folder / batch.token / "saving").rmdir()

    def discard(self, token: str) -> None:
        if TOKEN.fullmatch(token or ""):
            shutil.rmtree(self.folder / token, ignore_errors=True)

    def path_of(self, batch: Batch, staged: StagedFile):
        return self.folder / batch.token / str(staged.number)

    def delete_expired(self, now: datetime) -> None:
        """Delete the batches (and notes of saved ones) older than PENDING_HOURS."""
        if not self.folder.is_dir():
            return
        for folder in self.folder.iterdir():
            if folder.suffix == ".saved":  # a note that a batch was saved
                try:
                    if now.timestamp() - folder.stat().st_mtime > PENDING_HOURS * 3600:
                        folder.unlink(missing_ok=True)
                except FileNotFoundError:
                    pass
                continue
            try:
                data = json.loads((folder / "batch.json").read_text())
                stale = _expired(datetime.fromisoformat(data["staged_at"]), now)
            except (OSError, ValueError, KeyError):
                # Half-written (a crash while staging), or just removed by another request.
                try:
                    stale = now.timestamp() - folder.stat().st_mtime > PENDING_HOURS * 3600
                except FileNotFoundError:
                    continue
            if stale:
                shutil.rmtree(folder, ignore_errors=True)


def review(batch: Batch, rows: list[dict[str, str]]) -> list[RowReview]:
    """Check the metadata given for each accepted file (in order): each field by its
    rule, and each file against what is stored and the rest of the batch."""
    reviews = []
    for staged, values in zip(batch.accepted, rows, strict=True):
        row = RowReview(staged, values)
        row.clean, row.errors = clean_metadata(values)
        reviews.append(row)
    _check_duplicates(reviews)
    return reviews


def save(
    batches: Batches, batch: Batch, reviews: list[RowReview], uploader: User
) -> list[Resource]:
    """Keep every accepted file and add its resource, or (any row with a problem)
    nothing. The batch is deleted once the request commits; if it rolls back, the
    kept files are removed and the batch can be confirmed again."""
    if not batch.accepted:
        raise DomainError("None of the files can be saved: every one was refused.")
    if any(not row.ok for row in reviews):
        raise DomainError("Nothing was saved: correct the problems shown and save again.")
    transactions.lock_resource_changes()
    _check_duplicates(reviews)  # again, now that no other save can slip in between
    if any(not row.ok for row in reviews):
        raise DomainError("Nothing was saved: a file was stored meanwhile (see its row).")
    batches.claim(batch)
    resources = []
    try:
        with kept_files(batches.storage) as keep:
            for row in reviews:
                stored_name = keep(batches.path_of(batch, row.file), row.file.extension)
                resource = Resource(**row.clean, current_version=1)
                resource.files.append(_file_version(row.file, 1, stored_name, uploader))
                db.session.add(resource)
                resources.append(resource)
            db.session.flush()
    except BaseException:
        batches.release(batch)
        raise
    for resource in resources:
        record_event("resource.uploaded", subject=resource, details=_details(resource))
    transactions.after_commit(lambda: batches.mark_saved(batch, len(resources)))
    return resources


@contextmanager
def kept_files(storage: Storage) -> Iterator[Callable[[Path, str], str]]:
    """Keep files for a change in the database: yields keep(source, extension) → the
    stored name. The files kept are removed again if the block raises or the
    request's transaction rolls back, so no file is left without its row."""
    kept: list[str] = []

    def keep(source: Path, extension: str) -> str:
        stored_name = storage.keep(source, extension)
        kept.append(stored_name)
        transactions.after_rollback(lambda: storage.remove(stored_name))
        return stored_name

    try:
        yield keep
    except BaseException:
        for stored_name in kept:
            storage.remove(stored_name)
        raise


def _file_version(
    staged: StagedFile, number: int, stored_name: str, uploader: User
) -> ResourceFile:
    return ResourceFile(
        number=number,
        original_name=staged.original_name,
        stored_name=stored_name,
        size=staged.size,
        sha256=staged.sha256,
        media_type=staged.media_type,
        uploaded_by_id=uploader.id,
    )


def _details(resource: Resource) -> dict:
    file = resource.current_file
    return {
        "series": resource.series,
        "syllabus": resource.syllabus,
        "component": resource.component,
        "kind": resource.kind,
        "title": resource.title,
        "version": file.number,
        "file": file.original_name,
        "size": file.size,
        "sha256": file.sha256,
    }


_CLEAN = {
    "series": naming.clean_series,
    "syllabus": naming.clean_syllabus,
    "component": naming.clean_component,
    "kind": naming.clean_kind,
    "title": naming.clean_title,
}


def clean_metadata(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The metadata as it will be saved, and a message for each field that breaks its
    rule: (clean, errors), keyed by field name."""
    clean, errors = {}, {}
    for name, rule in _CLEAN.items():
        try:
            clean[name] = rule(values.get(name) or "")
        except DomainError as error:
            errors[name] = str(error)
    return clean, errors


def _file_problem(name: str, incoming: Incoming) -> str | None:
    if incoming.problem is not None:
        return incoming.problem
    problem = naming.check_original_name(name)
    if problem is not None:
        return problem
    if incoming.size == 0:
        return "The file is empty."
    return None


def _suggest_metadata(staged: StagedFile) -> None:
    parsed = naming.parse_file_name(staged.original_name)
    if parsed is None:
        staged.title = naming.title_from_file_name(staged.original_name)
        if staged.media_type.startswith("audio/"):
            staged.kind = "listening-audio"  # the convention names no audio: a guess to check
        return
    staged.named_by_convention = True
    staged.series, staged.syllabus = parsed.series, parsed.syllabus
    staged.component, staged.kind = parsed.component, parsed.kind
    staged.title = naming.default_title(parsed)


def _check_duplicates(reviews: list[RowReview]) -> None:
    """A file identical to one stored (or earlier in the batch) for the same series,
    syllabus, component and kind is a problem: it would be stored twice."""
    complete = [row for row in reviews if not row.errors]
    keys = {_key(row.clean) for row in complete}
    stored = _stored_with(keys)
    seen: dict[tuple, RowReview] = {}
    for row in complete:
        key = _key(row.clean)
        same_details = stored.get(key, [])
        row.existing = same_details
        for resource in same_details:
            for version in resource.files:
                if version.sha256 == row.file.sha256:
                    row.errors["file"] = identical_message(resource, version)
                    break
            if "file" in row.errors:
                break
        earlier = seen.get((*key, row.file.sha256))
        if earlier is not None and "file" not in row.errors:
            row.errors["file"] = (
                f"It is identical to row {earlier.file.number} ({earlier.file.original_name}), "
                "with the same details: upload it once."
            )
        seen.setdefault((*key, row.file.sha256), row)


def identical_message(resource: Resource, version: ResourceFile, subject: str = "It") -> str:
    where = " (deleted: use Undo Delete on its page)" if resource.is_deleted else ""
    return (
        f"{subject} is identical to version {version.number} of “{resource.title}”{where}, "
        f"uploaded {version.uploaded_at:%d %b %Y %H:%M} UTC, so it is already stored."
    )


def _key(values: dict[str, str]) -> tuple[str, str, str, str]:
    return (values["series"], values["syllabus"], values["component"], values["kind"])


def _stored_with(keys: set[tuple]) -> dict[tuple, list[Resource]]:
    """The stored resources (deleted ones too) with any of these details, by details."""
    found: dict[tuple, list[Resource]] = {}
    if not keys:
        return found
    series = {key[0] for key in keys}
    syllabuses = {key[1] for key in keys}
    query = select(Resource).where(Resource.series.in_(series), Resource.syllabus.in_(syllabuses))
    for resource in db.session.scalars(query.order_by(Resource.id)):
        key = (resource.series, resource.syllabus, resource.component, resource.kind)
        if key in keys:
            found.setdefault(key, []).append(resource)
    return found


def _manifest(batch: Batch) -> dict:
    return {
        "uploader_id": batch.uploader_id,
        "staged_at": batch.staged_at.isoformat(),
        "files": [asdict(f) for f in batch.files],
    }


def _expired(staged_at: datetime, now: datetime) -> bool:
    return now - staged_at > timedelta(hours=PENDING_HOURS)
