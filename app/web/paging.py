"""Page numbers from the query string, for every paged list."""

MAX_PAGE = 100_000


def page_number(raw: str | None) -> int:
    """`?page=` as a page number from 1: anything else (text, 0, huge) reads as 1 or the cap."""
    try:
        return max(1, min(int(raw or "1"), MAX_PAGE))
    except ValueError:
        return 1
