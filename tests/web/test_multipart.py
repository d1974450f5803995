"""app.web.multipart: the parser of streamed uploads reads what Werkzeug's reads,
however the body arrives in pieces."""

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import MultiPartParser

from app.web import multipart

BOUNDARY = b"----portal-test-boundary-7f3a"


def body_of(parts: list[tuple[str, str | None, bytes]]) -> bytes:
    """A multipart body as browsers send it: (name, filename or None, content)."""
    out = b""
    for name, filename, content in parts:
        out += b"--" + BOUNDARY + b"\r\n"
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += f"Content-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            out += b"Content-Type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    return out + b"--" + BOUNDARY + b"--\r\n"


class Trickle(io.RawIOBase):
    """A stream that returns at most `step` bytes per read, like a slow network."""

    def __init__(self, data: bytes, steps: list[int]):
        self.data, self.steps, self.position = data, steps or [1], 0

    def read(self, size=-1):
        step = self.steps[self.position % len(self.steps)] if self.steps else size
        n = min(size if size and size > 0 else len(self.data), max(1, step))
        chunk = self.data[self.position : self.position + n]
        self.position += len(chunk)
        return chunk


def ours(body: bytes, steps=(), read_size=1024 * 1024, **limits):
    stream = Trickle(body, list(steps)) if steps else io.BytesIO(body)
    return multipart.parse(
        stream,
        BOUNDARY,
        lambda **_: io.BytesIO(),
        max_field_bytes=limits.get("max_field_bytes", 10_000),
        max_parts=limits.get("max_parts", 100),
        read_size=read_size,
    )


def werkzeugs(body: bytes):
    parser = MultiPartParser(stream_factory=lambda **_: io.BytesIO(), max_form_memory_size=10_000)
    return parser.parse(io.BytesIO(body), BOUNDARY, len(body))


def as_plain(form, files):
    return (
        sorted(form.items(multi=True)),
        sorted((k, f.filename, f.read()) for k, f in files.items(multi=True)),
    )


# Content that looks like the delimiter, or part of it, is the hard case.
tricky = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.sampled_from(
            [b"\r", b"\n", b"\r\n", b"--", BOUNDARY[:5], b"\r\n--" + BOUNDARY[:-1], b"x"]
        ),
        max_size=20,
    ).map(b"".join),
)
part = st.tuples(
    st.sampled_from(["csrf_token", "files", "version"]),
    st.one_of(st.none(), st.sampled_from(["a.pdf", "", "paper one.pdf"])),
    tricky,
)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(part, min_size=1, max_size=5),
    steps=st.lists(st.integers(1, 97), max_size=5),
    read_size=st.sampled_from([7, 64, 1024 * 1024]),
)
def test_it_reads_what_werkzeug_reads_in_any_pieces(parts, steps, read_size):
    # Text fields are text: Werkzeug and we both decode them as UTF-8.
    parts = [
        (
            name,
            filename,
            content if filename is not None else content.decode("ascii", "ignore").encode(),
        )
        for name, filename, content in parts
    ]
    body = body_of(parts)
    assert as_plain(*ours(body, steps, read_size)) == as_plain(*werkzeugs(body))


def test_a_large_file_arrives_whole_and_in_order():
    content = bytes(range(256)) * 20_000 + b"\r\n--" + BOUNDARY[:-1] + b"end"
    form, files = ours(
        body_of([("csrf_token", None, b"t"), ("files", "big.bin", content)]), read_size=4096
    )
    assert form["csrf_token"] == "t"
    assert files["files"].read() == content


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"no boundary at all",
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="a"\r\n\r\nunfinished',
        b"--" + BOUNDARY + b"\r\nno-colon-header\r\n\r\nx\r\n--" + BOUNDARY + b"--\r\n",
        b"--"
        + BOUNDARY
        + b"\r\nContent-Disposition: attachment\r\n\r\nx\r\n--"
        + BOUNDARY
        + b"--\r\n",
        b"--" + BOUNDARY + b"garbage\r\n",
    ],
)
def test_malformed_bodies_are_refused(body):
    with pytest.raises(ValueError):
        ours(body)


def test_text_fields_and_parts_are_limited():
    with pytest.raises(RequestEntityTooLarge):
        ours(body_of([("csrf_token", None, b"x" * 101)]), max_field_bytes=100)
    with pytest.raises(RequestEntityTooLarge):
        ours(body_of([("a", None, b"1")] * 3), max_parts=2)
    # A file is not a text field: no such limit.
    form, files = ours(body_of([("files", "a.pdf", b"x" * 1000)]), max_field_bytes=100)
    assert len(files["files"].read()) == 1000
