"""Text rules every layer shares: search folding and control characters. Pure,
importing nothing of the app, so models may use it."""

import unicodedata


def search_key(*parts: str) -> str:
    """Text to match searches against: lower case, accents removed ("Peñalara" → "penalara")."""
    return fold(" ".join(part for part in parts if part))


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Tab, line feed and carriage return are part of ordinary multi-line text.
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def control_character_in(text: str) -> str | None:
    """The first control character in `text` (C0, DEL, C1, NUL above all, which
    PostgreSQL cannot store), named as "U+0000" for a message, or None."""
    for ch in text:
        if ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc":
            return f"U+{ord(ch):04X}"
    return None


def control_character_message(label: str, code: str) -> str:
    return (
        f"{label} contains an invisible control character ({code}), which is not allowed: "
        "retype it rather than pasting it."
    )
