"""Allowed file types, told by extension AND content, from real minimal files."""

import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.errors import DomainError
from app.services.resources import filetypes
from app.services.resources.filetypes import (
    ALLOWED,
    ALLOWED_LABELS,
    HELP_DOCUMENT_TYPES,
    FileRefused,
    describe,
    extension_of,
    identify,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 400
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 400  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz
WAV = (
    b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
    b"\x44\xac\x00\x00\x88\x58\x01\x00\x02\x00\x10\x00data\x00\x00\x00\x00"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 100
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)
MAIN_PARTS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}


def m4a(brand: bytes = b"M4A ") -> bytes:
    box = b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"isom"
    return (len(box) + 4).to_bytes(4, "big") + box


def zip_bytes(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def office(kind: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal OOXML package: [Content_Types].xml (first), the rels, the main part."""
    parts = {"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": b"<Relationships/>"}
    parts[MAIN_PARTS[kind]] = b"<document/>"
    return zip_bytes(parts | (extra or {}))


@pytest.fixture
def upload(tmp_path):
    """Write `content` as a file and identify it under `name`."""

    def upload(name: str, content: bytes, allowed=None) -> str:
        path = tmp_path / "upload.bin"  # the stored name never matters, only `name`
        path.write_bytes(content)
        return identify(name, path, allowed)

    return upload


def refusal(upload, name: str, content: bytes, allowed=None) -> str:
    """The message refusing the file, which names it first."""
    with pytest.raises(FileRefused) as error:
        upload(name, content, allowed)
    message = str(error.value)
    assert message.startswith(f'"{name}" ')
    return message


# --- accepted --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        ("0580_s26_qp_22.pdf", PDF, "application/pdf"),
        ("PAPER.PDF", PDF, "application/pdf"),
        ("junk-first.pdf", b"\x00" * 1019 + PDF, "application/pdf"),  # %PDF- at byte 1019
        ("junk-first.pdf", b" " * 1023 + PDF, "application/pdf"),  # %PDF- at byte 1023
        ("listening.mp3", MP3_ID3, "audio/mpeg"),
        ("listening.mp3", MP3_FRAME, "audio/mpeg"),
        ("listening.wav", WAV, "audio/wav"),
        ("listening.m4a", m4a(b"M4A "), "audio/mp4"),
        ("listening.m4a", m4a(b"mp42"), "audio/mp4"),
        ("listening.m4a", m4a(b"isom"), "audio/mp4"),
        ("source.zip", zip_bytes({"data/a.csv": b"a,b\n1,2\n"}), "application/zip"),
        ("empty.zip", zip_bytes({}), "application/zip"),
        ("instructions.docx", office("docx"), DOCX),
        ("marks.xlsx", office("xlsx"), XLSX),
        ("slides.pptx", office("pptx"), PPTX),
        ("notes.txt", "Notes for invigilators – “quiet please” ✓\n".encode(), "text/plain"),
        ("bom.txt", b"\xef\xbb\xbfWith a byte order mark\n", "text/plain"),
        ("one.txt", b"x", "text/plain"),
    ],
)
def test_files_whose_content_matches_their_extension_are_accepted(
    upload, name, content, media_type
):
    assert upload(name, content) == media_type


def test_a_docx_whose_parts_are_in_another_case_is_still_a_docx(upload):
    content = zip_bytes({"[content_types].XML": CONTENT_TYPES, "Word/Document.xml": b"<d/>"})
    assert upload("odd.docx", content) == DOCX


def test_a_zip_may_hold_office_files_and_anything_else(upload):
    content = zip_bytes({"a.docx": office("docx"), "b.xlsm": b"...", "vbaProject.bin": b"x"})
    assert upload("bundle.zip", content) == "application/zip"


# --- names: extensions -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["paper", "paper.", "archive.d/paper"])
def test_a_file_without_an_extension_is_refused(upload, name):
    message = refusal(upload, name, PDF)
    assert message == (
        f'"{name}" has no extension, so its type cannot be told: upload a '
        f"{ALLOWED_LABELS} file with its extension."
    )


@pytest.mark.parametrize("name", ["setup.exe", "paper.doc", "image.png", "paper.pdf.exe", "a.js"])
def test_extensions_not_allowed_are_refused_with_the_list(upload, name):
    message = refusal(upload, name, PDF)
    ext = name[name.rindex(".") :]
    assert message == (
        f'"{name}" cannot be uploaded: {ext} files are not accepted. Upload a '
        "PDF, MP3, WAV, M4A, ZIP, DOCX, XLSX, PPTX or TXT file."
    )


@pytest.mark.parametrize(
    ("ext", "instead"),
    [
        (".docm", ".docx"),
        (".dotm", ".docx"),
        (".xlsm", ".xlsx"),
        (".xltm", ".xlsx"),
        (".xlsb", ".xlsx"),
        (".pptm", ".pptx"),
        (".potm", ".pptx"),
        (".DOCM", ".docx"),
    ],
)
def test_macro_enabled_office_extensions_get_their_own_reason(upload, ext, instead):
    message = refusal(upload, f"marks{ext}", office("docx"))
    assert f"is a macro-enabled Office file ({ext.lower()})" in message
    assert "macro-enabled Office files are not accepted" in message
    assert message.endswith(f"save it as {instead} and upload that.")


def test_help_documents_may_be_pdfs_only(upload):
    assert upload("guide.pdf", PDF, HELP_DOCUMENT_TYPES) == "application/pdf"
    assert upload("guide.pdf", PDF, ["PDF"]) == "application/pdf"
    message = refusal(upload, "guide.docx", office("docx"), HELP_DOCUMENT_TYPES)
    assert (
        message
        == '"guide.docx" cannot be uploaded: .docx files are not accepted. Upload a PDF file.'
    )
    # No advice to save as .docx where .docx is not accepted either.
    message = refusal(upload, "guide.docm", office("docx"), HELP_DOCUMENT_TYPES)
    assert message.endswith(".docm files are not accepted. Upload a PDF file.")


def test_a_restricted_list_names_only_what_it_allows(upload):
    message = refusal(upload, "x.pdf", PDF, {".mp3", ".wav"})
    assert message.endswith("Upload an MP3 or WAV file.")
    assert refusal(upload, "x", PDF, [".xlsx", ".txt"]).endswith(
        "upload an XLSX or TXT file with its extension."
    )
    assert refusal(upload, "x", PDF, [".zip"]).endswith("upload a ZIP file with its extension.")


@pytest.mark.parametrize("allowed", [[".exe"], ["pdf", ".docm"], []])
def test_allowing_an_unknown_type_is_a_programming_error(upload, allowed):
    with pytest.raises(ValueError, match="allowed must be some of") as error:
        upload("x.pdf", PDF, allowed)
    assert not isinstance(error.value, FileRefused)


# --- content ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["paper.pdf", "audio.mp3", "notes.txt", "a.docx", "a.zip"])
def test_an_empty_file_is_refused(upload, name):
    message = refusal(upload, name, b"")
    assert message == (
        f'"{name}" is empty (0 bytes): it may not have finished saving or downloading. '
        "Choose the file again."
    )


@pytest.mark.parametrize(
    ("name", "content", "program", "noun"),
    [
        ("paper.pdf", EXE, "Windows executable", "a PDF"),
        ("audio.mp3", ELF, "Linux executable", "an MP3 audio file"),
        ("a.m4a", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + b"\x00" * 64, "Mac executable", "an M4A"),
        ("a.wav", b"\xfe\xed\xfa\xce" + b"\x00" * 64, "Mac executable", "a WAV audio file"),
        ("a.wav", b"\xce\xfa\xed\xfe" + b"\x00" * 64, "Mac executable", "a WAV audio file"),
        ("a.wav", b"\xfe\xed\xfa\xcf" + b"\x00" * 64, "Mac executable", "a WAV audio file"),
        ("a.zip", b"\xca\xfe\xba\xbe" + b"\x00" * 64, "Mac executable", "a ZIP archive"),
        ("notes.txt", b"#!/bin/sh\nrm -rf ~\n", "script", "a plain text file"),
        ("a.docx", EXE + office("docx"), "Windows executable", "a Word document"),
    ],
)
def test_programs_are_refused_whatever_they_are_called(upload, name, content, program, noun):
    message = refusal(upload, name, content)
    assert message.startswith(f'"{name}" is a program ({program}), not {noun}')
    assert message.endswith(": it was refused.")


def test_a_windows_program_renamed_pdf_is_named_as_one(upload):
    assert refusal(upload, "0580_s26_qp_22.pdf", EXE) == (
        '"0580_s26_qp_22.pdf" is a program (Windows executable), not a PDF: it was refused.'
    )


def test_a_self_extracting_archive_is_a_program_not_a_zip(upload):
    content = EXE + zip_bytes({"a.txt": b"x"})
    assert zipfile.is_zipfile(io.BytesIO(content))
    assert "is a program (Windows executable), not a ZIP archive" in refusal(
        upload, "a.zip", content
    )


@pytest.mark.parametrize(
    ("name", "content", "looks_like"),
    [
        ("paper.pdf", zip_bytes({"a.txt": b"x"}), "its content is a ZIP archive"),
        ("paper.pdf", office("docx"), "its content is a Word document"),
        ("paper.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "its content is a PNG image"),
        ("paper.pdf", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "its content is a JPEG image"),
        (
            "paper.pdf",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32,
            "its content is an older Office file (.doc, .xls or .ppt) or a password-protected one",
        ),
        ("paper.pdf", b"<!DOCTYPE html><html></html>", "its content is a web page (HTML)"),
        ("paper.pdf", b" " * 1024 + PDF, "it may be damaged, or another kind of file renamed"),
        ("paper.pdf", b"Just some text", "it may be damaged, or another kind of file renamed"),
        ("audio.mp3", WAV, "its content is WAV audio"),
        ("audio.mp3", PDF, "its content is a PDF"),
        ("audio.mp3", b"\xff\xf3\xf0\x00", "it may be damaged"),  # bit rate 1111 is reserved
        ("audio.mp3", b"\xff\xeb\x90\x00", "it may be damaged"),  # MPEG version 01 is reserved
        ("audio.mp3", b"\xff\xf9\x90\x00", "it may be damaged"),  # layer 00 is reserved
        ("audio.mp3", b"\xff\xfb\x9c\x00", "it may be damaged"),  # sample rate 11 is reserved
        ("audio.wav", MP3_ID3, "its content is MP3 audio"),
        ("audio.wav", b"RIFF\x24\x00\x00\x00AVI LIST", "it may be damaged"),
        ("audio.m4a", m4a(b"qt  "), "its content is an MP4 or QuickTime media file"),
        ("audio.m4a", MP3_FRAME, "its content is MP3 audio"),
        ("audio.m4a", b"Rar!\x1a\x07\x00", "its content is a RAR archive"),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(upload, name, content, looks_like):
    message = refusal(upload, name, content)
    noun = ALLOWED[name[name.rindex(".") :]].noun
    assert message.startswith(f'"{name}" does not look like {noun}: ')
    assert looks_like in message


@pytest.mark.parametrize(
    ("name", "content", "looks_like"),
    [
        ("a.zip", PDF, "its content is a PDF"),
        ("a.zip", b"7z\xbc\xaf\x27\x1c\x00\x04", "its content is a 7-Zip archive"),
        ("a.zip", b"\x1f\x8b\x08\x00", "its content is a gzip archive"),
        ("a.docx", PDF, "its content is a PDF"),
        ("a.docx", zip_bytes({"a.txt": b"x"}), "a ZIP archive without the parts of a Word"),
        ("a.docx", zip_bytes({"word/document.xml": b"<d/>"}), "without the parts of a Word"),
        ("a.docx", zip_bytes({"[Content_Types].xml": CONTENT_TYPES}), "without the parts"),
        ("a.docx", office("xlsx"), "its content is an Excel workbook"),
        ("a.xlsx", office("pptx"), "its content is a PowerPoint presentation"),
        ("a.pptx", office("docx"), "its content is a Word document"),
        ("a.xlsx", b"a,b\n1,2\n", "it may be damaged"),
        ("a.docx", b"  " + office("docx"), "it may be damaged"),  # a zip must start the file
    ],
)
def test_zip_based_files_must_be_zips_with_their_parts(upload, name, content, looks_like):
    message = refusal(upload, name, content)
    noun = ALLOWED[name[name.rindex(".") :]].noun
    assert message.startswith(f'"{name}" does not look like {noun}: ')
    assert looks_like in message


def test_a_zip_renamed_docx_is_a_mismatch(upload):
    assert refusal(upload, "0580_s26_ci_22.docx", zip_bytes({"data.csv": b"1,2"})) == (
        '"0580_s26_ci_22.docx" does not look like a Word document: its content is a ZIP '
        "archive without the parts of a Word document."
    )


def corrupt(content: bytes) -> bytes:
    """The archive with its central directory overwritten."""
    start = content.rindex(b"PK\x01\x02")
    return content[:start] + b"\xaa" * (len(content) - start)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("a.zip", corrupt(zip_bytes({"a.txt": b"hello"}))),
        ("a.zip", zip_bytes({"a.txt": b"hello" * 100})[:60]),  # cut short
        ("a.docx", corrupt(office("docx"))),
        ("a.xlsx", office("xlsx")[:-10]),
        ("a.pptx", b"PK\x03\x04" + b"\x00" * 100),
    ],
)
def test_a_damaged_zip_is_refused_as_a_mismatch(upload, name, content):
    message = refusal(upload, name, content)
    noun = ALLOWED[name[name.rindex(".") :]].noun
    assert message == (
        f'"{name}" does not look like {noun}: it is a damaged or incomplete ZIP archive '
        "(its list of contents cannot be read)."
    )


def test_an_unreadable_content_types_part_is_refused(upload):
    content = bytearray(office("docx"))
    # Mark [Content_Types].xml as compressed by an unknown method in its local header
    # (offset 8): the central directory still reads, the part does not.
    assert content[:4] == b"PK\x03\x04"
    content[8:10] = (99).to_bytes(2, "little")
    start = content.index(b"PK\x01\x02")
    content[start + 10 : start + 12] = (99).to_bytes(2, "little")
    message = refusal(upload, "a.docx", bytes(content))
    assert "its [Content_Types].xml part cannot be read" in message


@pytest.mark.parametrize("folder", ["word/", "", "xl/", "customXml/"])
def test_office_files_with_a_vba_project_are_refused(upload, folder):
    content = office("docx", {f"{folder}vbaProject.bin": b"\xd0\xcf\x11\xe0"})
    message = refusal(upload, "0580_s26_ci_22.docx", content)
    assert message == (
        f'"0580_s26_ci_22.docx" contains macros (its {folder}vbaProject.bin part), which run '
        "code on the computer that opens it, so it was refused: save it again as .docx "
        "without macros."
    )


def test_a_vba_project_in_any_case_is_found(upload):
    message = refusal(upload, "m.xlsx", office("xlsx", {"xl/VBAPROJECT.BIN": b""}))
    assert "contains macros (its xl/VBAPROJECT.BIN part)" in message


def test_office_files_declared_macro_enabled_are_refused(upload):
    types = CONTENT_TYPES.replace(
        b"</Types>",
        b'<Override PartName="/xl/workbook.xml" ContentType="application/'
        b'vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>',
    )
    content = zip_bytes({"[Content_Types].xml": types, "xl/workbook.xml": b"<w/>"})
    message = refusal(upload, "marks.xlsx", content)
    assert message == (
        '"marks.xlsx" contains macros (its [Content_Types].xml declares it macro-enabled), '
        "which run code on the computer that opens it, so it was refused: save it again as "
        ".xlsx without macros."
    )


def test_no_more_of_content_types_is_inflated_than_the_limit(upload, monkeypatch):
    """A part that inflates hugely (a zip bomb) is read only up to _CONTENT_TYPES_MAX:
    here the macroEnabled mention lies past it, so it is not seen."""
    monkeypatch.setattr(filetypes, "_CONTENT_TYPES_MAX", 1000)
    padding = b" " * 5000  # compresses to almost nothing
    types = CONTENT_TYPES.replace(b"</Types>", padding + b"macroEnabled</Types>")
    content = zip_bytes({"[Content_Types].xml": types, "ppt/presentation.xml": b"<p/>"})
    assert len(content) < 1000
    assert upload("slides.pptx", content) == PPTX
    monkeypatch.setattr(filetypes, "_CONTENT_TYPES_MAX", 6000)
    assert "declares it macro-enabled" in refusal(upload, "slides.pptx", content)


# --- plain text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"caf\xe9\n", "it is not UTF-8 (byte 0xE9 at offset 3); save it as UTF-8 text"),
        (b"\xef\xbb\xbfab\xff", "it is not UTF-8 (byte 0xFF at offset 5)"),  # counted with BOM
        (b"ends mid-character \xe2\x82", "it is not UTF-8 (byte 0xE2 at offset 19)"),
        (b"two\x00parts", "it contains NUL bytes, as binary files do"),
        (b"\x00" * 10, "it contains NUL bytes, as binary files do"),
        (PDF + b"\xe2\xe2\xe2\xe2", "its content is a PDF"),
        (zip_bytes({"a.txt": b"x"}), "its content is a ZIP archive"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "its content is a PNG image"),
    ],
)
def test_text_must_be_utf8_without_nul_bytes(upload, content, why):
    message = refusal(upload, "notes.txt", content)
    assert message.startswith('"notes.txt" is not plain text: ')
    assert why in message


@pytest.mark.parametrize("bom", [b"\xff\xfe", b"\xfe\xff"])
def test_utf16_text_is_asked_for_as_utf8(upload, bom):
    content = bom + "notes".encode("utf-16-le" if bom == b"\xff\xfe" else "utf-16-be")
    message = refusal(upload, "notes.txt", content)
    assert message == (
        '"notes.txt" is not plain text in UTF-8, the only encoding accepted: it is UTF-16 '
        "text. Save it as UTF-8 and upload that."
    )
    # Renamed to something else, it is still said to be text, not MP3 audio.
    assert "its content is UTF-16 text" in refusal(upload, "notes.pdf", content)


def test_a_character_straddling_the_64kb_boundary_is_accepted(upload):
    euro = "€".encode()  # three bytes
    content = b"a" * (filetypes.TEXT_SIZE - 1) + euro + b"after\n"
    assert content[: filetypes.TEXT_SIZE].endswith(euro[:1])
    assert upload("long.txt", content) == "text/plain"


def test_only_the_first_64kb_of_text_are_checked(upload):
    content = b"a" * filetypes.TEXT_SIZE + b"\xff\x00 binary afterwards"
    assert upload("long.txt", content) == "text/plain"


def test_a_character_cut_at_the_end_of_the_file_is_not_text(upload):
    content = b"a" * (filetypes.TEXT_SIZE - 1) + "€".encode()[:1]
    message = refusal(upload, "cut.txt", content)
    assert f"it is not UTF-8 (byte 0xE2 at offset {filetypes.TEXT_SIZE - 1})" in message


# --- names in messages -----------------------------------------------------------------


def test_messages_show_a_name_without_its_control_characters(upload):
    with pytest.raises(FileRefused) as error:
        upload("evil\x1b[2J.exe", PDF)
    message = str(error.value)
    assert message.startswith('"evil\ufffd[2J.exe" cannot be uploaded')
    assert "\x1b" not in message


def test_messages_cut_a_long_name(upload):
    with pytest.raises(FileRefused) as error:
        upload("n" * 300 + ".pdf", EXE)
    message = str(error.value)
    assert message.startswith('"' + "n" * 79 + '…" is a program')


def test_only_the_last_part_of_a_name_gives_the_extension():
    assert extension_of("a.pdf/b") == ""
    assert extension_of("a.zip\\B.PDF") == ".pdf"
    assert extension_of("archive.tar.gz") == ".gz"
    assert extension_of(".txt") == ".txt"


# --- labels ----------------------------------------------------------------------------


def test_labels_for_the_allowed_types():
    assert ALLOWED_LABELS == "PDF, MP3, WAV, M4A, ZIP, DOCX, XLSX, PPTX or TXT"
    assert describe("application/pdf") == "PDF"
    assert describe(DOCX) == "Word document"
    assert describe(XLSX) == "Excel workbook"
    assert describe(PPTX) == "PowerPoint presentation"
    assert describe("text/plain") == "Text"
    assert describe("audio/mp4") == "M4A"
    assert describe("image/png") == "image/png"
    assert {ext: kind.media_type for ext, kind in ALLOWED.items()} == {
        ".pdf": "application/pdf",
        ".mp3": "audio/mpeg",
        ".wav": "audio/wav",
        ".m4a": "audio/mp4",
        ".zip": "application/zip",
        ".docx": DOCX,
        ".xlsx": XLSX,
        ".pptx": PPTX,
        ".txt": "text/plain",
    }


def test_refusals_are_domain_errors():
    assert issubclass(FileRefused, DomainError)


# --- properties ------------------------------------------------------------------------


def identify_bytes(name: str, content: bytes) -> str | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.bin"
        path.write_bytes(content)
        try:
            return identify(name, path)
        except FileRefused as error:
            assert str(error).startswith('"')  # names the file
            return None


@settings(max_examples=200, deadline=None)
@given(ext=st.sampled_from(sorted(ALLOWED)), content=st.binary(max_size=2048))
def test_any_content_is_identified_or_refused_never_an_error(ext, content):
    result = identify_bytes(f"file{ext}", content)
    assert result in (None, ALLOWED[ext].media_type)


SAMPLES = {".docx": office("docx"), ".zip": zip_bytes({"a.txt": b"hello" * 20})}


@settings(max_examples=300, deadline=None)
@given(
    ext=st.sampled_from(sorted(SAMPLES)),
    position=st.integers(min_value=0),
    byte=st.integers(0, 255),
    cut=st.booleans(),
)
def test_a_mangled_zip_is_identified_or_refused_never_an_error(ext, position, byte, cut):
    content = bytearray(SAMPLES[ext])
    position %= len(content)
    if cut:
        content = content[:position]
    else:
        content[position] = byte
    result = identify_bytes(f"file{ext}", bytes(content))
    assert result in (None, ALLOWED[ext].media_type)
