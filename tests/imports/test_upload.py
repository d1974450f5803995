"""The centres upload through the web: report, issue actions, PINs file, history, bad files."""

import io
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from app.models import Centre, Event, ImportRun, User
from app.services.centres.upload.reader import read_centres
from tests.conftest import csrf_token_of
from tests.imports.files import openpyxl_file, row, xlsxwriter_file

HTMX = {"HX-Request": "true"}


def upload(client, content, name="centres.xlsx", headers=None):
    return client.post(
        "/admin/centres/upload",
        data={"file": (io.BytesIO(content), name), "csrf_token": csrf_token_of(client, "/")},
        content_type="multipart/form-data",
        headers=headers,
    )


def report_page(client, response):
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return client.get(response.headers["Location"]).get_data(as_text=True)


def confirm(client, response, headers=None):
    """Press Confirm on the preview `response` shows."""
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Check the upload before it is applied" in page, page
    action = re.search(r'<form method="post" action="([^"]+/waiting/[^"]+)"', page).group(1)
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', page).group(1)
    return client.post(
        action,
        data={"plan": plan, "csrf_token": csrf_token_of(client, "/")},
        headers=headers,
    )


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_upload_page(client, login_as):
    login_as("admin")
    page = client.get("/admin/centres/upload").get_data(as_text=True)
    assert "<h1>Upload centres from excel file</h1>" in page
    assert (
        "Upload a valid centres file. New centres will be added with their name and location "
        "details, existing ones will have their names updated only."
    ) in page
    assert 'href="/admin/centres/upload/sample.xlsx" download>sample</a>' in page
    assert "No centres file has been uploaded yet." in page
    assert 'href="/admin/centres/upload"' in client.get("/admin/centres").get_data(as_text=True)


def test_the_sample_is_a_valid_file(client, login_as):
    login_as("admin")
    response = client.get("/admin/centres/upload/sample.xlsx")
    assert response.headers["Content-Disposition"] == 'attachment; filename="centres-sample.xlsx"'
    result = read_centres(response.data)
    assert result.problems == [] and len(result.rows) == 5


def test_upload_creates_centres_and_users_and_reports(client, login_as, db):
    admin = login_as("admin")
    content = client.get("/admin/centres/upload/sample.xlsx").data
    page = report_page(client, upload(client, content, "board-centres.xlsx"))
    assert "<h1>Success</h1>" in page
    assert "Your excel file was uploaded successfully" in page
    assert "download new user pins</a>)" in page
    assert "Processed 5 row(s) in " in page
    assert "Created 4 centre(s) and 4 user(s) (0 replaced)." in page
    assert count(db, Centre) == 4
    assert count(db, User, User.role == "centre") == 4
    india = db.session.scalar(select(Centre).where(Centre.number == "IN3001"))
    assert india.timezone == "Asia/Kolkata" and india.search_key.startswith("in3001 delhi")
    run = db.session.scalar(select(ImportRun))
    assert (run.status, run.file_name, run.rows, run.actor_id) == (
        "applied",
        "board-centres.xlsx",
        5,
        admin.id,
    )
    event = db.session.scalar(select(Event).where(Event.action == "centres.imported"))
    assert event.details["created_centres"] == 4 and event.subject_id == run.id


def test_the_same_file_twice_changes_nothing(client, login_as, db):
    login_as("admin")
    content = client.get("/admin/centres/upload/sample.xlsx").data
    report_page(client, upload(client, content))
    before = db.session.execute(select(User.email, User.pin).order_by(User.email)).all()
    page = report_page(client, upload(client, content))
    assert "Created 0 centre(s) and 0 user(s) (0 replaced)." in page
    assert db.session.execute(select(User.email, User.pin).order_by(User.email)).all() == before


def test_renames_replacements_differences_and_deleted_centres(
    client, login_as, make_centre, make_user, db, clock
):
    login_as("admin")
    hillside = make_centre(number="GB101", name="Old Hillside", town="Leeds")
    make_user("centre", centre=hillside, email="waiting@hillside.example", activated=False)
    closed = make_centre(number="GB199", name="Closed College", deleted_at=clock.now)
    content = openpyxl_file(
        [row(), row(number="GB199", name="Closed College", email="new@closed.example")]
    )
    page = report_page(client, confirm(client, upload(client, content)))
    assert "Created 0 centre(s) and 1 user(s) (1 replaced)." in page
    assert "Removed 1 user(s) who had never activated" in page
    assert "GB101: “Old Hillside” is now “Hillside Academy”" in page
    assert "waiting@hillside.example (GB101)" in page
    assert "<td>GB101</td><td>Town</td><td>Leeds</td><td>London</td>" in page
    assert f'<a href="/admin/centres/{closed.id}">GB199 - Closed College</a>' in page
    assert db.session.get(Centre, hillside.id).town == "Leeds"  # location not applied
    assert db.session.get(Centre, closed.id).deleted_at is not None  # not restored
    assert count(db, User, User.email == "new@closed.example") == 0
    assert count(db, User, User.email == "waiting@hillside.example") == 0


def test_a_bad_file_lists_every_problem_and_changes_nothing(client, login_as, make_centre, db):
    login_as("admin")
    make_centre(number="GB101", name="Hillside Academy")
    content = openpyxl_file(
        [
            row(),
            row(number="GB9999999999"),
            row(number="GB102", zone=0),
            row(number="GB103", email="nope"),
        ]
    )
    response = upload(client, content, "bad.xlsx")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<h2 id="failed-heading">Upload failed</h2>' in body
    assert "Failed to upload file “bad.xlsx”: 3 problems in 4 row(s). Nothing was changed." in body
    assert "<td>3</td><td>Centre Number</td><td>GB9999999999</td>" in body
    assert "<td>4</td><td>Zone</td><td>0</td>" in body
    assert "<td>5</td><td>Email</td><td>nope</td>" in body
    assert count(db, Centre) == 1 and count(db, User) == 1  # the admin
    run = db.session.scalar(select(ImportRun))
    assert run.status == "failed" and len(run.problems) == 3
    history = client.get("/admin/centres/upload").get_data(as_text=True)
    assert "Failed: 3 problems" in history
    past = client.get(f"/admin/centres/imports/{run.id}").get_data(as_text=True)
    assert "<td>5</td><td>Email</td><td>nope</td>" in past


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (
            b"Centre Number,Centre Name\nGB1,X\n",
            "centres.csv",
            "This is a text file (such as .csv)",
        ),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "centres.xls", "old-style Excel file"),
        (openpyxl_file([], header=["Number", "Name"]), "centres.xlsx", "is missing the column(s)"),
    ],
)
def test_file_problems_say_what_is_wrong(client, login_as, db, content, name, message):
    login_as("admin")
    response = upload(client, content, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(db, Centre) == 0


def test_no_file_chosen(client, login_as):
    login_as("admin")
    response = client.post("/admin/centres/upload", data={"csrf_token": csrf_token_of(client, "/")})
    assert response.status_code == 422
    assert "Choose a file to upload." in response.get_data(as_text=True)


def test_an_oversized_upload_gets_a_friendly_413(client, login_as, monkeypatch):
    login_as("admin")
    monkeypatch.setattr("app.admin.imports.MAX_FILE_BYTES", 10_000)
    response = upload(client, b"x" * 2_000_000)
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "That upload is too large" in body
    assert "This page accepts at most 73 KB." in body  # the file limit patched to 10 KB


def test_a_file_bigger_than_a_form_is_accepted(client, login_as, db):
    """Forms are capped at 1 MB; the upload route takes files up to its own limit."""
    login_as("admin")
    noise = random.Random(1)  # random names do not compress, so the file is big
    rows = [
        row(
            number=f"GB{i:05d}", name=f"School {noise.randbytes(80).hex()}", email=f"u{i}@x.example"
        )
        for i in range(9000)
    ]
    content = xlsxwriter_file(rows)
    assert len(content) > 1024 * 1024
    assert "Created 9,000 centre(s)" in report_page(client, upload(client, content))


def test_a_failure_while_applying_leaves_nothing_half_imported(
    client, login_as, db, monkeypatch, app
):
    login_as("admin")

    def broken(plan, sheet):
        raise RuntimeError("the disk filled up")

    monkeypatch.setattr("app.services.centres.upload.apply.report_of", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = upload(client, openpyxl_file([row(), row(number="GB102")]))
    assert response.status_code == 500
    assert count(db, Centre) == 0 and count(db, User, User.role == "centre") == 0
    assert count(db, ImportRun) == 0


def test_files_from_two_writers_give_the_same_result(client, login_as, db):
    login_as("admin")
    rows = [
        row(
            number=12345,
            name="Numeric",
            country="IN",
            town="Pune",
            timezone="",
            zone=4,
            email="n@x.example",
        )
    ]
    report_page(client, upload(client, xlsxwriter_file(rows)))
    page = report_page(client, upload(client, openpyxl_file(rows)))
    assert "Created 0 centre(s) and 0 user(s) (0 replaced)." in page
    assert db.session.scalar(select(Centre.number)) == "12345"


def issues_setup(client, make_centre, make_user):
    hillside = make_centre(number="GB101", name="Hillside Academy")
    missing = make_centre(number="GB555", name="Missing School")
    make_user("centre", centre=hillside, email="extra@hillside.example")  # activated
    elsewhere = make_centre(number="GB556", name="Elsewhere")
    saved = make_user("centre", centre=elsewhere, email="twice@x.example")
    content = openpyxl_file(
        [row(), row(email="twice@x.example"), row(number="GB556", name="Elsewhere", email=None)]
    )
    page = report_page(client, upload(client, content))
    return hillside, missing, elsewhere, saved, page


def section(page, section_id):
    return page.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


def test_issue_lists_offer_select_all_and_none_only_while_something_can_be_ticked(
    client, login_as, make_centre, make_user, db
):
    login_as("admin")
    _, _, _, saved, page = issues_setup(client, make_centre, make_user)
    for section_id in ("missing-centres", "extra-users", "duplicated-users"):
        buttons = section(page, section_id)
        assert 'data-select="all" hidden>Select all</button>' in buttons
        assert 'data-select="none" hidden>Select none</button>' in buttons
    run_id = db.session.scalar(select(ImportRun.id))
    client.post(
        f"/admin/centres/imports/{run_id}/delete-users",
        data={
            "section": "duplicated",
            "user": saved.id,
            "confirmed": "yes",
            "csrf_token": csrf_token_of(client, "/"),
        },
    )
    page = client.get(f"/admin/centres/imports/{run_id}").get_data(as_text=True)
    duplicated = section(page, "duplicated-users")
    assert "saved at GB556 (deleted since)" in duplicated  # still listed, nothing to tick
    assert "Select all" not in duplicated and "Delete selected saved users" not in duplicated
    assert "Select all" in section(page, "extra-users")


def test_issue_sections_list_what_needs_a_decision(client, login_as, make_centre, make_user, db):
    login_as("admin")
    hillside, missing, elsewhere, saved, page = issues_setup(client, make_centre, make_user)
    assert "<h2>Issues</h2>" in page
    assert f'value="{missing.id}"> GB555 - Missing School</label>' in page
    extra = page.split('id="extra-users"', 1)[1].split("</section>", 1)[0]
    assert "<td>extra@hillside.example</td>" in extra
    assert "<td>GB101</td>" in extra
    assert "officer@hillside.example" in extra  # the spreadsheet's email for that centre
    duplicated = page.split('id="duplicated-users"', 1)[1].split("</section>", 1)[0]
    assert "<strong>twice@x.example</strong>" in duplicated
    assert f'value="{saved.id}"> saved at GB556 (delete)' in duplicated
    assert "in the spreadsheet for GB101" in duplicated
    assert count(db, User, User.email == "twice@x.example") == 1  # not moved, not created


def test_delete_missing_centres_with_htmx_updates_the_section(
    client, login_as, make_centre, make_user, db
):
    login_as("admin")
    _, missing, *_ = issues_setup(client, make_centre, make_user)
    run = db.session.scalar(select(ImportRun))
    response = client.post(
        f"/admin/centres/imports/{run.id}/delete-centres",
        data={"centre": missing.id, "confirmed": "yes", "csrf_token": csrf_token_of(client, "/")},
        headers={**HTMX, "HX-Target": "missing-centres"},
    )
    body = response.get_data(as_text=True)
    assert "<html" not in body
    assert "Deleted 1 centre(s)." in body
    assert "GB555 - Missing School" not in body
    assert db.session.get(Centre, missing.id).deleted_at is not None
    assert count(db, Event, Event.action == "centre.deleted") == 1


def test_delete_extra_users_without_javascript_asks_first(
    client, login_as, make_centre, make_user, db
):
    login_as("admin")
    issues_setup(client, make_centre, make_user)
    run = db.session.scalar(select(ImportRun))
    extra = db.session.scalar(select(User).where(User.email == "extra@hillside.example"))
    token = csrf_token_of(client, "/")
    page = client.post(
        f"/admin/centres/imports/{run.id}/delete-users",
        data={"user": extra.id, "section": "extra", "csrf_token": token},
    )
    body = page.get_data(as_text=True)
    assert "<h1>Delete 1 user(s)?</h1>" in body
    assert "<li>extra@hillside.example (GB101)</li>" in body
    assert count(db, User, User.email == "extra@hillside.example") == 1
    response = client.post(
        f"/admin/centres/imports/{run.id}/delete-users",
        data={"user": extra.id, "section": "extra", "confirmed": "yes", "csrf_token": token},
    )
    report = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Deleted 1 user(s). Their centres are unchanged." in report
    assert "<td>extra@hillside.example</td>" not in report
    assert count(db, User, User.email == "extra@hillside.example") == 0


def test_delete_a_saved_duplicated_user(client, login_as, make_centre, make_user, db):
    login_as("admin")
    *_, saved, _ = issues_setup(client, make_centre, make_user)
    run = db.session.scalar(select(ImportRun))
    saved_id = saved.id
    response = client.post(
        f"/admin/centres/imports/{run.id}/delete-users",
        data={
            "user": saved_id,
            "section": "duplicated",
            "confirmed": "yes",
            "csrf_token": csrf_token_of(client, "/"),
        },
        headers={**HTMX, "HX-Target": "duplicated-users"},
    )
    body = response.get_data(as_text=True)
    assert "saved at GB556 (deleted since)" in body
    assert db.session.get(User, saved_id) is None


def test_only_listed_ids_can_be_acted_on(client, login_as, make_centre, make_user, db):
    login_as("admin")
    issues_setup(client, make_centre, make_user)
    run = db.session.scalar(select(ImportRun))
    bystander = make_user("centre", email="bystander@x.example")
    client.post(
        f"/admin/centres/imports/{run.id}/delete-users",
        data={
            "user": bystander.id,
            "section": "extra",
            "confirmed": "yes",
            "csrf_token": csrf_token_of(client, "/"),
        },
    )
    assert count(db, User, User.email == "bystander@x.example") == 1


def test_new_user_pins_file(client, login_as, db):
    login_as("admin")
    content = openpyxl_file(
        [
            row(),
            row(
                number="IN301",
                name="Delhi",
                country="IN",
                timezone="",
                zone=4,
                email="in@x.example",
            ),
        ]
    )
    report_page(client, upload(client, content))
    run = db.session.scalar(select(ImportRun).where(ImportRun.status == "applied"))
    activated = db.session.scalar(select(User).where(User.email == "in@x.example"))
    activated.pin, activated.activated_at = None, activated.created_at
    db.session.commit()

    response = client.get(f"/admin/centres/imports/{run.id}/pins.xlsx")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="new-user-pins-{run.id}.xlsx"'
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == ["Centre Number", "Centre Name", "Email", "PIN"]
    officer = db.session.scalar(select(User).where(User.email == "officer@hillside.example"))
    assert [c.value for c in cells[1]] == [
        "GB101",
        "Hillside Academy",
        "officer@hillside.example",
        officer.pin,
    ]
    assert len(cells) == 2  # the activated user is left out
    assert all(c.data_type == "s" for row_ in cells for c in row_)


def test_formula_like_text_in_the_pins_file_stays_text(client, login_as, db):
    """A centre name typed as text "=SUM(1,2)" must not become a formula in our file."""
    login_as("admin")
    report_page(
        client,
        upload(
            client,
            xlsxwriter_file(
                [
                    row(
                        number="IN301",
                        name="=SUM(1,2)",
                        country="IN",
                        timezone="",
                        zone=4,
                        email="in@x.example",
                    )
                ]
            ),
        ),
    )
    run = db.session.scalar(select(ImportRun))
    sheet = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/admin/centres/imports/{run.id}/pins.xlsx").data)
    ).active
    name = sheet["B2"]
    assert (name.value, name.data_type) == ("=SUM(1,2)", "s")


def test_only_admins_upload(client, login_as):
    login_as("tp")
    assert client.get("/admin/centres/upload").status_code == 403


def test_two_uploads_at_the_same_moment_do_not_interleave(app, make_user, db):
    """Both are applied, one after the other: the second finds the first's centres."""
    admin = make_user("admin")
    content = openpyxl_file(
        [row(number=f"GB{i:03d}", name=f"School {i}", email=f"u{i}@x.example") for i in range(200)]
    )
    clients = [app.test_client() for _ in range(2)]
    for client in clients:
        with client.session_transaction() as session:
            session["_user_id"] = admin.session_token
    tokens = [csrf_token_of(c, "/") for c in clients]
    start = threading.Barrier(2)

    def send(client, token):
        start.wait()
        return client.post(
            "/admin/centres/upload",
            data={"file": (io.BytesIO(content), "c.xlsx"), "csrf_token": token},
            content_type="multipart/form-data",
        ).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(send, clients, tokens))
    assert statuses == [302, 302]
    db.session.rollback()
    runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert sorted(r.created_centres for r in runs) == [0, 200]
    assert count(db, Centre) == 200 and count(db, User, User.role == "centre") == 200


def test_a_new_centre_without_a_name_fails_the_whole_upload(client, login_as, make_centre, db):
    login_as("admin")
    make_centre(number="GB101", name="Hillside Academy")
    content = openpyxl_file([row(name=""), row(number="GB900", name="", email="x@x.example")])
    response = upload(client, content)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "<td>3</td><td>Centre Name</td><td></td><td>GB900 is a new centre, so it needs a name"
        in body
    )
    assert count(db, Centre) == 1 and count(db, User, User.role == "centre") == 0


def test_every_change_of_an_upload_has_its_event(client, login_as, make_centre, make_user, db):
    admin = login_as("admin")
    old = make_centre(number="GB101", name="Old Name")
    make_user("centre", centre=old, email="waiting@x.example", activated=False)
    content = openpyxl_file([row(), row(number="GB102", name="New", email="new@x.example")])
    report_page(client, confirm(client, upload(client, content)))
    run = db.session.scalar(select(ImportRun))
    events = db.session.scalars(select(Event).where(Event.action != "centres.imported")).all()
    by_action = {}
    for event in events:
        by_action.setdefault(event.action, []).append(event)
    assert [e.details["number"] for e in by_action["centre.created"]] == ["GB102"]
    assert by_action["centre.updated"][0].details["changes"] == {
        "name": ["Old Name", "Hillside Academy"]
    }
    assert sorted(e.details["email"] for e in by_action["user.created"]) == [
        "new@x.example",
        "officer@hillside.example",
    ]
    [replaced] = by_action["user.deleted"]
    assert replaced.details["email"] == "waiting@x.example" and replaced.details["replaced"]
    assert all(e.details["import_run"] == run.id and e.actor_id == admin.id for e in events)


def test_downloading_the_pins_is_logged(client, login_as, db):
    login_as("admin")
    report_page(client, upload(client, openpyxl_file([row()])))
    run = db.session.scalar(select(ImportRun))
    client.get(f"/admin/centres/imports/{run.id}/pins.xlsx")
    event = db.session.scalar(select(Event).where(Event.action == "centres.pins_downloaded"))
    assert (event.subject_id, event.details) == (run.id, {"users": 1})


def test_an_older_report_cannot_be_acted_on(client, login_as, make_centre, make_user, db):
    login_as("admin")
    _, missing, *_ = issues_setup(client, make_centre, make_user)
    older = db.session.scalar(select(ImportRun))
    report_page(client, upload(client, openpyxl_file([row()])))  # a newer upload
    page = client.get(f"/admin/centres/imports/{older.id}").get_data(as_text=True)
    assert "This report is from an older upload." in page
    assert ">Delete Missing Centres</button>" not in page
    response = client.post(
        f"/admin/centres/imports/{older.id}/delete-centres",
        data={"centre": missing.id, "confirmed": "yes", "csrf_token": csrf_token_of(client, "/")},
        headers={**HTMX, "HX-Target": "missing-centres"},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "act on the latest upload&#39;s report instead" in body
    assert ">Delete Missing Centres</button>" not in body
    assert db.session.get(Centre, missing.id).deleted_at is None


def test_an_htmx_action_with_nothing_ticked_says_so_in_the_section(
    client, login_as, make_centre, make_user, db
):
    login_as("admin")
    issues_setup(client, make_centre, make_user)
    run_id = db.session.scalar(select(ImportRun.id))
    response = client.post(
        f"/admin/centres/imports/{run_id}/delete-users",
        data={"section": "extra", "confirmed": "yes", "csrf_token": csrf_token_of(client, "/")},
        headers={**HTMX, "HX-Target": "extra-users"},
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "<html" not in body and "Tick the users to delete first." in body


def test_a_user_who_activated_meanwhile_is_not_replaced(make_centre, make_user, db):
    from app.services.centres.upload.apply import apply_plan
    from app.services.centres.upload.reconcile import Plan, UserOnSite

    centre = make_centre()
    user = make_user("centre", centre=centre, email="just.activated@x.example")
    plan = Plan(replaced_users=[UserOnSite(user.id, user.email, centre.number)])
    apply_plan(plan)
    db.session.commit()
    assert db.session.get(User, user.id) is not None
    assert plan.replaced_users == []


def test_an_upload_waiting_too_long_for_another_is_told_so(client, login_as, monkeypatch, app):
    from sqlalchemy.exc import OperationalError

    login_as("admin")

    def locked(*args, **kwargs):
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr("app.admin.imports.import_centres", locked)
    response = upload(client, openpyxl_file([row()]))
    assert response.status_code == 409
    assert "Another centres upload is being applied right now." in response.get_data(as_text=True)


def test_a_long_list_of_problems_is_cut_but_counted(client, login_as, monkeypatch, db):
    login_as("admin")
    monkeypatch.setattr("app.services.centres.upload.reader.MAX_PROBLEMS_KEPT", 2)
    monkeypatch.setattr("app.services.centres.upload.apply.MAX_PROBLEMS_KEPT", 2)
    response = upload(
        client, openpyxl_file([row(zone=9, email=f"u{i}@x.example") for i in range(5)])
    )
    body = response.get_data(as_text=True)
    assert "5 problems in 5 row(s)" in body and "The first 2 are listed below." in body
    run = db.session.scalar(select(ImportRun))
    assert (run.problem_count, len(run.problems)) == (5, 2)
    assert "Failed: 5 problems" in client.get("/admin/centres/upload").get_data(as_text=True)


def test_a_failed_upload_has_no_actions_nor_pins(client, login_as, db):
    login_as("admin")
    upload(client, b"not a workbook at all, just text", "notes.xlsx")
    run = db.session.scalar(select(ImportRun))
    assert run.status == "failed"
    token = csrf_token_of(client, "/")
    for url in (
        f"/admin/centres/imports/{run.id}/delete-centres",
        f"/admin/centres/imports/{run.id}/delete-users",
    ):
        response = client.post(
            url,
            data={"confirmed": "yes", "csrf_token": token},
            headers={**HTMX, "HX-Target": "missing-centres"},
        )
        assert response.status_code == 404
    assert client.get(f"/admin/centres/imports/{run.id}/pins.xlsx").status_code == 404


def test_an_upload_that_removes_users_or_renames_asks_first(
    client, login_as, make_centre, make_user, db
):
    login_as("admin")
    make_centre(number="GB101", name="Old Hillside")
    make_user(
        "centre", centre=db.session.scalar(select(Centre)), email="w@x.example", activated=False
    )
    response = upload(
        client,
        openpyxl_file([row(), row(number="GB102", name="New School", email="new@x.example")]),
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Check the upload before it is applied</h1>" in page
    assert "Nothing has been changed yet." in page
    assert "create 1 centre(s) and 2 user(s);" in page
    assert "<strong>remove 1 user(s)</strong>" in page
    assert "<tr><td>w@x.example</td><td>GB101</td></tr>" in page
    assert "<tr><td>GB101</td><td>Old Hillside</td><td>Hillside Academy</td></tr>" in page
    assert count(db, Centre) == 1 and count(db, User, User.email == "w@x.example") == 1
    assert count(db, ImportRun) == 0

    page = report_page(client, confirm(client, response))
    assert "Created 1 centre(s) and 2 user(s) (1 replaced)." in page
    assert "w@x.example (GB101)" in page
    assert count(db, User, User.email == "w@x.example") == 0
    assert db.session.scalar(select(Centre.name).where(Centre.number == "GB101")) == (
        "Hillside Academy"
    )


def test_an_upload_that_only_adds_applies_at_once(client, login_as, db):
    login_as("admin")
    response = upload(client, openpyxl_file([row()]))
    assert "Created 1 centre(s) and 1 user(s) (0 replaced)." in report_page(client, response)


def test_cancel_discards_the_kept_file_and_changes_nothing(
    client, login_as, make_centre, make_user, db, app
):
    login_as("admin")
    make_centre(number="GB101", name="Old Hillside")
    preview = upload(client, openpyxl_file([row()]))
    action = re.search(r'action="([^"]+/cancel)"', preview.get_data(as_text=True)).group(1)
    kept = list((Path(app.instance_path) / "pending-sheets").glob("*.xlsx"))
    assert len(kept) == 1
    response = client.post(action, data={"csrf_token": csrf_token_of(client, "/")})
    assert response.headers["Location"] == "/admin/centres/upload"
    assert "Upload cancelled: nothing was changed." in client.get("/admin/centres/upload").get_data(
        as_text=True
    )
    assert not kept[0].exists()
    assert db.session.scalar(select(Centre.name)) == "Old Hillside"
    response = confirm(client, preview)  # Confirm after Cancel: the file is gone
    assert response.status_code == 410
    assert "That upload is no longer waiting to be confirmed" in response.get_data(as_text=True)
    assert db.session.scalar(select(Centre.name)) == "Old Hillside"


def test_if_the_site_changed_meanwhile_confirm_shows_the_new_plan(
    client, login_as, make_centre, make_user, db
):
    login_as("admin")
    hillside = make_centre(number="GB101", name="Old Hillside")
    make_user("centre", centre=hillside, email="w@x.example", activated=False)
    preview = upload(client, openpyxl_file([row()]))
    make_user("centre", centre=hillside, email="v@x.example", activated=False)  # meanwhile
    response = confirm(client, preview)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The centres or users on the website changed after you checked this upload" in page
    assert "<tr><td>v@x.example</td><td>GB101</td></tr>" in page
    assert count(db, User, User.role == "centre") == 2  # nothing removed yet
    report_page(client, confirm(client, response))
    assert count(db, User, User.role == "centre") == 1


def test_only_the_admin_who_uploaded_may_confirm(client, login_as, make_centre, make_user, db, app):
    login_as("admin")
    make_centre(number="GB101", name="Old Hillside")
    preview = upload(client, openpyxl_file([row()]))
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = make_user("admin").session_token
    response = confirm(other, preview)
    assert response.status_code == 410
    assert db.session.scalar(select(Centre.name)) == "Old Hillside"


def test_confirm_works_with_htmx_too(client, login_as, make_centre, db):
    login_as("admin")
    make_centre(number="GB101", name="Old Hillside")
    preview = upload(client, openpyxl_file([row()]))
    response = confirm(client, preview, headers={**HTMX, "HX-Boosted": "true"})
    assert "Created 0 centre(s) and 1 user(s)" in report_page(client, response)


def test_a_time_zone_not_of_the_country_is_a_warning_to_confirm(client, login_as, db):
    login_as("admin")
    response = upload(client, openpyxl_file([row(timezone="Asia/Tokyo")]))
    page = response.get_data(as_text=True)
    assert "Time zones not of the centre's country (1)" in page
    assert "<tr><td>2</td><td>GB101</td><td>GB</td><td>Asia/Tokyo</td></tr>" in page
    assert count(db, Centre) == 0
    report = report_page(client, confirm(client, response))
    assert "<tr><td>2</td><td>GB101</td><td>GB</td><td>Asia/Tokyo</td></tr>" in report
    assert db.session.scalar(select(Centre.timezone)) == "Asia/Tokyo"


def test_one_upload_lists_every_problem_with_the_unnamed_new_centres(client, login_as, db):
    login_as("admin")
    content = openpyxl_file(
        [
            row(number="GB559", name="", email="a@x.example"),
            row(number="GB560", zone=9),
            row(number="GB561", name="Named", email="bad"),
            row(number="GB561", name="", email="ok@x.example"),
        ]
    )
    response = upload(client, content)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "3 problems in 4 row(s)" in body
    assert "<td>2</td><td>Centre Name</td><td></td><td>GB559 is a new centre" in body
    assert "<td>3</td><td>Zone</td>" in body and "<td>4</td><td>Email</td>" in body


def test_other_admins_writes_are_answered_while_an_upload_is_planned_and_applied(
    app, make_user, make_centre, db, monkeypatch
):
    """Planning holds no lock (a write meanwhile is answered at once, and the upload
    then plans again under the lock); applying holds it briefly (a write waits for it,
    and is answered, not refused as busy)."""
    from app.services.centres.upload import apply

    admin = make_user("admin")
    other_centre = make_centre(number="GB999", name="Another School")
    uploader, other = app.test_client(), app.test_client()
    for client in (uploader, other):
        with client.session_transaction() as session:
            session["_user_id"] = admin.session_token
    token = csrf_token_of(other, "/")
    add_url = f"/admin/centres/{other_centre.id}/users"

    def add_user(email):
        return other.post(add_url, data={"email": email, "csrf_token": token}).status_code

    answers, waiting = {}, []
    real_reconcile, real_apply_plan = apply.reconcile, apply.apply_plan

    def reconcile_meanwhile(*args):
        if "planning" not in answers:
            answers["planning"] = add_user("planning@x.example")  # answered before we go on
        return real_reconcile(*args)

    def apply_meanwhile(*args):
        thread = threading.Thread(target=lambda: answers.update(applying=add_user("a@x.example")))
        thread.start()
        waiting.append(thread)
        return real_apply_plan(*args)

    monkeypatch.setattr(apply, "reconcile", reconcile_meanwhile)
    monkeypatch.setattr(apply, "apply_plan", apply_meanwhile)
    content = openpyxl_file(
        [row(number=f"GB{i:03d}", name=f"School {i}", email=f"u{i}@x.example") for i in range(300)]
    )
    response = upload(uploader, content)
    waiting[0].join(timeout=30)
    assert response.status_code == 302
    assert answers == {"planning": 302, "applying": 302}
    emails = set(db.session.scalars(select(User.email).where(User.centre_id == other_centre.id)))
    assert emails == {"planning@x.example", "a@x.example"}
    assert count(db, Centre) == 301
    run = db.session.scalar(select(ImportRun))
    assert run.created_centres == 300 and run.report["missing_centres"][0]["number"] == "GB999"


def test_a_change_between_planning_and_the_lock_is_planned_again(
    client, login_as, make_centre, make_user, db, monkeypatch
):
    """A user added after the plan was made and before the lock is removed only if the
    admin saw it: the confirmed plan no longer matches, so the new one is shown."""
    from app.services.centres.upload import apply

    login_as("admin")
    hillside = make_centre(number="GB101", name="Old Hillside")
    make_user("centre", centre=hillside, email="w@x.example", activated=False)
    # Read now: the test's session must not query inside the request (it would wait for
    # the lock the request holds).
    hillside_id, created_at = hillside.id, hillside.created_at
    preview = upload(client, openpyxl_file([row()]))
    real_lock = apply.lock_centre_imports

    def lock_after_a_change():
        with db.engine.begin() as connection:  # another request's change, committed
            connection.execute(
                User.__table__.insert().values(
                    email="late@x.example",
                    role="centre",
                    centre_id=hillside_id,
                    failed_logins=0,
                    session_token="late-token",
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        monkeypatch.setattr(apply, "lock_centre_imports", real_lock)
        real_lock()

    monkeypatch.setattr(apply, "lock_centre_imports", lock_after_a_change)
    response = confirm(client, preview)
    page = response.get_data(as_text=True)
    assert "The centres or users on the website changed after you checked" in page
    assert "<tr><td>late@x.example</td><td>GB101</td></tr>" in page
    assert count(db, User, User.role == "centre") == 2
    report_page(client, confirm(client, response))
    assert count(db, User, User.role == "centre") == 1


def test_the_sample_uploaded_unchanged_leaves_the_demo_data_alone(client, db):
    """The sample's centres are not the demo's, fixed or generated: nothing is removed."""
    from app.services.demo import seed_demo, seed_scale

    seed_demo()
    seed_scale(300)
    db.session.commit()
    admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    with client.session_transaction() as session:
        session["_user_id"] = admin.session_token
    centres_before = count(db, Centre)
    users_before = set(db.session.scalars(select(User.email)))
    content = client.get("/admin/centres/upload/sample.xlsx").data
    page = report_page(client, upload(client, content))
    assert "Created 4 centre(s) and 4 user(s) (0 replaced)." in page
    assert count(db, Centre) == centres_before + 4
    assert users_before <= set(db.session.scalars(select(User.email)))


def test_confirm_applies_the_rows_the_preview_read_without_reading_the_file_again(
    client, login_as, make_centre, db, monkeypatch
):
    login_as("admin")
    make_centre(number="GB101", name="Old Hillside")
    preview = upload(client, openpyxl_file([row()]))

    def not_again(content):
        raise AssertionError("Confirm read the workbook again")

    monkeypatch.setattr("app.services.centres.upload.apply.read_centres", not_again)
    report = report_page(client, confirm(client, preview))
    assert "Created 0 centre(s) and 1 user(s)" in report
    assert db.session.scalar(select(Centre.name).where(Centre.number == "GB101")) == (
        "Hillside Academy"
    )
