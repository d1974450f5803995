"""Which files may be uploaded as secure resources, told by their extension AND content.

Centres download these files and open them on exam-office computers, so a file
must be what its name says. An extension alone is a promise anyone can make: a
program renamed ``paper.pdf`` would be served as a PDF and opened by a curious
double-click. So the first bytes (and, for ZIP-based formats, the archive's list
of contents) are checked against the extension, programs are refused whatever
they are called, and Office files that carry macros are refused because macros
run code.

identify() reads only what it needs: the first few KB (64 KB for plain text) and
a ZIP's central directory through zipfile, plus an Office file's small
[Content_Types].xml. Nothing is extracted. Every refusal is a FileRefused whose
message names the file and says why, in the board's words. Pure: no Flask, no
database.
"""

import codecs
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from app.services.errors import DomainError
from app.services.text import control_character_in

HEAD_SIZE = 4096  # enough for every signature below, PDF's 1024-byte allowance included
TEXT_SIZE = 64 * 1024  # how much of a .txt is checked to be UTF-8
PDF_SLACK = 1024  # PDF readers accept junk before "%PDF-" within the first 1024 bytes
_CONTENT_TYPES_MAX = 1024 * 1024  # a real [Content_Types].xml is a few KB
_SHOWN_MAX = 80


class FileRefused(DomainError):
    """A file may not be uploaded; str(error) names it and says why."""


@dataclass(frozen=True)
class FileType:
    label: str  # in lists and tables: "Word document"
    media_type: str  # sent with the download
    noun: str  # in sentences: "is not a Word document"


ALLOWED: dict[str, FileType] = {
    ".pdf": FileType("PDF", "application/pdf", "a PDF"),
    ".mp3": FileType("MP3", "audio/mpeg", "an MP3 audio file"),
    ".wav": FileType("WAV", "audio/wav", "a WAV audio file"),
    ".m4a": FileType("M4A", "audio/mp4", "an M4A audio file"),
    ".zip": FileType("ZIP", "application/zip", "a ZIP archive"),
    ".docx": FileType(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "a Word document",
    ),
    ".xlsx": FileType(
        "Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "an Excel workbook",
    ),
    ".pptx": FileType(
        "PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "a PowerPoint presentation",
    ),
    ".txt": FileType("Text", "text/plain", "a plain text file"),
}
HELP_DOCUMENT_TYPES = frozenset({".pdf"})  # help documents are PDFs only

# The Office parts each format must have. OOXML part names are case-insensitive.
_OFFICE_PARTS = {
    ".docx": "word/document.xml",
    ".xlsx": "xl/workbook.xml",
    ".pptx": "ppt/presentation.xml",
}
_CONTENT_TYPES = "[content_types].xml"

# Macro-enabled (or binary) Office formats, and the format to save them as instead.
_MACRO_EXTENSIONS = {
    ".docm": ".docx",
    ".dotm": ".docx",
    ".xlsm": ".xlsx",
    ".xltm": ".xlsx",
    ".xlsb": ".xlsx",
    ".pptm": ".pptx",
    ".potm": ".pptx",
}

# M4A's "ftyp" major brands: Apple's audio brands (M4A, M4B audiobooks, M4P protected)
# and the generic MP4 brands many encoders write for audio-only files. Others (QuickTime
# "qt  ", 3GPP, HEIF images...) are not M4A audio.
M4A_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"mp42", b"mp41", b"isom"})

# Programs, by their first bytes. Refused whatever the file is called.
_PROGRAMS = (
    (b"MZ", "Windows executable"),
    (b"\x7fELF", "Linux executable"),
    (b"\xfe\xed\xfa\xce", "Mac executable"),  # Mach-O 32-bit, big-endian
    (b"\xce\xfa\xed\xfe", "Mac executable"),  # 32-bit, little-endian
    (b"\xfe\xed\xfa\xcf", "Mac executable"),  # 64-bit, big-endian
    (b"\xcf\xfa\xed\xfe", "Mac executable"),  # 64-bit, little-endian
    (b"\xca\xfe\xba\xbe", "Mac executable"),  # universal ("fat"); also Java classes
    (b"\xca\xfe\xba\xbf", "Mac executable"),  # 64-bit universal
    (b"#!", "script"),
)

# Other content worth naming when a file is not what its extension says.
_KNOWN_CONTENT = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an older Office file (.doc, .xls or .ppt) or a password-protected one",
    ),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
    (b"OggS", "Ogg audio"),
    (b"fLaC", "FLAC audio"),
)
_ZIP_STARTS = (b"PK\x03\x04", b"PK\x05\x06")  # a first entry, or an empty archive
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _list_labels(extensions: Collection[str]) -> str:
    names = [ext[1:].upper() for ext in ALLOWED if ext in extensions]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _a(listed: str) -> str:
    """ "a PDF ... file" but "an MP3 ... file": initialisms are read letter by letter."""
    return f"an {listed}" if listed[0] in "AEFHILMNORSX" else f"a {listed}"


ALLOWED_LABELS = _list_labels(ALLOWED)  # "PDF, MP3, WAV, M4A, ZIP, DOCX, XLSX, PPTX or TXT"
_LABEL_BY_MEDIA_TYPE = {kind.media_type: kind.label for kind in ALLOWED.values()}


def describe(media_type: str) -> str:
    """The label for a media type identify() returned ("application/pdf" → "PDF"); an
    unknown one is shown as it is."""
    return _LABEL_BY_MEDIA_TYPE.get(media_type, media_type)


def _shown(name: str) -> str:
    """A name as a message may repeat it (as naming.shown_name: control characters as
    U+FFFD, at most 80 characters). Kept here so this module stands alone."""
    text = "".join("\ufffd" if ch in "\t\n\r" or control_character_in(ch) else ch for ch in name)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…"


def extension_of(name: str) -> str:
    """The lower-case extension of a name's last part, with its dot (".pdf"), or ""."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    _, dot, ext = base.rpartition(".")
    return f".{ext.lower()}" if dot and ext else ""


def _allowed_set(allowed: Collection[str] | None) -> frozenset[str]:
    if allowed is None:
        return frozenset(ALLOWED)
    chosen = frozenset(ext.lower() if ext.startswith(".") else f".{ext.lower()}" for ext in allowed)
    unknown = chosen - ALLOWED.keys()
    if unknown or not chosen:
        raise ValueError(f"allowed must be some of {sorted(ALLOWED)}, not {sorted(unknown)}")
    return chosen


def identify(name: str, path: Path, allowed: Collection[str] | None = None) -> str:
    """The media type of the file at `path`, uploaded as `name`, or FileRefused saying why
    it may not be uploaded. `allowed` restricts the extensions (".pdf" or "pdf"), e.g.
    HELP_DOCUMENT_TYPES; by default every type in ALLOWED is accepted."""
    extensions = _allowed_set(allowed)
    shown = _shown(name)
    ext = extension_of(name)
    _check_extension(shown, ext, extensions)
    kind = ALLOWED[ext]

    with open(path, "rb") as file:
        head = file.read(TEXT_SIZE if ext == ".txt" else HEAD_SIZE)
        at_end = not file.read(1)
    if not head:
        raise FileRefused(
            f'"{shown}" is empty (0 bytes): it may not have finished saving or downloading. '
            "Choose the file again."
        )
    for signature, program in _PROGRAMS:
        if head.startswith(signature):
            raise FileRefused(
                f'"{shown}" is a program ({program}), not {kind.noun}: it was refused.'
            )

    if head.startswith(_ZIP_STARTS):
        _refuse_huge_directory(shown, path)
    if ext == ".txt":
        _check_text(shown, head, at_end)
    elif ext in (".zip", *_OFFICE_PARTS):
        _check_zip(shown, ext, path, head)
    elif not _matches(ext, head):
        raise _mismatch(shown, kind, _looks_like(head, path))
    return kind.media_type


def _check_extension(shown: str, ext: str, extensions: frozenset[str]) -> None:
    listed = _list_labels(extensions)
    if not ext:
        raise FileRefused(
            f'"{shown}" has no extension, so its type cannot be told: upload {_a(listed)} '
            "file with its extension."
        )
    instead = _MACRO_EXTENSIONS.get(ext)
    if instead in extensions:
        raise FileRefused(
            f'"{shown}" is a macro-enabled Office file ({ext}): macro-enabled Office files '
            f"are not accepted, because macros run code on the computer that opens them; "
            f"save it as {instead} and upload that."
        )
    if ext not in extensions:
        raise FileRefused(
            f'"{shown}" cannot be uploaded: {ext} files are not accepted. Upload {_a(listed)} file.'
        )


def _matches(ext: str, head: bytes) -> bool:
    if ext == ".pdf":
        return b"%PDF-" in head[: PDF_SLACK + 4]  # starting within the first 1024 bytes
    if ext == ".mp3":
        return head.startswith(b"ID3") or _frame_sync(head)
    if ext == ".wav":
        return head[:4] == b"RIFF" and head[8:12] == b"WAVE"
    if ext == ".m4a":
        return head[4:8] == b"ftyp" and head[8:12] in M4A_BRANDS
    raise AssertionError(f"no content check for {ext}")  # pragma: no cover


def _frame_sync(head: bytes) -> bool:
    """An MPEG audio frame header starts the file (an MP3 without an ID3 tag): its first
    11 bits set, and, a little stricter than the sync alone, no field holding a value
    the standard reserves (version 01, layer 00, bit rate 1111, sample rate 11)."""
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111 and rate != 0b11


def _mismatch(shown: str, kind: FileType, looks_like: str | None) -> FileRefused:
    what = (
        f"its content is {looks_like}"
        if looks_like
        else "it may be damaged, or another kind of file renamed"
    )
    return FileRefused(f'"{shown}" does not look like {kind.noun}: {what}.')


def _looks_like(head: bytes, path: Path | None) -> str | None:
    """What the content is, when it is something we can name, for a refusal's message."""
    if b"%PDF-" in head[: PDF_SLACK + 4]:
        return "a PDF"
    if head.startswith(_UTF16_BOMS):  # before MP3: FF FE also looks like a frame sync
        return "UTF-16 text"
    if head.startswith(_ZIP_STARTS):
        if path is not None:
            office = _office_kind(path)
            if office:
                return ALLOWED[office].noun
        return "a ZIP archive"
    if head.startswith(b"ID3") or _frame_sync(head):
        return "MP3 audio"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "WAV audio"
    if head[4:8] == b"ftyp":
        return "M4A audio" if head[8:12] in M4A_BRANDS else "an MP4 or QuickTime media file"
    for signature, what in _KNOWN_CONTENT:
        if head.startswith(signature):
            return what
    start = head[:512].lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    return None


# A ZIP's central directory is read whole (zipfile lists every entry): one that lists
# millions of entries would take gigabytes of memory, so it is measured first.
ZIP_ENTRIES_MAX = 20_000
ZIP_DIRECTORY_MAX = 4 * 1024 * 1024  # at 20,000 entries, names of ~150 characters
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def _directory_size(path: Path) -> tuple[int, int] | None:
    """(entries, bytes) of a ZIP's central directory, from its end records (ZIP64 too),
    without reading the directory; None when they cannot be found."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        start = max(0, size - (22 + 65535))  # the end record, and a comment of at most 64 KiB
        file.seek(start)
        tail = file.read()
        at = tail.rfind(_EOCD)
        if at < 0 or len(tail) - at < 22:
            return None
        entries = int.from_bytes(tail[at + 10 : at + 12], "little")
        directory = int.from_bytes(tail[at + 12 : at + 16], "little")
        if entries != 0xFFFF and directory != 0xFFFFFFFF:
            return entries, directory
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(_ZIP64_LOCATOR):
            return None
        file.seek(int.from_bytes(locator[8:16], "little"))
        record = file.read(56)
        if not record.startswith(_ZIP64_EOCD) or len(record) < 56:
            return None
        return int.from_bytes(record[32:40], "little"), int.from_bytes(record[40:48], "little")


def _refuse_huge_directory(shown: str, path: Path) -> None:
    measured = _directory_size(path)
    if measured is None:
        return  # zipfile will find it damaged
    entries, directory = measured
    if entries > ZIP_ENTRIES_MAX:
        raise FileRefused(
            f'"{shown}" is a ZIP archive listing {entries:,} files, more than the '
            f"{ZIP_ENTRIES_MAX:,} the portal accepts: it was refused. Split it, or send "
            "its contents in fewer, larger files."
        )
    if directory > ZIP_DIRECTORY_MAX:
        raise FileRefused(
            f'"{shown}" is a ZIP archive whose list of contents takes '
            f"{directory / (1024 * 1024):,.1f} MB, more than the "
            f"{ZIP_DIRECTORY_MAX // (1024 * 1024)} MB the portal accepts: it was refused."
        )


def _names(path: Path) -> dict[str, str] | None:
    """The names in a ZIP's central directory, lower case to as written, or None when it
    cannot be read. Only the directory is read; no entry is inflated."""
    try:
        with zipfile.ZipFile(path) as archive:
            return {info.filename.lower(): info.filename for info in archive.infolist()}
    except Exception:  # zipfile raises many kinds of error on a damaged archive
        return None


def _office_kind(path: Path) -> str | None:
    names = _names(path)
    if not names or _CONTENT_TYPES not in names:
        return None
    return next((ext for ext, part in _OFFICE_PARTS.items() if part in names), None)


def _check_zip(shown: str, ext: str, path: Path, head: bytes) -> None:
    kind = ALLOWED[ext]
    if not head.startswith(_ZIP_STARTS):
        raise _mismatch(shown, kind, _looks_like(head, path))
    names = _names(path)
    if names is None:
        raise FileRefused(
            f'"{shown}" does not look like {kind.noun}: it is a damaged or incomplete ZIP '
            "archive (its list of contents cannot be read)."
        )
    if ext == ".zip":
        return
    if _CONTENT_TYPES not in names or _OFFICE_PARTS[ext] not in names:
        other = _office_kind(path)
        what = ALLOWED[other].noun if other else f"a ZIP archive without the parts of {kind.noun}"
        raise _mismatch(shown, kind, what)
    macros = next((n for n in names if n.rsplit("/", 1)[-1] == "vbaproject.bin"), None)
    if macros:
        raise FileRefused(
            f'"{shown}" contains macros (its {_shown(names[macros])} part), which run code '
            f"on the computer that opens it, so it was refused: save it again as {ext} "
            "without macros."
        )
    content_types = _content_types(path)
    if content_types is None:
        raise FileRefused(
            f'"{shown}" does not look like {kind.noun}: its [Content_Types].xml part cannot '
            "be read, so the file is damaged (or encrypted)."
        )
    if b"macroenabled" in content_types.lower():
        raise FileRefused(
            f'"{shown}" contains macros (its [Content_Types].xml declares it macro-enabled), '
            f"which run code on the computer that opens it, so it was refused: save it again "
            f"as {ext} without macros."
        )


def _content_types(path: Path) -> bytes | None:
    """The start of [Content_Types].xml, read through a bounded stream: a bomb of a part
    is never inflated past _CONTENT_TYPES_MAX bytes. None when it cannot be read."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = next(i for i in archive.infolist() if i.filename.lower() == _CONTENT_TYPES)
            with archive.open(info) as part:
                return part.read(_CONTENT_TYPES_MAX)
    except Exception:  # a damaged, encrypted or oddly compressed part
        return None


def _check_text(shown: str, head: bytes, at_end: bool) -> None:
    """UTF-8 (a BOM allowed) with no NUL bytes, in the first 64 KB. A character cut at
    the 64 KB boundary is not an error: the incremental decoder waits for its end."""
    if head.startswith(_UTF16_BOMS):
        raise FileRefused(
            f'"{shown}" is not plain text in UTF-8, the only encoding accepted: it is UTF-16 '
            "text. Save it as UTF-8 and upload that."
        )
    looks_like = _looks_like(head, None)
    if b"\x00" in head:
        why = (
            f"its content is {looks_like}"
            if looks_like
            else "it contains NUL bytes, as binary files do"
        )
        raise FileRefused(f'"{shown}" is not plain text: {why}.')
    try:
        codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=at_end)
    except UnicodeDecodeError as error:
        # error.start counts from after the BOM, which the decoder has dropped.
        offset = len(head) - len(error.object) + error.start
        why = (
            f"its content is {looks_like}"
            if looks_like
            else f"it is not UTF-8 (byte 0x{head[offset]:02X} at offset {offset}); "
            "save it as UTF-8 text and upload that"
        )
        raise FileRefused(f'"{shown}" is not plain text: {why}.') from None
