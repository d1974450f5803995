"""Text folding for search: pure, importing nothing of the app, so models may use it."""

import unicodedata


def search_key(*parts: str) -> str:
    """Text to match searches against: lower case, accents removed ("Peñalara" → "penalara")."""
    return fold(" ".join(part for part in parts if part))


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
