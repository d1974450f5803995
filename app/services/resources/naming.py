"""A resource's metadata (kind, series, syllabus, component, title) and the board's file names.

Admins upload hundreds of files named by the board's convention, such as
``0580_s26_qp_22.pdf`` (syllabus 0580, June 2026, question paper, component 22).
Reading the metadata from the name saves typing it, and typing it wrongly: a
paper filed under the wrong series or component reaches the wrong centres, or
none. So the name is parsed strictly, and anything that does not follow the
convention exactly is left for the admin to fill in rather than guessed at.

The ``clean_*`` functions take what an admin typed (or a name held) and return the
value to store, or raise MetadataError saying what is wrong and how to put it
right. Pure: no Flask, no database, so forms, uploads and scripts share the rules.
"""

import re
from dataclasses import dataclass
from datetime import date

from app.services.errors import DomainError
from app.services.text import control_character_in, control_character_message

TITLE_MAX = 200
FILE_NAME_MAX = 255  # what most file systems allow
_SHOWN_MAX = 80  # how much of a refused name a message repeats


class MetadataError(DomainError):
    """A resource's metadata breaks a rule; str(error) says which, for the admin."""


@dataclass(frozen=True)
class Kind:
    """A kind of resource. `code` is its part of the board's file names, or None for
    kinds the convention does not name (their files are named freely)."""

    value: str
    label: str
    code: str | None


KINDS: tuple[Kind, ...] = (
    Kind("question-paper", "Question paper", "qp"),
    Kind("insert", "Insert", "in"),
    Kind("pre-release", "Pre-release material", "pm"),
    Kind("listening-audio", "Listening audio", None),
    Kind("source-files", "Source files", "sf"),
    Kind("confidential-instructions", "Confidential instructions", "ci"),
    Kind("mark-scheme", "Mark scheme", "ms"),
    Kind("other", "Other", None),
)
KIND_LABELS: dict[str, str] = {kind.value: kind.label for kind in KINDS}
_KIND_BY_CODE = {kind.code: kind for kind in KINDS if kind.code}
_KIND_BY_VALUE = {kind.value: kind for kind in KINDS}
_KIND_BY_LABEL = {kind.label.casefold(): kind for kind in KINDS}


def kind_label(value: str) -> str:
    """The label of a stored kind ("question-paper" → "Question paper")."""
    try:
        return KIND_LABELS[value]
    except KeyError:
        raise MetadataError(f'"{value}" is not a kind of resource.') from None


# The board sits exams in three series a year; each has a letter in file names
# (m for March, s for summer, w for winter).
SERIES_MONTHS: dict[str, tuple[str, str]] = {
    "03": ("March", "m"),
    "06": ("June", "s"),
    "11": ("November", "w"),
}
_MONTH_BY_NAME = {name.casefold(): month for month, (name, _) in SERIES_MONTHS.items()}
_MONTH_BY_LETTER = {letter: month for month, (_, letter) in SERIES_MONTHS.items()}
FIRST_YEAR, LAST_YEAR = 2000, 2099  # file names carry two digits of the year
_SERIES_MESSAGE = 'Series must be March, June or November of a year, e.g. "June 2026".'
_STORED_SERIES = re.compile(r"([0-9]{4})-([0-9]{2})")
_NAMED_SERIES = re.compile(r"([a-z]+) ([0-9]{4})")


def _series_parts(raw: str) -> tuple[int, str] | None:
    """(year, month) from "2026-06" or "June 2026" (any case, any spacing), or None."""
    text = " ".join(raw.split()).casefold()
    if stored := _STORED_SERIES.fullmatch(text):
        year, month = int(stored[1]), stored[2]
    elif named := _NAMED_SERIES.fullmatch(text):
        year, month = int(named[2]), _MONTH_BY_NAME.get(named[1], "")
    else:
        return None
    if month not in SERIES_MONTHS or not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return year, month


def clean_series(raw: str | None) -> str:
    """The series as stored ("2026-06"), from "2026-06" or "June 2026"."""
    text = (raw or "").strip()
    if not text:
        raise MetadataError(f"Enter the series. {_SERIES_MESSAGE}")
    parts = _series_parts(text)
    if parts is None:
        raise MetadataError(_SERIES_MESSAGE)
    year, month = parts
    return f"{year}-{month}"


def series_label(value: str) -> str:
    """How a stored series reads: "2026-06" → "June 2026"."""
    parts = _STORED_SERIES.fullmatch(value) and _series_parts(value)
    if not parts:
        raise MetadataError(f'"{value}" is not a series. {_SERIES_MESSAGE}')
    year, month = parts
    return f"{SERIES_MONTHS[month][0]} {year}"


def series_choices(today: date, before: int = 1, after: int = 3) -> list[tuple[str, str]]:
    """(value, label) for every series from `before` years ago to `after` years ahead, in
    time order: enough for papers being written now and last year's being kept."""
    first = max(today.year - before, FIRST_YEAR)
    last = min(today.year + after, LAST_YEAR)
    return [
        (f"{year}-{month}", f"{name} {year}")
        for year in range(first, last + 1)
        for month, (name, _) in SERIES_MONTHS.items()
    ]


_SYLLABUS = re.compile(r"[0-9]{4}")
_COMPONENT = re.compile(r"[0-9]{2}")


def clean_syllabus(raw: str | None) -> str:
    """The syllabus code, "0580". The leading zero matters: it is a code, not a number.
    Only ASCII digits: "٠٥٨٠" looks right but matches no syllabus."""
    code = (raw or "").strip()
    if not _SYLLABUS.fullmatch(code):
        raise MetadataError("Syllabus code must be 4 digits, e.g. 0580.")
    return code


def clean_component(raw: str | None) -> str:
    """The component, "22": its first digit is the paper, its second the variant
    (a time zone's version of the paper). There is no component 00."""
    component = (raw or "").strip()
    if not _COMPONENT.fullmatch(component) or component == "00":
        raise MetadataError("Component must be 2 digits, e.g. 22.")
    return component


def variant(component: str) -> int:
    """The variant of a component: its second digit ("22" → 2)."""
    return int(clean_component(component)[1])


def clean_kind(raw: str | None) -> str:
    """The kind's value, from its value ("question-paper") or label ("question paper")."""
    text = " ".join((raw or "").split()).casefold()
    kind = _KIND_BY_VALUE.get(text) or _KIND_BY_LABEL.get(text)
    if kind is None:
        labels = ", ".join(k.label for k in KINDS[:-1]) + f" or {KINDS[-1].label}"
        raise MetadataError(f"Choose the kind of resource: {labels}.")
    return kind.value


def clean_title(raw: str | None) -> str:
    code = control_character_in(raw or "")
    if code:
        raise MetadataError(control_character_message("The title", code))
    title = " ".join((raw or "").split())
    if not title:
        raise MetadataError("Enter a title.")
    if len(title) > TITLE_MAX:
        raise MetadataError(
            f"A title has at most {TITLE_MAX} characters; this one has {len(title)}."
        )
    return title


@dataclass(frozen=True)
class ParsedName:
    """What a board file name says, as stored values: ("2026-06", "0580", "22",
    "question-paper")."""

    series: str
    syllabus: str
    component: str
    kind: str


# 0580_s26_qp_22.pdf: syllabus, series letter and year, kind code, component, extension.
# ASCII only, so that no other script's digits slip through; one extension, no more.
_BOARD_NAME = re.compile(
    r"([0-9]{4})_([msw])([0-9]{2})_([a-z]{2})_([0-9]{2})\.([a-z0-9]{1,10})",
    re.IGNORECASE | re.ASCII,
)


def parse_file_name(name: str) -> ParsedName | None:
    """The metadata in a board file name, or None when it does not follow the convention
    exactly: a near miss is not guessed at, the admin fills the details in instead.
    A name with folders in it (/ or \\) does not match, so is None too."""
    match = _BOARD_NAME.fullmatch(name)
    if match is None:
        return None
    syllabus, letter, year, code, component, _ = match.groups()
    kind = _KIND_BY_CODE.get(code.lower())
    if kind is None or component == "00":
        return None
    return ParsedName(
        series=f"20{year}-{_MONTH_BY_LETTER[letter.lower()]}",
        syllabus=syllabus,
        component=component,
        kind=kind.value,
    )


def board_file_name(parsed: ParsedName, extension: str = "pdf") -> str:
    """The board's name for a resource's file, "0580_s26_qp_22.pdf" (the inverse of
    parse_file_name). Kinds without a code have no such name."""
    kind = _KIND_BY_VALUE.get(parsed.kind)
    if kind is None or kind.code is None:
        raise MetadataError(
            f"{kind_label(parsed.kind)} files have no name in the board's convention."
        )
    year, month = clean_series(parsed.series).split("-")
    letter = SERIES_MONTHS[month][1]
    return f"{parsed.syllabus}_{letter}{year[2:]}_{kind.code}_{parsed.component}.{extension}"


def default_title(parsed: ParsedName) -> str:
    """The board's wording for a parsed name: "0580 June 2026 Question paper 22"."""
    return (
        f"{parsed.syllabus} {series_label(parsed.series)} "
        f"{kind_label(parsed.kind)} {parsed.component}"
    )


def title_from_file_name(name: str) -> str:
    """A title for a file whose name does not follow the convention: its stem with
    underscores and hyphens as spaces ("Exam_timetable-v2.pdf" → "Exam timetable v2").
    Always a title clean_title accepts, so a form can offer it unchanged."""
    base = re.split(r"[/\\]", name)[-1]
    stem, dot, _ = base.rpartition(".")
    if not dot or not stem:
        stem = base
    text = "".join(" " if ch in "_-" or _is_control(ch) else ch for ch in stem)
    title = " ".join(text.split())[:TITLE_MAX].rstrip()
    return title or "Untitled"


def suggested_title(name: str) -> str:
    """The title to offer for an uploaded file: the board's wording when its name follows
    the convention, else one made from its name."""
    parsed = parse_file_name(name)
    return default_title(parsed) if parsed else title_from_file_name(name)


def _is_control(ch: str) -> bool:
    # Tab, line feed and carriage return too: ordinary in text, never in a file name,
    # where they break the headers a download is sent with.
    return ch in "\t\n\r" or control_character_in(ch) is not None


def shown_name(name: str) -> str:
    """A name as a message may repeat it: control characters as U+FFFD (so nothing
    invisible, or able to break the page, is echoed back) and at most 80 characters."""
    text = "".join("\ufffd" if _is_control(ch) else ch for ch in name)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def about_file(name: str, message: str) -> str:
    """`message` naming the file once: as it is when it quotes the name already (the
    file type checks do), else after the name."""
    shown = shown_name(name)
    return message if f'"{shown}"' in message else f'"{shown}": {message}'


def check_original_name(name: str) -> str | None:
    """None when an uploaded file's own name may be kept (and later offered back as the
    download's name), else why not. A browser sends only the base name; anything with
    folders in it was made by hand, perhaps to write outside the upload folder."""
    if not name or not name.strip():
        return "The file has no name: choose a file that has one, e.g. 0580_s26_qp_22.pdf."
    shown = shown_name(name)
    if "/" in name or "\\" in name or name in (".", ".."):
        return f'The file name "{shown}" contains folder parts; only a plain file name is accepted.'
    code = next((f"U+{ord(ch):04X}" for ch in name if _is_control(ch)), None)
    if code:
        return control_character_message(f'The file name "{shown}"', code)
    if len(name) > FILE_NAME_MAX:
        return (
            f'The file name "{shown}" has {len(name)} characters; at most {FILE_NAME_MAX} '
            "are accepted: rename the file and upload it again."
        )
    return None
