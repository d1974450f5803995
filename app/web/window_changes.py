"""Telling the admin when a change moved release windows, whatever page made it.

Key times, the timetable and a centre's zone are edited on several pages; each
save follows up in services/timetable/followups.py, which counts the windows it
moved and the open ones it left for a decision. After the request, that count
becomes one message on the admin's next page.
"""

from flask import Flask, flash

from app.services.timetable import followups


def tell_about_moved_windows(app: Flask) -> None:
    @app.before_request
    def start_counting() -> None:
        followups.collect_window_changes()

    @app.after_request
    def tell(response):
        changes = followups.window_changes()
        if changes is None or response.status_code >= 400:
            return response
        parts = []
        if changes.moved:
            parts.append(
                f"{changes.moved:,} release window{'' if changes.moved == 1 else 's'} not yet "
                "open moved with this change."
            )
        for pairs, what in (
            (changes.added, "given a release's resources for new entries"),
            (changes.removed, "lost a release's resources with withdrawn entries"),
        ):
            if pairs:
                parts.append(f"{_centres(pairs)} {what} (windows not yet open).")
        if changes.late:
            parts.append(
                f"{_centres(changes.late)} entered after the window opened: not let in. Add "
                "them on the release's page (Add centres) if they should have the resources now."
            )
        if changes.open_changed:
            count = len(changes.open_changed)
            parts.append(
                f"{count:,} window{'' if count == 1 else 's'} already open would move too, and "
                f"{'was' if count == 1 else 'were'} left as "
                f"{'it was' if count == 1 else 'they were'} for you to decide: see Releases → "
                "Windows to Decide."
            )
        flash(" ".join(parts), "info")
        return response


def _centres(pairs: set[tuple[int, int]]) -> str:
    """ "3 centres" of (release, centre) pairs: a centre in two releases is counted twice."""
    return f"{len(pairs):,} centre{'' if len(pairs) == 1 else 's'}"
