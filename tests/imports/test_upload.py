"""The centres upload through the web: report, issue actions, PINs file, history, bad files."""

import io
import random
import threading
from concurrent.futures import ThreadPoolExecutor

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
    india = db.session.scalar(select(Centre).where(Centre.number == "IN301"))
    assert india.timezone == "Asia/Kolkata" and india.search_key.startswith("in301 delhi")
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
    page = report_page(client, upload(client, content))
    assert "Created 0 centre(s) and 1 user(s) (1 replaced)." in page
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
    report_page(
        client,
        upload(
            client, openpyxl_file([row(), row(number="GB102", name="New", email="new@x.example")])
        ),
    )
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
