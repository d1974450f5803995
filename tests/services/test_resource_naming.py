"""A resource's metadata rules and the board's file names (0580_s26_qp_22.pdf)."""

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.errors import DomainError
from app.services.resources.naming import (
    KIND_LABELS,
    KINDS,
    Kind,
    MetadataError,
    ParsedName,
    board_file_name,
    check_original_name,
    clean_component,
    clean_kind,
    clean_series,
    clean_syllabus,
    clean_title,
    default_title,
    kind_label,
    parse_file_name,
    series_choices,
    series_label,
    suggested_title,
    title_from_file_name,
    variant,
)
from tests.test_layers import imports_of

# --- kinds -----------------------------------------------------------------------------


def test_kinds_are_in_the_boards_order_with_their_codes():
    assert [(k.value, k.label, k.code) for k in KINDS] == [
        ("question-paper", "Question paper", "qp"),
        ("insert", "Insert", "in"),
        ("pre-release", "Pre-release material", "pm"),
        ("listening-audio", "Listening audio", None),
        ("source-files", "Source files", "sf"),
        ("confidential-instructions", "Confidential instructions", "ci"),
        ("mark-scheme", "Mark scheme", "ms"),
        ("other", "Other", None),
    ]
    assert list(KIND_LABELS) == [k.value for k in KINDS]
    assert kind_label("mark-scheme") == "Mark scheme"


def test_kinds_are_frozen():
    with pytest.raises(AttributeError):
        KINDS[0].code = "xx"  # type: ignore[misc]
    assert isinstance(KINDS[0], Kind)


def test_an_unknown_stored_kind_has_no_label():
    with pytest.raises(MetadataError, match='"exam" is not a kind of resource'):
        kind_label("exam")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("question-paper", "question-paper"),
        (" Question paper ", "question-paper"),
        ("QUESTION   PAPER", "question-paper"),
        ("pre-release material", "pre-release"),
        ("Listening audio", "listening-audio"),
        ("OTHER", "other"),
        ("mark-scheme", "mark-scheme"),
    ],
)
def test_kinds_are_taken_by_value_or_label(raw, value):
    assert clean_kind(raw) == value


@pytest.mark.parametrize("raw", ["", None, "qp", "paper", "question_paper", "Mark schemes"])
def test_other_kinds_are_refused_with_the_list_of_labels(raw):
    with pytest.raises(MetadataError) as error:
        clean_kind(raw)
    message = str(error.value)
    assert message.startswith("Choose the kind of resource: Question paper, Insert, ")
    assert message.endswith("Mark scheme or Other.")
    assert all(kind.label in message for kind in KINDS)


def test_metadata_errors_are_domain_errors():
    assert issubclass(MetadataError, DomainError)


# --- series ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("2026-06", "2026-06"),
        (" 2026-03 ", "2026-03"),
        ("2026-11", "2026-11"),
        ("June 2026", "2026-06"),
        ("june 2026", "2026-06"),
        ("  NOVEMBER    2030 ", "2030-11"),
        ("March\t2000", "2000-03"),
        ("2099-11", "2099-11"),
    ],
)
def test_series_are_stored_as_year_and_month(raw, value):
    assert clean_series(raw) == value


@pytest.mark.parametrize(
    "raw",
    [
        "2026-05",  # not a series month
        "2026-6",
        "May 2026",
        "Jun 2026",
        "Summer 2026",
        "1999-06",  # years outside 2000-2099
        "2100-06",
        "June 1999",
        "June 2100",
        "June 26",
        "2026/06",
        "06-2026",
        "June2026",
        "2026-06-01",
        "June ٢٠٢٦",  # Arabic-Indic digits
    ],
)
def test_other_series_are_refused_saying_which_months(raw):
    with pytest.raises(MetadataError) as error:
        clean_series(raw)
    assert str(error.value) == (
        'Series must be March, June or November of a year, e.g. "June 2026".'
    )


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_a_missing_series_asks_for_one(raw):
    with pytest.raises(MetadataError, match=r"^Enter the series\. Series must be March, June"):
        clean_series(raw)


@pytest.mark.parametrize(
    ("value", "label"),
    [("2026-03", "March 2026"), ("2026-06", "June 2026"), ("2027-11", "November 2027")],
)
def test_series_labels(value, label):
    assert series_label(value) == label
    assert clean_series(label) == value


@pytest.mark.parametrize("value", ["June 2026", "2026-05", " 2026-06", "x"])
def test_only_stored_series_have_labels(value):
    with pytest.raises(MetadataError, match="is not a series"):
        series_label(value)


def test_series_choices_run_in_time_order_from_last_year_to_three_ahead():
    choices = series_choices(date(2026, 5, 17))
    assert choices[:4] == [
        ("2025-03", "March 2025"),
        ("2025-06", "June 2025"),
        ("2025-11", "November 2025"),
        ("2026-03", "March 2026"),
    ]
    assert choices[-1] == ("2029-11", "November 2029")
    assert len(choices) == 5 * 3
    values = [value for value, _ in choices]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert all(series_label(value) == label for value, label in choices)


def test_series_choices_can_reach_further_and_stay_in_range():
    assert series_choices(date(2026, 1, 1), before=0, after=0) == [
        ("2026-03", "March 2026"),
        ("2026-06", "June 2026"),
        ("2026-11", "November 2026"),
    ]
    assert series_choices(date(2000, 6, 1), before=2, after=0)[0] == ("2000-03", "March 2000")
    assert series_choices(date(2099, 6, 1), before=0, after=5)[-1] == ("2099-11", "November 2099")


# --- syllabus, component, title --------------------------------------------------------


@pytest.mark.parametrize(("raw", "code"), [("0580", "0580"), (" 9709 ", "9709"), ("0000", "0000")])
def test_syllabus_codes_are_four_digits_kept_as_text(raw, code):
    assert clean_syllabus(raw) == code


@pytest.mark.parametrize(
    "raw", ["", None, "580", "05800", "058O", "05 80", "+580", "٠٥٨٠", "０５８０", "5.80"]
)
def test_other_syllabus_codes_are_refused(raw):
    with pytest.raises(MetadataError) as error:
        clean_syllabus(raw)
    assert str(error.value) == "Syllabus code must be 4 digits, e.g. 0580."


@pytest.mark.parametrize(
    ("raw", "component", "its_variant"),
    [("22", "22", 2), (" 01 ", "01", 1), ("10", "10", 0), ("99", "99", 9)],
)
def test_components_are_two_digits_and_end_in_their_variant(raw, component, its_variant):
    assert clean_component(raw) == component
    assert variant(component) == its_variant


@pytest.mark.parametrize("raw", ["", None, "00", "2", "222", "2a", "٢٢", "-1", " 2 2 "])
def test_other_components_are_refused(raw):
    with pytest.raises(MetadataError) as error:
        clean_component(raw)
    assert str(error.value) == "Component must be 2 digits, e.g. 22."


def test_variant_of_a_bad_component_is_refused():
    with pytest.raises(MetadataError, match="Component must be 2 digits"):
        variant("00")


def test_titles_are_tidied_and_limited_to_200_characters():
    assert clean_title("  Paper   2\t(Extended) ") == "Paper 2 (Extended)"
    assert clean_title("x") == "x"
    assert clean_title("x" * 200) == "x" * 200
    assert clean_title(" " + "x" * 200 + " ") == "x" * 200
    with pytest.raises(
        MetadataError, match="^A title has at most 200 characters; this one has 201"
    ):
        clean_title("x" * 201)


@pytest.mark.parametrize("raw", ["", "   ", None, "\n\t"])
def test_an_empty_title_is_asked_for(raw):
    with pytest.raises(MetadataError, match=r"^Enter a title\.$"):
        clean_title(raw)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("Paper\x002", "U+0000"),
        ("Paper\x1b[31m", "U+001B"),
        ("Paper\x7f", "U+007F"),
        ("\x85", "U+0085"),
    ],
)
def test_titles_with_control_characters_are_refused(raw, code):
    with pytest.raises(MetadataError) as error:
        clean_title(raw)
    assert str(error.value).startswith(
        f"The title contains an invisible control character ({code}), which is not allowed"
    )


# --- the board's file names ------------------------------------------------------------

LETTERS = {"m": "03", "s": "06", "w": "11"}


@pytest.mark.parametrize("kind", [k for k in KINDS if k.code], ids=lambda k: k.code)
def test_every_kind_code_parses(kind):
    assert parse_file_name(f"0580_s26_{kind.code}_22.pdf") == ParsedName(
        series="2026-06", syllabus="0580", component="22", kind=kind.value
    )


@pytest.mark.parametrize(("letter", "month"), LETTERS.items())
def test_every_series_letter_parses(letter, month):
    parsed = parse_file_name(f"9709_{letter}07_ms_13.docx")
    assert parsed == ParsedName(f"2007-{month}", "9709", "13", "mark-scheme")


@pytest.mark.parametrize(
    "name", ["0580_S26_QP_22.PDF", "0580_S26_qp_22.pdf", "0580_s26_Qp_22.Pdf", "0580_W26_CI_22.ZIP"]
)
def test_names_parse_in_any_case(name):
    parsed = parse_file_name(name)
    assert parsed is not None
    assert (parsed.syllabus, parsed.component) == ("0580", "22")
    assert parsed.series in ("2026-06", "2026-11")


def test_years_are_this_century_and_any_extension_is_kept_out_of_the_metadata():
    assert parse_file_name("0580_m00_in_01.mp3") == ParsedName("2000-03", "0580", "01", "insert")
    assert parse_file_name("0580_w99_pm_99.m4a") == ParsedName(
        "2099-11", "0580", "99", "pre-release"
    )
    assert parse_file_name("0417_s26_sf_02.zip").kind == "source-files"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "0580_s26_qp_22",  # no extension
        "0580_s26_qp_22.",  # an empty one
        "0580_s26_qp_22.pdf.exe",  # extra parts
        "0580_s26_qp_22_v2.pdf",
        "0580_s26_qp_22 .pdf",
        " 0580_s26_qp_22.pdf",
        "0580_s26_qp_22.pdf\n",
        "x0580_s26_qp_22.pdf",
        "580_s26_qp_22.pdf",  # 3-digit syllabus
        "05800_s26_qp_22.pdf",
        "0580_s26_qp_2.pdf",  # 1-digit component
        "0580_s26_qp_222.pdf",
        "0580_s26_qp_00.pdf",  # there is no component 00
        "0580_j26_qp_22.pdf",  # unknown series letter
        "0580_s2026_qp_22.pdf",
        "0580_s6_qp_22.pdf",
        "0580_s26_xx_22.pdf",  # unknown kind code
        "0580_s26_la_22.pdf",
        "0580_s26_qpx_22.pdf",
        "s26_0580_qp_22.pdf",  # wrong order
        "0580_qp_s26_22.pdf",
        "0580_s26_22_qp.pdf",
        "0580-s26-qp-22.pdf",  # wrong separators
        "0580 s26 qp 22.pdf",
        "0580__s26_qp_22.pdf",
        "dir/0580_s26_qp_22.pdf",  # only a base name
        "dir\\0580_s26_qp_22.pdf",
        "../0580_s26_qp_22.pdf",
        "٠٥٨٠_s26_qp_22.pdf",  # digits of another script
        "0580_\u017f26_qp_22.pdf",  # long s, which matches [a-z] ignoring case without re.ASCII
        "0580_s26_qp_22.pd\u212a",  # Kelvin sign, likewise
        "0580_s26_qp_22.pdf\x00",
        "0580_s26_qp_22.pdf\u0130",
        "Exam timetable.pdf",
    ],
)
def test_names_off_the_convention_do_not_parse(name):
    assert parse_file_name(name) is None


def test_default_titles_read_as_the_board_writes_them():
    assert default_title(parse_file_name("0580_s26_qp_22.pdf")) == (
        "0580 June 2026 Question paper 22"
    )
    assert default_title(parse_file_name("9709_m27_pm_01.pdf")) == (
        "9709 March 2027 Pre-release material 01"
    )
    assert default_title(ParsedName("2026-11", "0417", "12", "listening-audio")) == (
        "0417 November 2026 Listening audio 12"
    )


def test_board_file_names_are_the_inverse_of_parsing():
    parsed = ParsedName("2026-11", "0580", "42", "confidential-instructions")
    assert board_file_name(parsed) == "0580_w26_ci_42.pdf"
    assert board_file_name(parsed, "docx") == "0580_w26_ci_42.docx"
    assert parse_file_name(board_file_name(parsed)) == parsed
    with pytest.raises(MetadataError, match="Listening audio files have no name in the board"):
        board_file_name(ParsedName("2026-11", "0580", "42", "listening-audio"))


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("Exam_timetable-v2.pdf", "Exam timetable v2"),
        ("  Notes  for   invigilators .docx", "Notes for invigilators"),
        ("archive.tar.gz", "archive.tar"),
        ("README", "README"),
        (".pdf", ".pdf"),
        ("___.pdf", "Untitled"),
        ("", "Untitled"),
        ("folder/sub\\Plan_B.pdf", "Plan B"),
        ("Bell\x07_ring\n.txt", "Bell ring"),
        ("0580_s26_xx_22.pdf", "0580 s26 xx 22"),
    ],
)
def test_titles_from_file_names_that_do_not_parse(name, title):
    assert title_from_file_name(name) == title
    assert clean_title(title) == title  # always a title the form accepts


def test_titles_from_long_file_names_are_cut_to_200_characters():
    title = title_from_file_name("word_" * 100 + ".pdf")
    assert len(title) <= 200 and not title.endswith(" ")
    assert title.startswith("word word")
    assert clean_title(title) == title


def test_suggested_titles_prefer_the_boards_wording():
    assert suggested_title("0580_s26_ms_22.pdf") == "0580 June 2026 Mark scheme 22"
    assert suggested_title("Mark_scheme-draft.pdf") == "Mark scheme draft"


# --- uploaded files' own names ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["0580_s26_qp_22.pdf", "Exam timetable (v2).pdf", "Ünïcödé – ñame.txt", "x" * 255, ".pdf"],
)
def test_plain_file_names_are_acceptable(name):
    assert check_original_name(name) is None


@pytest.mark.parametrize("name", ["", "   "])
def test_a_file_needs_a_name(name):
    assert check_original_name(name) == (
        "The file has no name: choose a file that has one, e.g. 0580_s26_qp_22.pdf."
    )


@pytest.mark.parametrize(
    "name", ["../../x.pdf", "a/b.pdf", "C:\\Users\\exam\\x.pdf", "/etc/passwd", ".", "..", "x\\"]
)
def test_names_with_folder_parts_are_refused(name):
    assert check_original_name(name) == (
        f'The file name "{name}" contains folder parts; only a plain file name is accepted.'
    )


@pytest.mark.parametrize(
    ("name", "code", "shown"),
    [
        ("paper\x00.pdf", "U+0000", "paper\ufffd.pdf"),
        ("paper\x1b[2J.pdf", "U+001B", "paper\ufffd[2J.pdf"),
        ("paper\n.pdf", "U+000A", "paper\ufffd.pdf"),
        ("paper\t.pdf", "U+0009", "paper\ufffd.pdf"),
        ("paper\x9b.pdf", "U+009B", "paper\ufffd.pdf"),
    ],
)
def test_names_with_control_characters_are_refused_and_shown_safely(name, code, shown):
    message = check_original_name(name)
    assert message.startswith(
        f'The file name "{shown}" contains an invisible control character ({code})'
    )
    assert name not in message


def test_control_characters_are_also_hidden_in_a_folder_message():
    message = check_original_name("../\x1b]0;x\x07.pdf")
    assert message == (
        'The file name "../\ufffd]0;x\ufffd.pdf" contains folder parts; only a plain file '
        "name is accepted."
    )


def test_names_longer_than_255_characters_are_refused_and_shown_cut():
    name = "a" * 252 + ".pdf"
    message = check_original_name(name)
    assert message == (
        f'The file name "{"a" * 79}…" has 256 characters; at most 255 are accepted: rename '
        "the file and upload it again."
    )


# --- properties ------------------------------------------------------------------------


@given(st.text())
def test_parsing_never_raises(name):
    parsed = parse_file_name(name)
    assert parsed is None or isinstance(parsed, ParsedName)


@given(st.text())
def test_checking_and_titling_any_name_never_raises(name):
    message = check_original_name(name)
    assert message is None or message.startswith("The file")
    assert clean_title(title_from_file_name(name))


coded_kinds = [k for k in KINDS if k.code]


@given(
    syllabus=st.from_regex(r"[0-9]{4}", fullmatch=True),
    letter=st.sampled_from("msw"),
    year=st.integers(0, 99),
    kind=st.sampled_from(coded_kinds),
    component=st.integers(1, 99),
    extension=st.from_regex(r"[A-Za-z0-9]{1,10}", fullmatch=True),
    upper=st.booleans(),
)
def test_names_built_from_valid_parts_parse_back_to_them(
    syllabus, letter, year, kind, component, extension, upper
):
    name = f"{syllabus}_{letter}{year:02d}_{kind.code}_{component:02d}.{extension}"
    parsed = parse_file_name(name.upper() if upper else name)
    assert parsed == ParsedName(
        series=f"{2000 + year}-{LETTERS[letter]}",
        syllabus=syllabus,
        component=f"{component:02d}",
        kind=kind.value,
    )
    assert board_file_name(parsed, extension) == name
    assert clean_series(series_label(parsed.series)) == parsed.series


@pytest.mark.parametrize("module", ["naming", "filetypes"])
def test_the_resource_rules_are_pure(module):
    """No Flask, no database: of the app, only the errors and text helpers."""
    path = Path(__file__).resolve().parents[2] / "app/services/resources" / f"{module}.py"
    imported = imports_of(path)
    assert {name for name in imported if name.startswith("app")} <= {
        "app.services.errors",
        "app.services.text",
    }
    assert not {name for name in imported if name.split(".")[0] in ("flask", "sqlalchemy")}
