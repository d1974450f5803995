"""The emails the portal sends, worded by admins and rendered in a Jinja sandbox.

Each kind of email has a default wording here and may be reworded on Admin →
E-mail Templates. Admin-written text is never rendered with the app's own
Jinja environment: it gets a sandbox that knows only the placeholders of its
kind of email, refuses Python internals, and allows no loops, macros, imports
or assignments, only placeholders and {% if %}.
"""

import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError, nodes
from jinja2.exceptions import FilterArgumentError, SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import EmailTemplate
from app.services.audit import record_event
from app.services.clock import utcnow
from app.services.email import syntax
from app.services.email.syntax import Found
from app.services.errors import EditConflict
from app.services.text import control_character_in

log = logging.getLogger(__name__)

_PLACEHOLDER_DESCRIPTIONS = {
    "email": "the user's email address (their username)",
    "centre_number": "the centre's number",
    "centre_name": "the centre's name",
    "role": "the staff role: Admin or Admin - TP",
    "link": "the link to follow (it works once)",
    "expires": "when the link stops working, in UTC",
    "organisation": "the exam board's name",
    "series": "the exam series of the resources, e.g. June 2026",
    "release": "the release's title (or its number, when it has none)",
    "resources": "the resources released to the centre, each on lines of its own with "
    "its opening and closing times in the centre's local time and in UTC",
    "opens": "when the centre's first resource opens, in the centre's local time and in UTC",
    "closes": "when the centre's last resource closes, in the centre's local time and in UTC",
}

SUBJECT_MAX = 200
BODY_MAX = 20_000


@dataclass(frozen=True)
class Kind:
    """One kind of email: what it is for, its placeholders and its default wording."""

    key: str
    title: str
    purpose: str
    placeholders: tuple[str, ...]
    subject: str
    body: str
    sample: dict = field(default_factory=dict)
    # What a placeholder means in this email, where it differs from the usual meaning.
    described: dict = field(default_factory=dict)

    def describe_placeholders(self) -> list[tuple[str, str]]:
        return [
            (name, self.described.get(name) or _PLACEHOLDER_DESCRIPTIONS[name])
            for name in self.placeholders
        ]


_SAMPLE_LINK = "https://portal.example.org/activate/SAMPLE-LINK"
_SAMPLE_EXPIRES = "2 December 2026 14:05 UTC"

# The placeholders of both release emails, and their sample values: what a centre's
# release notice is made of (services/releases/notices.py fills them in).
_RELEASE_PLACEHOLDERS = (
    "centre_number",
    "centre_name",
    "series",
    "release",
    "resources",
    "opens",
    "closes",
    "link",
    "organisation",
)
_RELEASE_SAMPLE = {
    "centre_number": "GB123",
    "centre_name": "Riverside School",
    "series": "June 2026",
    "release": "June 2026 question papers",
    "resources": """\
- Paper 22 (0580/22, Question paper)
  opens Mon 1 Jun 2026 09:00 BST (1 Jun 2026 08:00 UTC)
  closes Fri 5 Jun 2026 11:30 BST (5 Jun 2026 10:30 UTC)
- Paper 42 (0580/42, Question paper)
  opens Tue 2 Jun 2026 13:30 BST (2 Jun 2026 12:30 UTC)
  closes Sat 6 Jun 2026 16:00 BST (6 Jun 2026 15:00 UTC)""",
    "opens": "Mon 1 Jun 2026 09:00 BST (1 Jun 2026 08:00 UTC)",
    "closes": "Sat 6 Jun 2026 16:00 BST (6 Jun 2026 15:00 UTC)",
    "link": "https://portal.example.org/",
}
_PORTAL_LINK = "the address of the portal, where the centre's users sign in to download"

KINDS: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind(
            key="activation",
            title="Activation (centre user)",
            purpose="Sent when a centre user asks to activate their account, or an admin "
            "clicks Send activation email.",
            placeholders=(
                "email",
                "centre_number",
                "centre_name",
                "link",
                "expires",
                "organisation",
            ),
            subject="Activate your {{ organisation }} secure portal account",
            body="""\
Hello,

An account for {{ email }} at centre {{ centre_number }} ({{ centre_name }}) has been \
registered on the {{ organisation }} secure release portal.

To activate it, open this link, enter the PIN that {{ organisation }} gave your centre, \
and choose a password:

{{ link }}

The link works once and stops working at {{ expires }}. If it has stopped working, \
ask for a new one under "New user" on the sign-in page.

If you did not ask for this email, you can ignore it.

{{ organisation }}
""",
            sample={"centre_number": "GB123", "centre_name": "Riverside School"},
        ),
        Kind(
            key="invitation",
            title="Staff invitation",
            purpose="Sent when an admin invites a staff member on Admin → Users, or clicks "
            "Resend invitation, and when staff ask to activate from the sign-in page.",
            placeholders=("email", "role", "link", "expires", "organisation"),
            subject="You are invited to the {{ organisation }} secure portal",
            body="""\
Hello,

You have been given an account on the {{ organisation }} secure release portal, \
as {{ role }}. Your username is {{ email }}.

To activate it and choose a password, open this link:

{{ link }}

The link works once and stops working at {{ expires }}. If it has stopped working, \
ask for a new one under "New user" on the sign-in page.

{{ organisation }}
""",
            sample={"role": "Admin - TP"},
        ),
        Kind(
            key="password_reset",
            title="Password reset",
            purpose="Sent when an activated user asks to reset a forgotten password.",
            placeholders=("email", "link", "expires", "organisation"),
            subject="Reset your {{ organisation }} secure portal password",
            body="""\
Hello,

Someone, probably you, asked to reset the password of {{ email }} on the \
{{ organisation }} secure release portal. To choose a new password, open this link:

{{ link }}

The link works once and stops working at {{ expires }}.

If you did not ask for this, you can ignore this email: your password has not changed.

{{ organisation }}
""",
        ),
        Kind(
            key="release_notice",
            title="Release notice",
            purpose="Sent to each activated user of a centre when its window in a release "
            "opens (its first resource becomes available). It waits in the outbox until then, "
            "moves when the window moves, and is withdrawn when the release is cancelled or "
            "the centre is taken out of it.",
            placeholders=_RELEASE_PLACEHOLDERS,
            subject="Resources for centre {{ centre_number }} are available to download",
            body="""\
Hello,

Resources for centre {{ centre_number }} ({{ centre_name }}) of the {{ series }} \
series are now available on the {{ organisation }} secure release portal, in the \
release {{ release }}.

Each resource can be downloaded from its opening time until its closing time. The \
times are your centre's local time, with UTC in brackets:

{{ resources }}

To download them, sign in at:

{{ link }}

Keep the resources secure until the exam.

{{ organisation }}
""",
            sample=_RELEASE_SAMPLE,
            described={"link": _PORTAL_LINK},
        ),
        Kind(
            key="release_scheduled",
            title="Release scheduled",
            purpose="Sent at once to each activated user of the centres in a release, when "
            "the admin saving it on Release Resources ticks the option to tell the centres "
            "that it is scheduled.",
            placeholders=_RELEASE_PLACEHOLDERS,
            subject="Resources for centre {{ centre_number }} will be available from {{ opens }}",
            body="""\
Hello,

{{ organisation }} has scheduled the release of resources for centre \
{{ centre_number }} ({{ centre_name }}) of the {{ series }} series, in the release \
{{ release }}. The first opens at {{ opens }}.

Each resource can be downloaded from its opening time until its closing time. The \
times are your centre's local time, with UTC in brackets:

{{ resources }}

Nothing can be downloaded before its opening time. We will email you again when \
the resources are available. Then sign in at:

{{ link }}

{{ organisation }}
""",
            sample=_RELEASE_SAMPLE,
            described={"link": _PORTAL_LINK},
        ),
    )
}

_FORBIDDEN_NODES = {
    nodes.For: "loops",
    nodes.Macro: "macros",
    nodes.CallBlock: "call blocks",
    nodes.FilterBlock: "filter blocks",
    nodes.Include: "includes",
    nodes.Import: "imports",
    nodes.FromImport: "imports",
    nodes.Extends: "extends",
    nodes.Block: "blocks",
    nodes.Assign: "assignments",
    nodes.AssignBlock: "assignments",
    nodes.With: "with blocks",
    # Text repeated or numbers raised a billion times over would stall every save.
    nodes.Mul: "multiplications",
    nodes.Pow: "powers",
    nodes.Mod: "% operators",
    # Placeholders are text to show, not objects to call: no methods (center, format...).
    nodes.Call: "method calls",
}
# Filters that change a placeholder's text; nothing that pads, repeats or reaches further.
ALLOWED_FILTERS = frozenset(
    {"upper", "lower", "title", "capitalize", "trim", "default", "truncate"}
)


class _Sandbox(ImmutableSandboxedEnvironment):
    def is_safe_attribute(self, obj, attr, value) -> bool:
        # Placeholders are plain strings; nothing of theirs starting with "_" is needed.
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)


_sandbox = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
# The placeholders are the only names a wording may use: no range(), lipsum(), dict(), ...
_sandbox.globals.clear()


@dataclass(frozen=True)
class Problem:
    """Something wrong with an admin's wording, for the field and line it is on."""

    field: str  # "subject" or "body"
    line: int | None
    message: str
    text: str = ""  # the line as written, to show beside the message

    def __str__(self) -> str:
        if self.line:
            return f"Line {self.line}: {self.message}"
        return f"{self.message[:1].upper()}{self.message[1:]}"


def kind(key: str) -> Kind:
    return KINDS[key]


def sample_context(kind: Kind, organisation: str, email: str = "exams@example.org") -> dict:
    """Made-up values for every placeholder, for the preview and the test email."""
    context = {
        "email": email,
        "link": _SAMPLE_LINK,
        "expires": _SAMPLE_EXPIRES,
        "organisation": organisation,
        **kind.sample,
    }
    return {name: context[name] for name in kind.placeholders}


def problems_in(kind: Kind, subject: str, body: str) -> list[Problem]:
    """Everything that stops this wording from being used, each with the line it is on."""
    problems = []
    if not subject.strip():
        problems.append(Problem("subject", None, "Enter a subject."))
    elif "\n" in subject.strip() or "\r" in subject:
        problems.append(Problem("subject", None, "A subject is one line."))
    elif len(subject) > SUBJECT_MAX:
        problems.append(
            Problem("subject", None, f"A subject has at most {SUBJECT_MAX} characters.")
        )
    for name, source in (("subject", subject), ("body", body)):
        line = _control_character_line(source)
        if line:
            problems.append(
                Problem(name, line, "control characters (other than line breaks) are not allowed.")
            )
    if not body.strip():
        problems.append(Problem("body", None, "Enter the text of the email."))
    elif len(body) > BODY_MAX:
        problems.append(Problem("body", None, f"The text has at most {BODY_MAX} characters."))
    for name, source, limit in (("subject", subject, SUBJECT_MAX), ("body", body, BODY_MAX)):
        # Text over its length is not read at all: reading is what takes the time.
        if source.strip() and len(source) <= limit:
            lines = source.split("\n")
            problems.extend(
                Problem(name, found.line, found.message, _line_text(lines, found.line))
                for found in _source_problems(kind, source)
            )
    return problems


def _line_text(lines: list[str], number: int | None) -> str:
    if not number or number > len(lines):
        return ""
    line = lines[number - 1].rstrip()
    return line if len(line) <= 120 else line[:119] + "…"


def _source_problems(kind: Kind, source: str) -> list[Found]:
    """Everything wrong in one field's text, every line's problem at once."""
    tags, unclosed = syntax.tags_in(source)
    too_big = syntax.bound_problems(tags)
    if too_big:
        # Not given to Jinja at all: that is what could crash.
        return _in_line_order(unclosed + too_big + syntax.block_problems(tags))
    try:
        tree = _sandbox.parse(source)
    except TemplateSyntaxError as error:
        # Jinja reports only the first error: read each placeholder and tag on its own.
        found = unclosed + syntax.block_problems(tags) + _tag_problems(kind, tags)
        return _in_line_order(found or [Found(error.lineno, _UNREADABLE)])
    except _TOO_MUCH:
        return [Found(None, _TOO_COMPLICATED)]
    found = _tree_problems(kind, tree)
    return _in_line_order(found) if found else _render_problems(kind, source)


# What Jinja or Python raise when a wording is too big for them, whatever the bounds miss.
_TOO_MUCH = (RecursionError, MemoryError, OverflowError, ValueError)
_TOO_COMPLICATED = (
    "this text is too complicated for the portal to read: make its placeholders and "
    "{% if %} tags simpler."
)
_UNREADABLE = (
    "this line cannot be read: check that each {{ has its }} and each {% its %}, "
    "and that quotation marks are closed."
)
# Bounds on the parsed wording, checked before anything walks it recursively.
MAX_NODES = 3_000
MAX_DEPTH = 40


def _in_line_order(found: list[Found]) -> list[Found]:
    return sorted(dict.fromkeys(found), key=lambda f: f.line or 0)


def _tag_problems(kind: Kind, tags: list[syntax.Tag]) -> list[Found]:
    """Each placeholder and {% if %} condition checked alone, as if the rest were right."""
    found = []
    for tag in tags:
        source = syntax.source_to_parse(tag)
        if source is None:
            continue
        try:
            tree = _sandbox.parse(source)
        except TemplateSyntaxError as error:
            found.append(Found(tag.line, syntax.plain_words(error, tag)))
        except _TOO_MUCH:
            found.append(Found(tag.line, _TOO_COMPLICATED))
        else:
            found.extend(_tree_problems(kind, tree))
    return found


def _tree_problems(kind: Kind, tree: nodes.Template) -> list[Found]:
    """What a parsed wording uses that an email may not, each at its line."""
    size = _size_problem(tree)
    if size:
        return [size]
    problems = []
    for node_type, what in _FORBIDDEN_NODES.items():
        for node in tree.find_all(node_type):
            problems.append(Found(node.lineno, f"{what} are not allowed; use placeholders."))
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else _constant(node.arg)
        # Refused here, not only by the sandbox when rendered: the check below renders
        # with sample values, which may never reach this branch of an {% if %}.
        if isinstance(name, str) and name.startswith("_"):
            problems.append(Found(node.lineno, f"“{name}” is not allowed in an email."))
    for node in tree.find_all(nodes.Filter):
        if node.name not in ALLOWED_FILTERS:
            problems.append(
                Found(
                    node.lineno,
                    f"the “{node.name}” filter is not allowed in an email. "
                    f"These are: {', '.join(sorted(ALLOWED_FILTERS))}.",
                )
            )
    # Loops, assignments and macros are refused, so every name read is a placeholder
    # (or a mistake): this also refuses `self`, `loop` and Jinja's global functions.
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in kind.placeholders:
            problems.append(
                Found(
                    node.lineno,
                    f"“{{{{ {node.name} }}}}” is not a placeholder of this email. "
                    f"It offers: {', '.join(kind.placeholders)}.",
                )
            )
    return problems


def _size_problem(tree: nodes.Template) -> Found | None:
    """Too many parts, or parts nested too deeply (a 4,000-term sum, say), for Jinja's
    recursive compiler; measured without recursing."""
    count, deepest, deepest_line = 0, 0, None
    stack = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > deepest:
            deepest, deepest_line = depth, getattr(node, "lineno", None)
        stack.extend((child, depth + 1) for child in node.iter_child_nodes())
    if count > MAX_NODES:
        return Found(None, "this text has too many placeholders and tags: make it simpler.")
    if deepest > MAX_DEPTH:
        return Found(
            deepest_line,
            "this placeholder or {% if %} is too complicated: use fewer operations "
            "and fewer {% if %} tags inside one another.",
        )
    return None


def _render_problems(kind: Kind, source: str) -> list[Found]:
    """Whatever goes wrong when the wording is shown with the sample values."""
    try:
        _sandbox.from_string(source).render(sample_context(kind, "Sample Exam Board"))
    except Exception as error:  # noqa: BLE001 - whatever the wording does wrong, refuse it
        return [Found(_template_line(error), render_failure(error))]
    return []


def render_failure(error: Exception) -> str:
    """Why a wording could not be shown, in words for the admin."""
    if isinstance(error, SecurityError):
        return "this reaches for something an email may not use."
    if isinstance(error, UndefinedError):
        missing = re.search(r"has no attribute '([^']*)'", error.message or "")
        if missing:
            return (
                f"a placeholder is text: it has no “{missing.group(1)}”. Use the "
                "placeholder as it is, or with a filter."
            )
        return "this uses a value the email does not have."
    # Jinja's filters check their arguments with assert (truncate's length, for one).
    if isinstance(error, FilterArgumentError | AssertionError):
        return f"a filter was given a value it cannot use: {_sentence(str(error))}"
    if isinstance(error, ZeroDivisionError):
        return "this divides by zero."
    if isinstance(error, TypeError):
        return (
            "this combines values that do not go together, such as text and a number. "
            'Join text with ~, as in {{ email ~ " at " ~ centre_name }}.'
        )
    if isinstance(error, _TOO_MUCH):
        return "this is too complicated, or its numbers too large, to show."
    return "this cannot be shown with the sample values."


def _control_character_line(source: str) -> int | None:
    for number, line in enumerate(source.split("\n"), start=1):
        if control_character_in(line):
            return number
    return None


def _constant(node: nodes.Node):
    return node.value if isinstance(node, nodes.Const) else None


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return f"{text[:1].lower()}{text[1:]}."


def _template_line(error: Exception) -> int | None:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else None


def changed_wording(key: str) -> EmailTemplate | None:
    """An admin's wording of this kind of email, if it is in use (not the default)."""
    stored = db.session.get(EmailTemplate, key)
    # A restored default keeps its row, emptied (see restore_default).
    return stored if stored is not None and stored.subject else None


def changed_wordings() -> dict[str, EmailTemplate]:
    """Every admin's wording in use, by kind of email."""
    return {row.key: row for row in db.session.scalars(select(EmailTemplate)) if row.subject}


def version_of(key: str) -> int:
    """How many times this kind of email was saved or restored: 0 for never. An edit
    form carries it, so that a save can tell whether someone saved in between."""
    stored = db.session.get(EmailTemplate, key)
    return stored.version if stored is not None else 0


def wording(key: str) -> tuple[str, str, bool]:
    """The subject and body in use for this kind of email, and whether an admin changed them."""
    stored = changed_wording(key)
    if stored is None:
        return KINDS[key].subject, KINDS[key].body, False
    return stored.subject, stored.body, True


@lru_cache(maxsize=32)
def _compiled(source: str) -> Template:
    return _sandbox.from_string(source)


def render(subject: str, body: str, context: dict) -> tuple[str, str]:
    """Subject and body with the placeholders filled in, in the sandbox."""
    rendered_subject = _compiled(subject).render(context)
    # Never a header injection, whatever an admin or a centre's name holds.
    rendered_subject = " ".join(rendered_subject.split())
    return rendered_subject, _compiled(body).render(context)


def render_email(key: str, context: dict) -> tuple[str, str]:
    """The email of this kind for these values, in the wording in use.

    Saved wording has passed `problems_in`, but a branch of an {% if %} that the
    sample values never reached can still fail with real ones: then the default
    wording is sent rather than no email at all.
    """
    return renderer(key)(context)


def renderer(key: str) -> Callable[[dict], tuple[str, str]]:
    """`render_email` for many emails of one kind: the wording is read once (and its
    compiled form cached), then each call only fills in the placeholders."""
    subject, body, customised = wording(key)

    def render_one(context: dict) -> tuple[str, str]:
        try:
            return render(subject, body, context)
        except Exception:
            if not customised:
                raise
            log.exception("the %s email's saved wording failed; sending the default", key)
            return render(KINDS[key].subject, KINDS[key].body, context)

    return render_one


def save_wording(key: str, subject: str, body: str, *, by: str, version: int) -> list[Problem]:
    """Store an admin's wording, or return why not (and store nothing).

    `version` is the one the admin's form was opened at: if someone saved or
    restored this email since, EditConflict is raised and nothing is stored.
    """
    kind = KINDS[key]
    problems = problems_in(kind, subject, body)
    if problems:
        return problems
    stored = _unchanged_since(key, version)
    if stored is None:
        stored = EmailTemplate(key=key)
        db.session.add(stored)
    stored.subject, stored.body, stored.updated_by = subject.strip(), body, by
    stored.updated_at = utcnow()
    _flush(key)
    record_event("email_template.saved", details={"template": key})
    return []


def restore_default(key: str, *, by: str, version: int) -> None:
    """Use the default wording again, unless someone saved since `version` (EditConflict).

    The row is emptied, not deleted, so that its version goes on counting: a form
    opened before the restore stays refused even after someone saves anew.
    """
    stored = _unchanged_since(key, version)
    if stored is None or not stored.subject:
        return  # the default is in use already
    stored.subject, stored.body, stored.updated_by = "", "", by
    stored.updated_at = utcnow()
    _flush(key)
    record_event("email_template.restored", details={"template": key})


def _unchanged_since(key: str, version: int) -> EmailTemplate | None:
    """The stored row, if it is still at `version`; EditConflict if it is not."""
    stored = db.session.get(EmailTemplate, key)
    if (stored.version if stored is not None else 0) != version:
        raise _conflict(key, stored)
    return stored


def _flush(key: str) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        # Another request saved between our read and our UPDATE (version_id_col). The
        # session cannot read until changes() has rolled back: who it was goes unsaid.
        raise _conflict(key, None) from None


def _conflict(key: str, stored: EmailTemplate | None) -> EditConflict:
    by, at = (stored.updated_by, stored.updated_at) if stored is not None else (None, None)
    return EditConflict(f"The {KINDS[key].title} email", by, at)
