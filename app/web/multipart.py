"""A multipart/form-data parser for large files: few copies, big reads.

Werkzeug's parser copies each piece of a file part three times and reads 64 KiB
at a time; for a 200 MB resource that was most of the upload's time
(bench/resources.py). This one reads READ bytes at a time, finds the boundary
with bytes.find (memchr), and hands each file part's bytes to its stream in one
copy. It is used only by the views that stream files (app/web/uploads.py);
every other form keeps Werkzeug's parser.

What it accepts is RFC 7578 as browsers send it: a body of parts separated by
"--boundary" lines ending CRLF (transport padding of spaces and tabs allowed),
each part's headers ending in a blank line, the last boundary followed by "--".
A part with a `filename` parameter (even empty) is a file; any other is a text
field, which is limited to `max_field_bytes`. Anything else (a body that ends
early, a part without headers, headers over HEADERS_MAX) raises ValueError,
which Werkzeug's FormDataParser turns into an empty form: the CSRF check then
refuses the request.
"""

from collections.abc import Callable
from typing import IO, BinaryIO

from werkzeug.datastructures import FileStorage, Headers, MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header

READ = 1024 * 1024
HEADERS_MAX = 16 * 1024
PREAMBLE_MAX = 64 * 1024  # browsers send none
_PADDING = b" \t"


class _Body:
    """The request body with a look-ahead buffer."""

    def __init__(self, stream: BinaryIO, read_size: int) -> None:
        self.stream = stream
        self.read_size = read_size
        self.buffer = bytearray()
        self.ended = False

    def fill(self) -> bool:
        """Read more into the buffer; False at the end of the body."""
        if self.ended:
            return False
        chunk = self.stream.read(self.read_size)
        if not chunk:
            self.ended = True
            return False
        self.buffer += chunk
        return True

    def take(self, n: int) -> bytes:
        """The first n bytes of the buffer, removed from it."""
        with memoryview(self.buffer) as view:
            data = bytes(view[:n])
        del self.buffer[:n]
        return data

    def skip(self, n: int) -> None:
        del self.buffer[:n]

    def find(self, needle: bytes, limit: int | None = None) -> int:
        """Where `needle` is in the buffer, reading more until it is; -1 when the
        body ends, or when `limit` bytes are buffered without it."""
        start = 0
        while True:
            found = self.buffer.find(needle, start)
            if found >= 0:
                return found
            if limit is not None and len(self.buffer) > limit:
                return -1
            start = max(0, len(self.buffer) - len(needle) + 1)
            if not self.fill():
                return -1

    def ensure(self, n: int) -> bool:
        while len(self.buffer) < n:
            if not self.fill():
                return False
        return True


def parse(
    stream: BinaryIO,
    boundary: bytes,
    stream_factory: Callable[..., IO[bytes]],
    *,
    max_field_bytes: int,
    max_parts: int | None,
    read_size: int = READ,
) -> tuple[MultiDict, MultiDict]:
    """(form, files) of a multipart body, each file written to a stream from
    `stream_factory` (called as Werkzeug calls its stream factory)."""
    if not boundary or len(boundary) > 200:
        raise ValueError("bad boundary")
    body = _Body(stream, read_size)
    form: MultiDict = MultiDict()
    files: MultiDict = MultiDict()
    delimiter = b"\r\n--" + boundary

    # The preamble (normally empty), then the first boundary line.
    first = body.find(b"--" + boundary, limit=PREAMBLE_MAX)
    if first < 0 or (first > 0 and body.buffer[first - 2 : first] != b"\r\n"):
        raise ValueError("no first boundary")
    body.skip(first + 2 + len(boundary))
    parts = 0
    while True:
        if not body.ensure(2):
            raise ValueError("the body ended after a boundary")
        if body.buffer[:2] == b"--":
            return form, files  # the close delimiter; any epilogue is ignored
        _end_of_boundary_line(body)
        parts += 1
        if max_parts is not None and parts > max_parts:
            raise RequestEntityTooLarge()
        headers = _headers(body)
        disposition, options = parse_options_header(headers.get("Content-Disposition"))
        if disposition != "form-data" or "name" not in options:
            raise ValueError("a part that is not form data")
        name = options["name"]
        if "filename" in options:
            content_type = headers.get("Content-Type")
            target = stream_factory(
                total_content_length=None,
                content_type=content_type,
                filename=options["filename"],
                content_length=None,
            )
            _copy_part(body, delimiter, target.write, None)
            target.seek(0)
            files.add(
                name,
                FileStorage(target, options["filename"], name, content_type, headers=headers),
            )
        else:
            pieces: list[bytes] = []
            _copy_part(body, delimiter, pieces.append, max_field_bytes)
            form.add(name, b"".join(pieces).decode("utf-8", "replace"))


def _end_of_boundary_line(body: _Body) -> None:
    """Skip the padding and CRLF that end a boundary line."""
    end = body.find(b"\r\n", limit=1024)
    if end < 0 or body.buffer[:end].strip(_PADDING):
        raise ValueError("a boundary line that does not end in CRLF")
    body.skip(end + 2)


def _headers(body: _Body) -> Headers:
    end = body.find(b"\r\n\r\n", limit=HEADERS_MAX)
    if end < 0:
        raise ValueError("part headers too long or unfinished")
    block = body.take(end)
    body.skip(4)
    headers = Headers()
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError("a malformed part header")
        headers.add(name.strip(), value.strip(" \t"))
    return headers


def _copy_part(body: _Body, delimiter: bytes, write: Callable, limit: int | None) -> None:
    """Pass the part's bytes to `write` up to the next delimiter, and leave what
    follows the delimiter in the buffer; at most `limit` bytes in all
    (RequestEntityTooLarge beyond).

    Each read is searched where it lies and passed on as a memoryview of it (the
    bytes read are never changed, so a writer may keep the view): no copy.
    """
    bare = delimiter[2:]
    body.ensure(len(bare))
    if body.buffer.startswith(bare):
        # An empty part whose delimiter lacks its CRLF (Werkzeug's test client sends that).
        body.skip(len(bare))
        return
    written = 0

    def emit(data) -> None:
        nonlocal written
        written += len(data)
        if limit is not None and written > limit:
            raise RequestEntityTooLarge()
        if len(data):
            write(data)

    keep = len(delimiter) - 1
    pending = bytes(body.buffer)  # what was read with the part's headers
    body.buffer.clear()
    tail = b""  # the end of the previous read: perhaps the start of a delimiter
    while True:
        if tail and len(pending) < keep:
            # Too little read to tell whether `tail` starts a delimiter: search both.
            pending, tail = tail + pending, b""
        if tail:
            # A delimiter begun in `tail` ends in the first bytes of `pending`.
            joint = tail + pending[:keep]
            found = joint.find(delimiter)
            if found >= 0 and found < len(tail):
                emit(joint[:found])
                rest = joint[found + len(delimiter) :] + pending[keep:]
                body.buffer = bytearray(rest)
                return
            emit(tail)
            tail = b""
        found = pending.find(delimiter)
        view = memoryview(pending)
        if found >= 0:
            emit(view[:found])
            body.buffer = bytearray(view[found + len(delimiter) :])
            return
        # Only a "\r" among the last bytes can start a delimiter the next read ends.
        cut = pending.find(b"\r", max(0, len(pending) - keep))
        if cut < 0:
            emit(view)
        else:
            emit(view[:cut])
            tail = pending[cut:]
        pending = body.stream.read(body.read_size)
        if not pending:
            raise ValueError("the body ended inside a part")
