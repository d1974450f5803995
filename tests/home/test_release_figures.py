"""A centre's figures in a release (release_centre_figures) follow its downloads and
windows as they happen: what the Audit Reports read. (tests/conftest.py checks after
every test that the kept figures equal those worked out afresh; these check what the
figures say.)"""

from sqlalchemy import select

from app.models import CentreFigures
from tests.home.test_centre_downloads import OPENS, SECOND, url


def figures_of(db, release, centre) -> CentreFigures:
    db.session.rollback()
    return db.session.scalars(
        select(CentreFigures).where(
            CentreFigures.release_id == release.id, CentreFigures.centre_id == centre.id
        )
    ).one_or_none()


def test_saving_a_release_gives_each_centre_its_window(db, released, london):
    kept = figures_of(db, released, london)
    assert (kept.opens_at, kept.resources, kept.downloads) == (OPENS, 1, 0)
    assert kept.first_download_at is None


def test_downloads_are_counted_and_the_first_is_kept(
    client, db, clock, released, paper, london, login_as
):
    officer = login_as("centre", centre=london)
    clock.set(OPENS - SECOND)
    assert client.get(url(paper)).status_code == 404  # refused: not counted
    clock.set(OPENS + SECOND)
    assert client.get(url(paper)).status_code == 200
    first = clock.now
    clock.set(OPENS + 60 * SECOND)
    etag = client.get(url(paper)).headers["ETag"]
    assert client.get(url(paper), headers={"If-None-Match": etag}).status_code == 304
    kept = figures_of(db, released, london)
    assert kept.downloads == 2  # two files sent; the 304 sent nothing
    assert (kept.first_download_at, kept.first_download_by) == (first, officer.email)


def test_a_download_during_a_window_change_is_still_counted(
    app, db, released, paper, london, make_user
):
    """Moving windows works the figures out again in place: a download another
    transaction records meanwhile (it waits for the row, then counts) is not lost."""
    import threading

    from app.models import User
    from app.services.releases import figures
    from app.services.resources.catalogue import record_download

    officer_id = make_user("centre", centre=london).id
    db.session.rollback()
    figures.refresh(released.id, [london.id])  # this transaction now holds the row
    done = threading.Event()

    def download_meanwhile():
        with app.app_context():
            from app.extensions import db as other
            from app.services.transactions import begin_write

            begin_write()  # as the download route does: the write lock first, waiting for it
            user = other.session.get(User, officer_id)
            file = other.session.get(type(paper.files[0]), paper.files[0].id)
            record_download(
                file, user, ip=None, user_agent=None, range_header=None, release_id=released.id
            )
            other.session.commit()
            done.set()

    worker = threading.Thread(target=download_meanwhile)
    worker.start()
    assert not done.wait(0.5)  # it waits for the refresh's transaction
    db.session.commit()
    worker.join(10)
    assert done.is_set()
    kept = figures_of(db, released, london)
    assert kept.downloads == 1
