"""The emails' wording: defaults, admins' changes, and the sandbox they are rendered in."""

import pytest
from jinja2 import Environment, meta
from sqlalchemy import select

from app.models import EmailTemplate, Event
from app.services.email.templates import (
    KINDS,
    changed_wording,
    kind,
    problems_in,
    render,
    render_email,
    restore_default,
    sample_context,
    save_wording,
    wording,
)
from app.services.errors import EditConflict

ACTIVATION = KINDS["activation"]


def actions(db) -> list[str]:
    return list(db.session.scalars(select(Event.action).order_by(Event.id)))


@pytest.mark.parametrize("key", sorted(KINDS))
def test_each_default_has_no_problems_and_uses_only_its_placeholders(key):
    email = KINDS[key]
    assert problems_in(email, email.subject, email.body) == []
    used = set()
    for source in (email.subject, email.body):
        used |= meta.find_undeclared_variables(Environment(autoescape=True).parse(source))
    assert used <= set(email.placeholders)
    assert [name for name, _ in email.describe_placeholders()] == list(email.placeholders)


@pytest.mark.parametrize("key", sorted(KINDS))
def test_the_sample_has_a_value_for_every_placeholder(key):
    context = sample_context(KINDS[key], "Example Exam Board", email="me@example.org")
    assert set(context) == set(KINDS[key].placeholders)
    assert context.get("email", "me@example.org") == "me@example.org"
    assert context["organisation"] == "Example Exam Board"


def test_render_email_uses_the_default_until_an_admin_changes_it(db):
    context = sample_context(ACTIVATION, "Example Exam Board")
    subject, body = render_email("activation", context)
    assert subject == "Activate your Example Exam Board secure portal account"
    assert "An account for exams@example.org at centre GB123 (Riverside School)" in body
    assert wording("activation") == (ACTIVATION.subject, ACTIVATION.body, False)

    db.session.add(
        EmailTemplate(key="activation", subject="For {{ centre_number }}", body="Hi {{ email }}\n")
    )
    db.session.commit()
    assert render_email("activation", context) == ("For GB123", "Hi exams@example.org\n")
    assert wording("activation") == ("For {{ centre_number }}", "Hi {{ email }}\n", True)


def test_the_rendered_subject_is_one_line_whatever_the_values_hold():
    subject, body = render(
        "Welcome to {{ centre_name }}",
        "{{ centre_name }}",
        {"centre_name": "Riverside\r\nBcc: everyone@example.org\n  School"},
    )
    assert subject == "Welcome to Riverside Bcc: everyone@example.org School"
    assert body == "Riverside\r\nBcc: everyone@example.org\n  School"


def test_placeholders_are_not_html_escaped():
    subject, body = render("{{ centre_name }}", "{{ centre_name }}", {"centre_name": "A & B <C>"})
    assert (subject, body) == ("A & B <C>", "A & B <C>")


@pytest.mark.parametrize(
    ("subject", "body", "expected"),
    [
        ("", "Text", [("subject", None, "Enter a subject.")]),
        ("One\ntwo", "Text", [("subject", None, "A subject is one line.")]),
        ("x" * 201, "Text", [("subject", None, "A subject has at most 200 characters.")]),
        ("Hi", "  \n", [("body", None, "Enter the text of the email.")]),
        ("Hi {{ email", "Text", [("subject", 1, "a placeholder is not closed: add }} after")]),
        (
            "Hi",
            "a\nb\n{% if email %}x",
            [("body", 3, "“{% if email %}” is not closed: add {% endif %}")],
        ),
        ("Hi", "a\n\n{{ role }}", [("body", 3, "“{{ role }}” is not a placeholder")]),
        ("Hi", "a\n{% set x = 1 %}", [("body", 2, "assignments are not allowed")]),
        ("Hi", "{% macro m() %}{% endmacro %}", [("body", 1, "macros are not allowed")]),
        ("Hi", "{% include 'base.html' %}", [("body", 1, "includes are not allowed")]),
        ("Hi", "{{ centre_name|truncate(-1) }}", [("body", 1, "expected length >= 3")]),
    ],
)
def test_problems_say_which_field_and_line(subject, body, expected):
    problems = problems_in(ACTIVATION, subject, body)
    assert [(p.field, p.line) for p in problems] == [(f, line) for f, line, _ in expected]
    for problem, (_, _, message) in zip(problems, expected, strict=True):
        assert message in problem.message
    assert problems[0].message.endswith(".")


def test_a_problem_reads_with_its_line():
    [problem] = problems_in(ACTIVATION, "Hi", "a\n{{ nope }}")
    assert str(problem).startswith("Line 2: “{{ nope }}” is not a placeholder of this email.")
    [problem] = problems_in(ACTIVATION, "", "a")
    assert str(problem) == "Enter a subject."


@pytest.mark.parametrize(
    "body",
    [
        "{{ email.__class__.__mro__ }}",
        '{{ email|attr("__class__") }}',
        "{{ email['__class__'] }}",
        "{{ email.__class__.__base__.__subclasses__() }}",
        '{{ "{0.__class__}".format(email) }}',
        # In a branch the sample values never reach, so only the static check sees it.
        '{% if centre_name == "nobody" %}{{ email["__globals__"] }}{% endif %}',
        '{% if centre_name == "nobody" %}{{ email|attr("__class__") }}{% endif %}',
        "{{ self }}",
        "{{ lipsum(1000) }}",
        "{{ range(10)|list }}",
        "{{ cycler(1, 2) }}",
        "{{ namespace() }}",
    ],
)
def test_python_internals_and_jinja_globals_are_refused(body):
    problems = problems_in(ACTIVATION, "Hello", body)
    assert problems, body
    assert all(p.field == "body" and p.line == 1 for p in problems)


def test_if_blocks_and_text_filters_are_allowed():
    body = "{% if centre_name %}At {{ centre_name|upper }}{% else %}-{% endif %} {{ email|lower }}"
    assert problems_in(ACTIVATION, "Hi", body) == []
    _, rendered = render("Hi", body, sample_context(ACTIVATION, "Board"))
    assert rendered == "At RIVERSIDE SCHOOL exams@example.org"


def test_save_wording_stores_it_and_records_an_event(db):
    assert (
        save_wording("invitation", " New subject \n", "Hi {{ role }}\n\n", by="a@b.org", version=0)
        == []
    )
    db.session.commit()
    row = db.session.get(EmailTemplate, "invitation")
    assert (row.subject, row.body, row.updated_by) == (
        "New subject",
        "Hi {{ role }}\n\n",
        "a@b.org",
    )
    assert row.updated_at is not None
    assert actions(db) == ["email_template.saved"]


def test_save_wording_with_problems_stores_nothing(db):
    problems = save_wording("invitation", "Hi", "{{ centre_name }}", by="a@b.org", version=0)
    assert [str(p) for p in problems] == [
        "Line 1: “{{ centre_name }}” is not a placeholder of this email. "
        "It offers: email, role, link, expires, organisation."
    ]
    db.session.commit()
    assert db.session.get(EmailTemplate, "invitation") is None
    assert actions(db) == []


def test_restore_default_puts_the_default_wording_back(db):
    save_wording("password_reset", "Reset", "Go to {{ link }}", by="a@b.org", version=0)
    db.session.commit()
    restore_default("password_reset", by="c@d.org", version=1)
    db.session.commit()
    assert changed_wording("password_reset") is None
    # The row stays, emptied, so that its version goes on counting.
    row = db.session.get(EmailTemplate, "password_reset")
    assert (row.subject, row.body, row.updated_by, row.version) == ("", "", "c@d.org", 2)
    assert wording("password_reset") == (
        kind("password_reset").subject,
        kind("password_reset").body,
        False,
    )
    assert actions(db) == ["email_template.saved", "email_template.restored"]


def test_arithmetic_and_padding_that_could_stall_a_save_are_refused():
    for body, message in (
        ("{{ email * 100000000 }}", "multiplications are not allowed"),
        ("{{ 9 ** 999999 }}", "powers are not allowed"),
        ("{{ email|center(1000000000) }}", "the “center” filter is not allowed"),
    ):
        [problem] = problems_in(KINDS["activation"], "Subject", body)
        assert (problem.line, message in problem.message) == (1, True), body


def test_a_saved_wording_that_fails_with_real_values_falls_back_to_the_default(db):
    db.session.add(
        EmailTemplate(
            key="password_reset",
            subject="Reset",
            body='{% if email == "x@y.z" %}{{ email.nope }}{% endif %}Hello {{ email }}',
        )
    )
    db.session.commit()
    context = {"email": "x@y.z", "link": "L", "expires": "E", "organisation": "Board"}
    subject, body = render_email("password_reset", context)
    assert subject == "Reset your Board secure portal password"
    assert "L" in body and "nope" not in body


def test_method_calls_formatting_and_control_characters_are_refused():
    for body, message in (
        ("{{ email.center(900000000) }}", "method calls are not allowed"),
        ('{{ "{:>900000000}".format(email) }}', "method calls are not allowed"),
        ('{{ "%900000000s" % email }}', "% operators are not allowed"),
        ('{{ email|replace("", "xxxx") }}', "the “replace” filter is not allowed"),
        ("Hello\x00{{ email }}", "control characters"),
        ("Hello\x85{{ email }}", "control characters"),  # C1: NEL
        ("Hello\x7f{{ email }}", "control characters"),  # DEL
    ):
        problems = problems_in(KINDS["activation"], "Subject", body)
        assert any(message in p.message and p.line == 1 for p in problems), (body, problems)


JINJA_JARGON = ("expected token", "end of print statement", "end of statement block", "got '")


def test_every_problem_is_reported_at_once_in_plain_words_with_its_line():
    subject = "Welcome {{ organisation"
    body = "\n".join(
        [
            "Dear {{ centre_name }},",  # 1: fine
            "",
            "Your link: {{ link",  # 3
            "It stops at {{ expires }}.",  # 4: fine
            "{{ email centre_name }}",  # 5
            "{{ }}",  # 6
            "{{ nope }}",  # 7
            "{% endif %}",  # 8
            "{% if centre_name %}Hello",  # 9
        ]
    )
    problems = problems_in(ACTIVATION, subject, body)
    assert [(p.field, p.line) for p in problems] == [
        ("subject", 1),
        ("body", 3),
        ("body", 5),
        ("body", 6),
        ("body", 7),
        ("body", 8),
        ("body", 9),
    ]
    messages = [str(p) for p in problems]
    assert messages[0] == "Line 1: a placeholder is not closed: add }} after “{{ organisation”."
    assert messages[1] == "Line 3: a placeholder is not closed: add }} after “{{ link”."
    assert messages[2].startswith("Line 5: “{{ email centre_name }}” has “centre_name” where")
    assert messages[3].startswith("Line 6: a placeholder is empty")
    assert messages[4].startswith("Line 7: “{{ nope }}” is not a placeholder of this email.")
    assert messages[5].startswith("Line 8: {% endif %} has no {% if … %} before it")
    assert messages[6].startswith("Line 9: “{% if centre_name %}” is not closed: add {% endif %}")
    for message in messages:
        assert not any(jargon in message for jargon in JINJA_JARGON), message
    # Each problem carries its line as written, to be shown beside it.
    assert [p.text for p in problems[:3]] == [
        subject,
        "Your link: {{ link",
        "{{ email centre_name }}",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ email|upper|lower }} {{ email | }}", "a | or a . must be followed by a name"),
        ('{{ "abc }}', "a quotation mark is not closed"),
        ("{{ email) }}", "“)” is not expected there"),
        ("{% frob %}", "is not a tag an email can use: only {% if … %}"),
        ("{% if email %}a{% else %}b{% else %}c{% endif %}", "cannot come after the {% else %}"),
        ("{% for x in link %}{{ x }}{% endfor %}{{", "loops are not allowed"),
        ("{{ 1/0 }}", "this divides by zero."),
        ("{{ email + 1 }}", "this combines values that do not go together"),
        ("{{ email.nope }}", "a placeholder is text: it has no “nope”."),
    ],
)
def test_each_kind_of_mistake_is_told_in_words(body, message):
    problems = problems_in(ACTIVATION, "Subject", body)
    assert any(message in p.message and p.line == 1 for p in problems), problems
    for problem in problems:
        assert not any(jargon in problem.message for jargon in JINJA_JARGON), problem


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ 1" + "0" * 4300 + " }}", "is too long: a placeholder or tag has at most 300"),
        ("{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}", "is too long"),
        ("{{ " + "+".join(["1"] * 4000) + " }}", "is too long"),
    ],
    ids=["4,300 digits", "2,000 brackets", "4,000-term sum"],
)
def test_wordings_that_crashed_the_check_are_refused_in_words(body, message):
    [problem] = problems_in(ACTIVATION, "Subject", body)
    assert (problem.field, problem.line) == ("body", 1)
    assert message in problem.message


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ 1234567890123456 }}", "a number has at most 15 digits."),
        ("{{ " + "(" * 11 + "1" + ")" * 11 + " }}", "brackets are nested too deeply: at most 10"),
        ("{{ " + "+".join(["1"] * 60) + " }}", "this placeholder or {% if %} is too complicated"),
        ("{{ email }}" * 301, "a wording has at most 300 placeholders and tags."),
        (("{{ " + "~".join(["link"] * 20) + " }}\n") * 150, "too many placeholders and tags"),
        ("{{ '" + "x" * 300 + "' }}", "is too long"),
    ],
    ids=["digits", "brackets", "depth", "tags", "nodes", "tag length"],
)
def test_the_size_and_nesting_of_a_wording_are_bounded(body, message):
    problems = problems_in(ACTIVATION, "Subject", body)
    assert any(message in p.message for p in problems), problems
    # Within the bounds, the same things are fine.
    assert problems_in(ACTIVATION, "Subject", "{{ 123456789012345 }} {{ ((((1)))) }}") == []


@pytest.mark.parametrize(
    "body",
    [
        "{{ 1" + "0" * 4300 + " }}",
        "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}",
        "{{ " + "+".join(["1"] * 4000) + " }}",
        "{{ " + "-" * 3000 + "1 }}",
    ],
    ids=["4,300 digits", "2,000 brackets", "4,000-term sum", "3,000 minus signs"],
)
def test_whatever_the_bounds_miss_is_still_refused_not_a_crash(monkeypatch, body):
    from app.services.email import syntax

    for bound in ("MAX_TAG_LENGTH", "MAX_NUMBER_DIGITS", "MAX_BRACKET_DEPTH"):
        monkeypatch.setattr(syntax, bound, 10**9)
    problems = problems_in(ACTIVATION, "Subject", body)
    assert problems and all(p.field == "body" for p in problems)
    assert "too complicated" in problems[0].message or "too many" in problems[0].message


def test_a_long_wording_full_of_mistakes_lists_every_one():
    body = "\n".join(
        f"Line {n}: {{{{ centre_name }}}} {{{{ nope{n} }}}} {{{{ email" for n in range(150)
    )
    problems = problems_in(ACTIVATION, "Subject", body)
    assert len(problems) == 300


def test_a_save_from_a_form_opened_before_another_save_is_refused(db, clock):
    assert save_wording("activation", "First", "One {{ email }}", by="a@b.org", version=0) == []
    db.session.commit()
    clock.advance(minutes=5)
    with pytest.raises(EditConflict) as refused:
        save_wording("activation", "Second", "Two {{ email }}", by="c@d.org", version=0)
    assert str(refused.value) == (
        "The Activation (centre user) email was changed by a@b.org at 01 Jun 2026 08:00 UTC "
        "since you opened it, so your changes were not saved. It is shown below as it is "
        "now: make your changes again and save."
    )
    db.session.rollback()
    assert wording("activation") == ("First", "One {{ email }}", True)
    assert actions(db) == ["email_template.saved"]


def test_a_form_opened_before_a_restore_stays_refused_after_a_new_save(db):
    save_wording("invitation", "A", "A {{ email }}", by="a@b.org", version=0)
    opened_at = 1
    restore_default("invitation", by="b@b.org", version=1)
    save_wording("invitation", "C", "C {{ email }}", by="c@b.org", version=2)
    db.session.commit()
    for late in (
        lambda: save_wording("invitation", "Late", "Late", by="a@b.org", version=opened_at),
        lambda: restore_default("invitation", by="a@b.org", version=opened_at),
    ):
        with pytest.raises(EditConflict, match="changed by c@b.org"):
            late()
    assert wording("invitation") == ("C", "C {{ email }}", True)
