"""URL checks that involve no request object."""

from urllib.parse import urlsplit


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
