"""The rows of a centre's Home, each rendered once and kept.

On release day thousands of centres refresh a Home listing the same resources with the
same windows: every centre of a zone sees the same row for a resource of a release.
Rendering 200 rows with Jinja costs several times the rest of the page, so each row is
kept, keyed by everything it shows (the resource's details and file, its state, the
window, the centre's zone, the "in 2 days 3 hours" text, read-only or not, the site's
root): a change to any of them is a different row, never a stale one.
"""

from datetime import datetime
from functools import lru_cache

from flask import current_app, request, url_for
from markupsafe import Markup

from app.services.releases.centre_home import OPENS, HomeItem, local_text, time_until, utc_text

ROWS_KEPT = 10_000  # about 1 KB each, per worker


class CentreRows:
    """`centre_rows(items)` for one page: the rows' HTML, each rendered or kept."""

    def __init__(self, zone_name: str, now: datetime, read_only: bool):
        self.zone_name, self.now, self.read_only = zone_name, now, read_only
        self.root = request.script_root

    def __call__(self, items: list[HomeItem]) -> Markup:
        now, zone_name, read_only, root = self.now, self.zone_name, self.read_only, self.root
        return Markup("").join(
            _row(
                item,
                zone_name,
                time_until(now, item.opens_at) if item.state == OPENS else "",
                read_only,
                root,
            )
            for item in items
        )


@lru_cache(maxsize=ROWS_KEPT)
def _row(item: HomeItem, zone_name: str, until: str, read_only: bool, root: str) -> Markup:
    template = current_app.jinja_env.get_template("home/_centre_row.html")
    # Flask's environment escapes .html templates: what render() returns is safe HTML.
    return Markup(  # noqa: S704
        template.render(
            item=item,
            until=until,
            read_only=read_only,
            time_element=TimeElements(zone_name),
            download_url=url_for("home.download", resource_id=item.resource_id),
        )
    )


class TimeElements:
    """`<time>` elements for one centre's instants: the local time in the centre's zone,
    UTC in the title."""

    def __init__(self, zone_name: str):
        self.zone_name = zone_name

    def __call__(self, instant: datetime) -> Markup:
        return Markup('<time datetime="{}" title="{}">{}</time>').format(
            f"{instant:%Y-%m-%dT%H:%M:%SZ}",
            utc_text(instant),
            local_text(instant, self.zone_name),
        )
