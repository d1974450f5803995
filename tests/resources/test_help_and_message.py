"""Help Document Upload: the help documents for centre users and for staff, and the
site's standard message."""

import io

from sqlalchemy import select

from app.models import Event, HelpDocument
from app.services.site import DEFAULT_STANDARD_MESSAGE, current_help
from tests.resources import files
from tests.resources.conftest import signed_in_client


def upload_help(client, csrf_token, audience, content, name="help.pdf"):
    data = {
        "csrf_token": csrf_token(client, "/admin/help"),
        f"{audience}-file": (io.BytesIO(content), name),
    }
    return client.post(f"/admin/help/{audience}", data=data, content_type="multipart/form-data")


def test_the_help_link_appears_once_a_document_for_the_role_is_uploaded(
    app, client, login_as, make_user, csrf_token, db
):
    login_as("admin")
    centre_client = signed_in_client(app, make_user("centre"))
    assert ">Help<" not in client.get("/").get_data(as_text=True)
    assert ">Help<" not in centre_client.get("/").get_data(as_text=True)
    assert centre_client.get("/help").status_code == 404

    staff_pdf = files.pdf("staff help")
    response = upload_help(client, csrf_token, "staff", staff_pdf, "Staff guide.pdf")
    assert response.status_code == 302
    assert ">Help<" in client.get("/").get_data(as_text=True)
    opened = client.get("/help")
    assert opened.data == staff_pdf and opened.mimetype == "application/pdf"
    assert "inline" in opened.headers["Content-Disposition"]
    # Still none for centre users.
    assert ">Help<" not in centre_client.get("/").get_data(as_text=True)

    centre_pdf = files.pdf("centre help")
    upload_help(client, csrf_token, "centre", centre_pdf, "Centre guide.pdf")
    assert centre_client.get("/help").data == centre_pdf
    assert client.get("/help").data == staff_pdf


def test_history_keeps_every_upload_and_earlier_ones_download(client, login_as, csrf_token, db):
    login_as("admin")
    first, second = files.pdf("one"), files.pdf("two")
    upload_help(client, csrf_token, "centre", first, "v1.pdf")
    upload_help(client, csrf_token, "centre", second, "v2.pdf")
    page = client.get("/admin/help").get_data(as_text=True)
    assert page.index("v2.pdf") < page.index("v1.pdf")  # newest first, in use
    documents = db.session.scalars(select(HelpDocument).order_by(HelpDocument.id)).all()
    assert [d.original_name for d in documents] == ["v1.pdf", "v2.pdf"]
    old = client.get(f"/admin/help/documents/{documents[0].id}/download")
    assert old.data == first and "attachment" in old.headers["Content-Disposition"]
    assert current_help("centre").original_name == "v2.pdf"
    events = db.session.scalars(select(Event.action).where(Event.action.like("help_document.%")))
    assert list(events) == ["help_document.uploaded", "help_document.uploaded"]


def test_a_help_document_must_be_a_pdf(client, login_as, csrf_token, db):
    login_as("admin")
    response = upload_help(
        client, csrf_token, "staff", files.ooxml("word/document.xml"), "help.docx"
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    # Named once in its message, which shows in the error summary and by the field.
    assert page.count("help.docx") == 2 and "not accepted" in page
    assert "Nothing was uploaded." in page
    response = upload_help(client, csrf_token, "staff", files.windows_program(), "help.pdf")
    assert "is a program" in response.get_data(as_text=True)
    assert db.session.scalar(select(HelpDocument)) is None


def test_only_admins_reach_help_document_upload(client, login_as):
    login_as("tp")
    assert client.get("/admin/help").status_code == 403


def test_the_standard_message_shows_on_sign_in_and_home_and_can_be_changed(
    app, client, login_as, csrf_token, make_user, db
):
    signed_out = app.test_client()
    assert DEFAULT_STANDARD_MESSAGE in signed_out.get("/login").get_data(as_text=True)
    login_as("admin")
    assert DEFAULT_STANDARD_MESSAGE in client.get("/").get_data(as_text=True)

    text = "Exams start <b>Monday</b>.\nSee https://board.example.org/timetable."
    data = {"csrf_token": csrf_token(client, "/admin/help"), "text": text, "version": "0"}
    assert client.post("/admin/help/message", data=data).status_code == 302
    for page in (
        signed_out.get("/login").get_data(as_text=True),
        signed_in_client(app, make_user("centre")).get("/").get_data(as_text=True),
        signed_in_client(app, make_user("tp")).get("/").get_data(as_text=True),
    ):
        assert "Exams start &lt;b&gt;Monday&lt;/b&gt;.<br>" in page
        assert (
            '<a href="https://board.example.org/timetable" rel="noopener noreferrer">'
            "https://board.example.org/timetable</a>." in page
        )
        assert DEFAULT_STANDARD_MESSAGE not in page

    # Saved again from the same (now stale) form: refused, not overwritten.
    stale = {**data, "text": "Something else"}
    response = client.post("/admin/help/message", data=stale)
    assert response.status_code == 409
    assert "Exams start" in signed_out.get("/login").get_data(as_text=True)

    # Emptied: hidden everywhere.
    data = {"csrf_token": csrf_token(client, "/admin/help"), "text": "", "version": "1"}
    assert client.post("/admin/help/message", data=data).status_code == 302
    page = signed_out.get("/login").get_data(as_text=True)
    assert "standard-message" not in page and "Exams start" not in page


def test_control_characters_in_the_standard_message_are_refused(client, login_as, csrf_token):
    login_as("admin")
    data = {"csrf_token": csrf_token(client, "/admin/help"), "text": "a\x00b", "version": "0"}
    response = client.post("/admin/help/message", data=data)
    assert response.status_code == 422
    assert "control character" in response.get_data(as_text=True)
