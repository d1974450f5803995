"""Manage Resources - TP: find, edit, replace the file of, delete and restore
resources, and record staff downloads. Flushes, never commits."""

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Download, Resource, ResourceFile, User
from app.services import transactions
from app.services.audit import record_event, refuse_stale_edit
from app.services.clock import utcnow
from app.services.errors import DomainError
from app.services.paging import Paging
from app.services.releases import figures
from app.services.resources import filetypes, naming
from app.services.resources.storage import Incoming, Storage
from app.services.resources.uploads import clean_metadata, identical_message, kept_files
from app.services.text import fold

PAGE_SIZE = 50
# The Event actions that change a resource's version (its edit form's conflicts).
EDIT_ACTIONS = (
    "resource.uploaded",
    "resource.edited",
    "resource.replaced",
    "resource.deleted",
    "resource.restored",
)


@dataclass(frozen=True)
class Filters:
    series: str = ""
    syllabus: str = ""
    kind: str = ""
    text: str = ""
    deleted: bool = False  # show deleted resources too


@dataclass(frozen=True)
class Page(Paging):
    rows: list[tuple[Resource, ResourceFile]]  # each resource with its current file
    total: int
    number: int  # from 1
    size: int
    # With none shown and deleted ones left out: how many deleted ones match.
    deleted_hidden: int = 0


def search_resources(filters: Filters, page: int = 1, size: int = PAGE_SIZE) -> Page:
    """Resources matching every filter, newest series first, then by syllabus,
    component and kind; `text` matches every word in the title, syllabus or file
    names (case and accents ignored)."""
    conditions = []
    if filters.series:
        conditions.append(Resource.series == filters.series)
    if filters.syllabus:
        conditions.append(Resource.syllabus.startswith(filters.syllabus, autoescape=True))
    if filters.kind:
        conditions.append(Resource.kind == filters.kind)
    for word in fold(filters.text).split():
        conditions.append(Resource.search_key.contains(word, autoescape=True))
    matching = list(conditions)  # deleted ones too
    if not filters.deleted:
        conditions.append(Resource.deleted_at.is_(None))
    total = db.session.scalar(select(func.count()).select_from(Resource).where(*conditions))
    page = max(1, min(page, max(1, -(-total // size))))
    query = (
        select(Resource, ResourceFile)
        .join(
            ResourceFile,
            (ResourceFile.resource_id == Resource.id)
            & (ResourceFile.number == Resource.current_version),
        )
        .where(*conditions)
        .order_by(
            Resource.series.desc(),
            Resource.syllabus,
            Resource.component,
            Resource.kind,
            Resource.id,
        )
        .limit(size)
        .offset((page - 1) * size)
    )
    rows = [(resource, file) for resource, file in db.session.execute(query)]
    deleted_hidden = 0
    if not total and not filters.deleted:
        deleted_hidden = db.session.scalar(
            select(func.count()).select_from(Resource).where(*matching)
        )
    return Page(rows, total, page, size, deleted_hidden)


def series_in_use() -> list[str]:
    """Every series that has a resource, newest first (the list's filter)."""
    return list(
        db.session.scalars(select(Resource.series).distinct().order_by(Resource.series.desc()))
    )


def edit_resource(resource: Resource, values: dict[str, str], read_version: int | None) -> dict:
    """Save the details form, read at `read_version`; return and record what changed
    as {field: [before, after]}. Field problems raise FieldErrors."""
    refuse_stale_edit(resource, read_version, f"“{resource.title}”", EDIT_ACTIONS)
    clean, errors = clean_metadata(values)
    if errors:
        raise FieldErrors(errors)
    changes = {}
    for name, value in clean.items():
        if getattr(resource, name) != value:
            changes[name] = [getattr(resource, name), value]
            setattr(resource, name, value)
    if changes:
        transactions.lock_resource_changes()
        _refuse_identical_details(resource)
        db.session.flush()
        record_event("resource.edited", subject=resource, details={"changes": changes})
    return changes


class FieldErrors(DomainError):
    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def _refuse_identical_details(resource: Resource) -> None:
    """New details must not make the resource a duplicate of another with the same
    file (the rule the upload applies)."""
    hashes = {f.sha256 for f in resource.files}
    query = (
        select(Resource, ResourceFile)
        .join(ResourceFile, ResourceFile.resource_id == Resource.id)
        .where(
            Resource.id != resource.id,
            Resource.series == resource.series,
            Resource.syllabus == resource.syllabus,
            Resource.component == resource.component,
            Resource.kind == resource.kind,
            ResourceFile.sha256.in_(hashes),
        )
        .limit(1)
    )
    clash = db.session.execute(query).first()
    if clash is not None:
        other, version = clash
        raise DomainError(
            "With these details it would duplicate another resource: "
            + identical_message(other, version, subject="its file")
        )


def replace_file(
    storage: Storage,
    resource: Resource,
    name: str,
    incoming: Incoming,
    uploader: User,
    read_version: int | None,
) -> ResourceFile:
    """Make the received file the resource's new current version; the old versions
    are kept. Refused like an upload's file (name, size, type), and when it is
    identical to one of the resource's versions."""
    refuse_stale_edit(resource, read_version, f"“{resource.title}”", EDIT_ACTIONS)
    incoming.finish()  # all of it on disk, before its type is read
    problem = incoming.problem or naming.check_original_name(name)
    if problem is None and incoming.size == 0:
        problem = "The file is empty."
    if problem is not None:
        raise DomainError(problem)
    media_type = filetypes.identify(name, incoming.path)
    transactions.lock_resource_changes()
    for version in resource.files:
        if version.sha256 == incoming.sha256:
            raise DomainError(
                f"It is identical to version {version.number} ({version.original_name})."
            )
    number = max(f.number for f in resource.files) + 1
    with kept_files(storage) as keep:
        file = ResourceFile(
            number=number,
            original_name=name,
            stored_name=keep(incoming.path, filetypes.extension_of(name)),
            size=incoming.size,
            sha256=incoming.sha256,
            media_type=media_type,
            uploaded_by_id=uploader.id,
        )
        resource.files.append(file)
        resource.current_version = number
        db.session.flush()
    record_event(
        "resource.replaced",
        subject=resource,
        details={"version": number, "file": name, "size": file.size, "sha256": file.sha256},
    )
    return file


def delete_resource(resource: Resource, read_version: int | None) -> None:
    """Flag the resource as deleted (nothing is removed; restore_resource undoes it)."""
    refuse_stale_edit(resource, read_version, f"“{resource.title}”", EDIT_ACTIONS)
    if resource.is_deleted:
        return
    resource.deleted_at = utcnow()
    db.session.flush()
    record_event("resource.deleted", subject=resource, details={"title": resource.title})


def restore_resource(resource: Resource, read_version: int | None) -> None:
    """Undo Delete, from a page read at `read_version`."""
    refuse_stale_edit(resource, read_version, f"“{resource.title}”", EDIT_ACTIONS)
    if not resource.is_deleted:
        return
    resource.deleted_at = None
    db.session.flush()
    record_event("resource.restored", subject=resource, details={"title": resource.title})


def file_version(resource: Resource, number: int) -> ResourceFile | None:
    return next((f for f in resource.files if f.number == number), None)


def record_download(
    file: ResourceFile,
    user: User,
    *,
    ip: str | None,
    user_agent: str | None,
    range_header: str | None,
    status: str = "sent",
    reason: str | None = None,
    release_id: int | None = None,
) -> Download:
    """Add the Download record of one download (or refused attempt) of a file; a
    centre user's names the release it was (or would have been) downloaded under."""
    download = Download(
        at=utcnow(),
        resource_file_id=file.id,
        user_id=user.id,
        user_email=user.email,
        centre_id=user.centre_id,
        release_id=release_id,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
        range=(range_header or "")[:100] or None,
        status=status,
        reason=reason,
    )
    db.session.add(download)
    if status == "sent" and release_id is not None and user.centre_id is not None:
        figures.download_sent(release_id, user.centre_id, download.at, user.email)
    return download


def downloads_of(resource: Resource, limit: int = 20) -> list[Download]:
    """The latest downloads of any version of the resource."""
    ids = [f.id for f in resource.files]
    query = (
        select(Download)
        .where(Download.resource_file_id.in_(ids))
        .options(joinedload(Download.resource_file))  # its version number, in the same query
    )
    return list(db.session.scalars(query.order_by(Download.id.desc()).limit(limit)))
