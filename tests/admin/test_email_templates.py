"""Admin → E-mail Templates: reword, preview, test and restore the portal's emails."""

import html

import pytest
from sqlalchemy import select

from app.models import EmailTemplate, OutboxMessage
from app.services.email.templates import KINDS
from tests.admin.test_centres import HTMX, events, post
from tests.web.test_menu import menu_links

EDIT = "/admin/email-templates/activation"
PREVIEW_FRAGMENT = {**HTMX, "HX-Target": "preview"}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def stored(db, key="activation"):
    return db.session.get(EmailTemplate, key)


@pytest.fixture
def admin(login_as):
    return login_as("admin", email="boss@example.com")


def test_the_page_lists_each_email_and_whether_it_was_changed(client, admin, db, clock):
    db.session.add(
        EmailTemplate(
            key="invitation",
            subject="Welcome",
            body="Hello {{ email }}",
            updated_by="editor@example.com",
            updated_at=clock.now,
        )
    )
    db.session.commit()
    page = client.get("/admin/email-templates").get_data(as_text=True)
    assert "E-mail Templates" in menu_links(page)
    assert "<h1>E-mail Templates</h1>" in page
    for kind in KINDS.values():
        assert f'<th scope="row">{html.escape(kind.title)}</th>' in page
        assert html.escape(kind.purpose) in page
        assert f'href="/admin/email-templates/{kind.key}"' in page
    invitation = page.split('id="email-invitation"', 1)[1].split("</tr>", 1)[0]
    assert "Changed by editor@example.com on 01 Jun 2026" in invitation
    activation = page.split('id="email-activation"', 1)[1].split("</tr>", 1)[0]
    assert "Default wording" in activation


def test_the_edit_page_shows_purpose_placeholders_wording_and_a_preview(client, admin):
    page = text_of(client.get(EDIT))
    kind = KINDS["activation"]
    assert kind.purpose in page
    assert "<code>{{ centre_number }}</code>" in page
    assert "The centre's number" in page
    assert "these are allowed: capitalize, default, lower, title, trim, truncate, upper." in page
    assert 'value="Activate your {{ organisation }} secure portal account"' in page
    assert "An account for {{ email }} at centre {{ centre_number }}" in page
    for label in ('<label for="subject">Subject</label>', '<label for="body">'):
        assert label in page
    for button in (">Save</button>", ">Preview</button>", ">Send me a test</button>"):
        assert button in page
    assert 'hx-trigger="input changed delay:400ms from:#subject' in page
    # The preview of the wording in use, with the sample values.
    assert "Subject: Activate your Example Exam Board secure portal account" in page
    assert "at centre GB123 (Riverside School)" in page
    assert "Default wording." in page and "Restore default" not in page


def test_unknown_email_is_404(client, admin, csrf_token):
    assert client.get("/admin/email-templates/nope").status_code == 404
    for action in ("", "/preview", "/test", "/restore"):
        response = post(client, csrf_token, f"/admin/email-templates/nope{action}", {})
        assert response.status_code == 404


@pytest.mark.parametrize("role", ["tp", "centre"])
def test_only_admins_may_use_the_pages(client, login_as, csrf_token, role, db):
    login_as(role)
    assert client.get("/admin/email-templates").status_code == 403
    assert client.get(EDIT).status_code == 403
    assert client.get(f"{EDIT}/restore").status_code == 403
    for action in ("", "/preview", "/test", "/restore"):
        response = post(client, csrf_token, EDIT + action, {"subject": "Hi", "body": "Hi"})
        assert response.status_code == 403
    assert stored(db) is None
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_save_stores_the_wording_and_records_an_event(client, admin, csrf_token, db):
    body = "Dear {{ email }},\r\n\r\nFollow {{ link }} before {{ expires }}.\r\n\r\n"
    response = post(
        client, csrf_token, EDIT, {"subject": " Your account ", "body": body, "version": "0"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == EDIT
    page = text_of(client.get(EDIT))
    assert "Saved the Activation (centre user) email." in page
    assert "Changed by boss@example.com on" in page
    assert 'href="/admin/email-templates/activation/restore?version=1"' in page
    assert "Subject: Your account" in page
    assert "Follow https://portal.example.org/activate/SAMPLE-LINK before" in page

    row = stored(db)
    # The subject is trimmed; the text keeps its blank lines, with the browser's CR LF as LF.
    assert (row.subject, row.body, row.updated_by) == (
        "Your account",
        "Dear {{ email }},\n\nFollow {{ link }} before {{ expires }}.\n\n",
        "boss@example.com",
    )
    [event] = events(db, "email_template.saved")
    assert (event.details, event.actor_email) == ({"template": "activation"}, "boss@example.com")


@pytest.mark.parametrize(
    ("subject", "body", "field", "message"),
    [
        (
            "Hello",
            "Line one\n{{ email }\nLine three",
            "body",
            "Line 2: a placeholder is not closed: add }} after “{{ email”.",
        ),
        ("Hello", "One\nTwo\n\n{{ centre_nmber }}", "body", "Line 4: “{{ centre_nmber }}” is not"),
        ("Hi {{ role }}", "Fine {{ email }}", "subject", "Line 1: “{{ role }}” is not"),
        ("Hello", "{% for x in link %}{{ x }}{% endfor %}", "body", "Line 1: loops are not"),
        ("", "Fine", "subject", "Enter a subject."),
    ],
)
def test_wording_with_problems_is_shown_by_its_field_and_not_stored(
    client, admin, csrf_token, db, subject, body, field, message
):
    db.session.add(EmailTemplate(key="activation", subject="Kept", body="Kept {{ email }}"))
    db.session.commit()
    response = post(client, csrf_token, EDIT, {"subject": subject, "body": body})
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was saved or sent" in page
    error = page.split(f'id="{field}-error" class="field-error">', 1)[1].split("</small>", 1)[0]
    assert message in error
    assert f'aria-describedby="{field}-error"' in page
    # What the admin typed stays in the form, to be put right.
    assert body in page
    row = stored(db)
    assert (row.subject, row.body) == ("Kept", "Kept {{ email }}")
    assert events(db, "email_template.saved") == []


@pytest.mark.parametrize(
    "body",
    [
        "{{ email.__class__.__mro__ }}",
        '{{ email|attr("__class__") }}',
        "{{ email['__class__'] }}",
        '{% if centre_name == "nobody" %}{{ email|attr("__class__") }}{% endif %}',
        "{{ self }}",
        "{{ lipsum() }}",
        "{{ range(10) }}",
    ],
)
def test_python_internals_and_jinja_globals_are_refused(client, admin, csrf_token, db, body):
    response = post(client, csrf_token, EDIT, {"subject": "Hello", "body": body})
    assert response.status_code == 422
    error = text_of(response).split('id="body-error" class="field-error">', 1)[1]
    assert error.startswith("Line 1: ")
    assert stored(db) is None
    assert events(db, "email_template.saved") == []


def test_live_preview_renders_the_sample_values(client, admin, csrf_token):
    data = {
        "subject": "Activate at {{ organisation }}",
        "body": "Centre {{ centre_number }}: {{ centre_name }}\n<b>{{ email }}</b>",
    }
    response = post(client, csrf_token, f"{EDIT}/preview", data, headers=PREVIEW_FRAGMENT)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and "<h1>" not in fragment
    preview = fragment.split("<pre", 1)[1].split("</pre>", 1)[0]
    assert "Subject: Activate at Example Exam Board" in preview
    assert "Centre GB123: Riverside School" in preview
    # The admin's markup is shown as text, never run as HTML.
    assert "&lt;b&gt;exams@example.org&lt;/b&gt;" in preview


def test_live_preview_lists_the_problems(client, admin, csrf_token, db):
    data = {"subject": "Hello", "body": "Fine\n{{ email.__class__ }}"}
    response = post(client, csrf_token, f"{EDIT}/preview", data, headers=PREVIEW_FRAGMENT)
    assert response.status_code == 422
    fragment = text_of(response)
    assert 'class="email-preview"' not in fragment and "<h1>" not in fragment
    problem = (
        '<a href="#body" data-field="body" data-line="2">Text of the email, line 2</a>: '
        "“__class__” is not allowed in an email."
    )
    assert problem in fragment
    # The line is shown as written, with its number.
    assert (
        '<pre class="problem-line"><span class="line-number">2</span>{{ email.__class__ }}</pre>'
        in fragment
    )
    assert stored(db) is None


def test_the_preview_button_without_javascript_shows_the_whole_page(client, admin, csrf_token, db):
    data = {"subject": "Hi {{ email }}", "body": "For {{ centre_name }}"}
    response = post(client, csrf_token, f"{EDIT}/preview", data)
    assert response.status_code == 200
    page = text_of(response)
    assert "<h1>Activation (centre user) email</h1>" in page
    assert 'value="Hi {{ email }}"' in page
    assert "Subject: Hi exams@example.org" in page and "For Riverside School" in page
    assert stored(db) is None

    response = post(client, csrf_token, f"{EDIT}/preview", {"subject": "Hi", "body": "{{ x }}"})
    assert response.status_code == 422
    assert "Line 1: “{{ x }}” is not a placeholder" in text_of(response).split('id="body-error"')[1]


def test_send_me_a_test_sends_the_form_wording_to_the_admin(client, admin, csrf_token, db, capsys):
    data = {
        "subject": "Hello {{ centre_name }}",
        "body": "Sent to {{ email }} at {{ organisation }}",
    }
    response = post(client, csrf_token, f"{EDIT}/test", data)
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "A test email is on its way to boss@example.com." in page

    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert (message.to_address, message.template, message.subject) == (
        "boss@example.com",
        "activation",
        "[Test] Hello Riverside School",
    )
    # No mail server in tests: the app "sends" it to the console after the response
    # (and keeps no body once sent).
    assert "\n\nSent to boss@example.com at Example Exam Board\n" in capsys.readouterr().out
    assert (message.status, message.body) == ("sent", "")
    [event] = events(db, "email_template.test_sent")
    assert event.details == {"template": "activation", "to": "boss@example.com"}
    # A test is only a test: the wording in use is unchanged.
    assert stored(db) is None


def test_send_me_a_test_with_htmx_keeps_the_form_and_says_it_went(client, admin, csrf_token, db):
    data = {"subject": "Unsaved", "body": "Unsaved text for {{ email }}"}
    response = post(client, csrf_token, f"{EDIT}/test", data, headers=PREVIEW_FRAGMENT)
    assert response.status_code == 200
    fragment = text_of(response)
    assert "A test email is on its way to boss@example.com." in fragment
    assert "Unsaved text for boss@example.com" in fragment
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.subject == "[Test] Unsaved"


def test_send_me_a_test_refuses_wording_with_problems(client, admin, csrf_token, db):
    data = {"subject": "Hello", "body": "{{ email|attr('__class__') }}"}
    response = post(client, csrf_token, f"{EDIT}/test", data)
    assert response.status_code == 422
    assert "the “attr” filter is not allowed" in text_of(response)
    response = post(client, csrf_token, f"{EDIT}/test", data, headers=PREVIEW_FRAGMENT)
    assert response.status_code == 422
    assert db.session.scalars(select(OutboxMessage)).all() == []
    assert events(db, "email_template.test_sent") == []


def test_restore_default_asks_first_then_puts_the_default_back(client, admin, csrf_token, db):
    db.session.add(
        EmailTemplate(key="activation", subject="Changed", body="Changed", updated_by="x@y.org")
    )
    db.session.commit()
    edit_page = text_of(client.get(EDIT))
    assert f'href="{EDIT}/restore?version=1"' in edit_page
    page = text_of(client.get(f"{EDIT}/restore?version=1"))
    assert "<h1>Restore the default wording of the Activation (centre user) email?</h1>" in page
    assert f'action="{EDIT}/restore"' in page
    assert '<input type="hidden" name="version" value="1">' in page
    assert f'href="{EDIT}"' in page  # Cancel
    assert stored(db).subject == "Changed"

    response = post(client, csrf_token, f"{EDIT}/restore", {"version": "1"})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "The Activation (centre user) email has its default wording again." in page
    assert 'value="Activate your {{ organisation }} secure portal account"' in page
    assert "Default wording." in page and "Restore default" not in page
    assert (stored(db).subject, stored(db).updated_by) == ("", "boss@example.com")
    assert "Default wording" in text_of(client.get("/admin/email-templates"))
    [event] = events(db, "email_template.restored")
    assert event.details == {"template": "activation"}


def second_admin(app, csrf_token, make_user):
    """Another admin, signed in with a session of their own."""
    other = app.test_client()
    user = make_user("admin", email="deputy@example.com")
    with other.session_transaction() as session:
        session["_user_id"] = user.session_token
        session["_fresh"] = True
    return other


def version_on(page: str) -> str:
    return page.split('name="version" type="hidden" value="', 1)[1].split('"', 1)[0]


def test_a_save_from_a_page_opened_before_another_admin_saved_is_refused(
    app, client, admin, csrf_token, make_user, db, clock
):
    deputy = second_admin(app, csrf_token, make_user)
    mine = version_on(text_of(client.get(EDIT)))
    theirs = version_on(text_of(deputy.get(EDIT)))
    assert mine == theirs == "0"

    saved = {"subject": "Deputy's", "body": "Deputy's {{ email }}", "version": theirs}
    assert post(deputy, csrf_token, EDIT, saved).status_code == 302
    clock.advance(minutes=3)
    late = {"subject": "Boss's", "body": "Boss's {{ link }}", "version": mine}
    response = post(client, csrf_token, EDIT, late)
    assert response.status_code == 409
    page = text_of(response)
    assert (
        "The Activation (centre user) email was changed by deputy@example.com at "
        "01 Jun 2026 08:00 UTC since you opened it, so your changes were not saved."
    ) in page
    # The form holds the wording as it is now, at its version; the admin's own is beside it.
    assert 'value="Deputy\'s"' in page and version_on(page) == "1"
    assert "Boss's {{ link }}" in page.split('class="unsaved-wording"', 1)[1]
    assert (stored(db).subject, stored(db).body) == ("Deputy's", "Deputy's {{ email }}")
    assert len(events(db, "email_template.saved")) == 1

    # Saved again from the page as it is now, it goes through.
    late["version"] = version_on(page)
    assert post(client, csrf_token, EDIT, late).status_code == 302
    assert stored(db).subject == "Boss's"


def test_restoring_from_a_page_opened_before_another_admin_saved_is_refused(
    app, client, admin, csrf_token, make_user, db
):
    db.session.add(EmailTemplate(key="activation", subject="Old", body="Old", updated_by="x@y.org"))
    db.session.commit()
    deputy = second_admin(app, csrf_token, make_user)
    mine = version_on(text_of(client.get(EDIT)))
    saved = {
        "subject": "New",
        "body": "New {{ email }}",
        "version": version_on(text_of(deputy.get(EDIT))),
    }
    assert post(deputy, csrf_token, EDIT, saved).status_code == 302

    response = post(client, csrf_token, f"{EDIT}/restore", {"version": mine})
    assert response.status_code == 302
    page = text_of(client.get(response.headers["Location"]))
    assert "was changed by deputy@example.com" in page and "default wording again" not in page
    assert 'value="New"' in page
    assert stored(db).subject == "New"
    assert events(db, "email_template.restored") == []


def test_posts_without_the_csrf_token_are_refused(client, admin, db):
    response = client.post(EDIT, data={"subject": "Hi", "body": "Hi"})
    assert response.status_code == 400
    assert stored(db) is None


@pytest.mark.parametrize(
    "body",
    [
        "{{ 1" + "0" * 4300 + " }}",
        "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
        "{{ " + "+".join(["1"] * 4000) + " }}",
    ],
    ids=["4,300 digits", "2,000 brackets", "4,000-term sum"],
)
def test_wordings_that_crashed_the_page_are_refused_in_words(client, admin, csrf_token, db, body):
    for action in ("", "/preview", "/test"):
        response = post(client, csrf_token, EDIT + action, {"subject": "Hi", "body": body})
        assert response.status_code == 422, action
        error = text_of(response).split('id="body-error" class="field-error">', 1)[1]
        assert error.startswith("Line 1: “{{ ") and "is too long" in error
    assert stored(db) is None
