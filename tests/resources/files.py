"""Small real files of each accepted type (and some that must be refused), for the
resource tests."""

import io
import zipfile


def pdf(text: str = "paper") -> bytes:
    body = f"1 0 obj << /Type /Catalog >> endobj % {text}\n"
    return b"%PDF-1.7\n" + body.encode() + b"trailer << /Root 1 0 R >>\n%%EOF\n"


def mp3(seed: bytes = b"") -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + seed * 10 + b"\x00" * 400


def wav() -> bytes:
    return b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100


def ooxml(main_part: str, *, macros: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(main_part, "<document/>")
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00\x01")
    return buffer.getvalue()


def windows_program() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
