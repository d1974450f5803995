"""What admins publish for the whole site: the help documents and the standard message.

Help documents: each upload for an audience (centre users, or staff) is kept; the
newest is the one the Help link opens, the rest are its history. The standard
message: one admin-written notice shown on the sign-in page and every Home page;
without a saved one the seed's sentence is used, and an empty one hides it.
Flushes, never commits.
"""

from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import Event, HelpDocument, SiteText, User
from app.services.audit import record_event
from app.services.clock import utcnow
from app.services.errors import DomainError, EditConflict
from app.services.resources import filetypes, naming
from app.services.resources.storage import Incoming, Storage
from app.services.resources.uploads import kept_files

AUDIENCES = {"centre": "centre users", "staff": "staff"}
STANDARD_MESSAGE = "standard_message"
DEFAULT_STANDARD_MESSAGE = (
    "This is a standard message. Please replace this with a more meaningful and specific message."
)
STANDARD_MESSAGE_MAX = 2000


def audience_of(role: str) -> str:
    """Whose help document a user of this role is given."""
    return "centre" if role == "centre" else "staff"


def current_help(audience: str) -> HelpDocument | None:
    query = select(HelpDocument).where(HelpDocument.audience == audience)
    return db.session.scalar(query.order_by(HelpDocument.id.desc()).limit(1))


_HAS_HELP = select(HelpDocument.id).where(HelpDocument.audience == bindparam("audience")).limit(1)


def has_help(audience: str) -> bool:
    """Whether a help document exists for `audience` (every page asks, for its Help
    link: one indexed id, not a document and its uploader; the query built once)."""
    return db.session.scalar(_HAS_HELP, {"audience": audience}) is not None


def help_history(audience: str) -> list[HelpDocument]:
    query = select(HelpDocument).where(HelpDocument.audience == audience)
    return list(db.session.scalars(query.order_by(HelpDocument.id.desc())))


def upload_help(
    storage: Storage, audience: str, name: str, incoming: Incoming, uploader: User
) -> HelpDocument:
    """Keep a new help document (a PDF) for `audience`; it becomes the current one."""
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    incoming.finish()  # all of it on disk, before its type is read
    problem = incoming.problem or naming.check_original_name(name)
    if problem is None and incoming.size == 0:
        problem = "The file is empty."
    if problem is not None:
        raise DomainError(problem)
    filetypes.identify(name, incoming.path, allowed={".pdf"})
    with kept_files(storage) as keep:
        document = HelpDocument(
            audience=audience,
            original_name=name,
            stored_name=keep(incoming.path, "pdf"),
            size=incoming.size,
            sha256=incoming.sha256,
            uploaded_by_id=uploader.id,
            uploaded_at=utcnow(),
        )
        db.session.add(document)
        db.session.flush()
    record_event(
        "help_document.uploaded",
        subject=document,
        details={"audience": audience, "file": name, "size": document.size},
    )
    return document


def standard_message() -> str:
    """The standard message as shown ("" when an admin emptied it: hidden)."""
    stored = db.session.get(SiteText, STANDARD_MESSAGE)
    return stored.text if stored is not None else DEFAULT_STANDARD_MESSAGE


def standard_message_version() -> int:
    """How many times it was saved: 0 for never (the edit form carries it)."""
    stored = db.session.get(SiteText, STANDARD_MESSAGE)
    return stored.version if stored is not None else 0


def save_standard_message(text: str, *, read_version: int | None, by: User) -> bool:
    """Save the standard message, read at `read_version`; False when unchanged."""
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n")).strip()
    if len(text) > STANDARD_MESSAGE_MAX:
        raise DomainError(
            f"The standard message can be at most {STANDARD_MESSAGE_MAX:,} characters; "
            f"it has {len(text):,}."
        )
    stored = db.session.get(SiteText, STANDARD_MESSAGE)
    if read_version != (stored.version if stored is not None else 0):
        change = db.session.scalar(
            select(Event)
            .where(Event.action == "standard_message.saved")
            .order_by(Event.id.desc())
            .limit(1)
        )
        raise EditConflict(
            "The standard message",
            change.actor_email if change else None,
            change.at if change else None,
        )
    if text == standard_message():
        return False
    if stored is None:
        stored = SiteText(key=STANDARD_MESSAGE, text=text)
        db.session.add(stored)
    stored.text, stored.updated_by = text, by.email
    db.session.flush()
    record_event("standard_message.saved", details={"text": text})
    return True
