"""URL checks that involve no request object, and the converter for ids in routes."""

from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

# The largest id any of our tables holds (PostgreSQL's integer; SQLite's is larger).
MAX_ID = 2**31 - 1


class DatabaseIdConverter(IntegerConverter):
    """<int:...> bounded to what an id column can hold: a larger number in an address
    is a page that does not exist (404), not a database error."""

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def safe_next_path(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, else None.

    Refuses absolute URLs, scheme-relative `//host`, backslash tricks browsers
    read as `//`, and control characters: only a plain same-site path is kept.
    """
    if not target or len(target) > 2000:
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
