"""An admin's wording read piece by piece, for problems told in plain words.

Jinja stops at the first syntax error and words it for programmers ("expected
token 'end of print statement', got 'name'"). When a wording does not parse,
this module finds its placeholders ({{ }}), tags ({% %}) and comments ({# #})
itself, checks that each is closed and that the {% if %} tags pair up, so that
every problem is reported at once, each with its line. It also bounds what a
wording may hold before Jinja reads it: Jinja's parser and compiler recurse,
and Python refuses to read integers of over 4,300 digits, so a long enough
number, sum or nest of brackets would otherwise fail with a crash, not an
answer.
"""

import re
from dataclasses import dataclass

from jinja2 import TemplateSyntaxError

# Far beyond any real wording (the defaults have at most 8 placeholders, none longer
# than 20 characters, and no numbers or brackets), far below what makes Jinja
# recurse too deeply or Python refuse a number.
MAX_TAGS = 300
MAX_TAG_LENGTH = 300
MAX_NUMBER_DIGITS = 15
MAX_BRACKET_DEPTH = 10

ALLOWED_STATEMENTS = "{% if … %}, {% elif … %}, {% else %} and {% endif %}"
_NOT_ALLOWED = {
    "for": "loops",
    "set": "assignments",
    "macro": "macros",
    "call": "call blocks",
    "filter": "filter blocks",
    "include": "includes",
    "import": "imports",
    "from": "imports",
    "extends": "extends",
    "block": "blocks",
    "with": "with blocks",
}
_OPENERS = re.compile(r"\{[{%#]")
_CLOSERS = {"{{": "}}", "{%": "%}", "{#": "#}"}
_NUMBER = re.compile(r"\d[\d_]*")
_STRING = re.compile(r"\"[^\"]*\"|'[^']*'")


@dataclass(frozen=True)
class Tag:
    """One placeholder, tag or comment, as written."""

    opener: str  # "{{", "{%" or "{#"
    line: int
    inner: str  # what is between the delimiters, whitespace control (-, +) removed

    @property
    def text(self) -> str:
        return f"{self.opener} {self.inner} {_CLOSERS[self.opener]}"

    @property
    def statement(self) -> str:
        """A tag's first word: if, elif, else, endif..."""
        return (self.inner.split() or [""])[0]


@dataclass(frozen=True)
class Found:
    """A problem found in a wording: the line it is on and what is wrong, in words."""

    line: int | None
    message: str


def tags_in(source: str) -> tuple[list[Tag], list[Found]]:
    """The wording's closed placeholders, tags and comments, and the ones not closed."""
    tags, problems = [], []
    position = 0
    while (opening := _OPENERS.search(source, position)) is not None:
        opener = opening.group()
        start = opening.end()
        line = source.count("\n", 0, opening.start()) + 1
        closer = source.find(_CLOSERS[opener], start)
        reopened = _OPENERS.search(source, start)
        if closer == -1 or (reopened is not None and reopened.start() < closer):
            # The rest of the line shows where the closing braces are missing.
            written = (opener + source[start:].split("\n", 1)[0]).rstrip()
            problems.append(Found(line, _not_closed(opener, written)))
            position = start
            continue
        inner = source[start:closer]
        # Whitespace control ({{- ... -}}) touches the delimiters.
        inner = inner[1:] if inner.startswith(("-", "+")) else inner
        inner = (inner[:-1] if inner.endswith(("-", "+")) else inner).strip()
        tags.append(Tag(opener, line, inner))
        position = closer + 2
    return tags, problems


def _not_closed(opener: str, written: str) -> str:
    written = written.rstrip("}%#").rstrip()
    what = {"{{": "a placeholder", "{%": "a tag", "{#": "a comment"}[opener]
    return f"{what} is not closed: add {_CLOSERS[opener]} after “{_short(written)}”."


def bound_problems(tags: list[Tag]) -> list[Found]:
    """Placeholders and tags too many, too long, too deeply bracketed, or holding
    numbers too long to be read, each in words."""
    if len(tags) > MAX_TAGS:
        return [Found(None, f"a wording has at most {MAX_TAGS} placeholders and tags.")]
    problems = []
    for tag in tags:
        if tag.opener == "{#":
            continue
        if len(tag.inner) > MAX_TAG_LENGTH:
            problems.append(
                Found(
                    tag.line,
                    f"“{_short(tag.text)}” is too long: a placeholder or tag has at most "
                    f"{MAX_TAG_LENGTH} characters.",
                )
            )
            continue
        code = _STRING.sub('""', tag.inner)  # brackets and digits in quotes are text
        if any(len(n.replace("_", "")) > MAX_NUMBER_DIGITS for n in _NUMBER.findall(code)):
            problems.append(Found(tag.line, f"a number has at most {MAX_NUMBER_DIGITS} digits."))
        if _bracket_depth(code) > MAX_BRACKET_DEPTH:
            problems.append(
                Found(
                    tag.line,
                    f"brackets are nested too deeply: at most {MAX_BRACKET_DEPTH} "
                    "inside one another.",
                )
            )
    return problems


def _bracket_depth(code: str) -> int:
    depth = deepest = 0
    for ch in code:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth = max(depth - 1, 0)
    return deepest


def block_problems(tags: list[Tag]) -> list[Found]:
    """Tags other than if/elif/else/endif, and {% if %} tags that do not pair up."""
    problems = []
    open_ifs: list[
        tuple[Tag, bool]
    ] = []  # each {% if %} not yet closed, and whether it had an else
    for tag in tags:
        if tag.opener != "{%":
            continue
        word = tag.statement
        if word == "if":
            open_ifs.append((tag, False))
        elif word in ("elif", "else"):
            if not open_ifs:
                problems.append(
                    Found(
                        tag.line,
                        f"{{% {word} %}} must come between {{% if … %}} and {{% endif %}}.",
                    )
                )
            elif open_ifs[-1][1]:
                problems.append(
                    Found(
                        tag.line,
                        f"{{% {word} %}} cannot come after the {{% else %}} of its {{% if %}}.",
                    )
                )
            elif word == "else":
                open_ifs[-1] = (open_ifs[-1][0], True)
        elif word == "endif":
            if open_ifs:
                open_ifs.pop()
            else:
                problems.append(
                    Found(
                        tag.line,
                        "{% endif %} has no {% if … %} before it to close: remove it, or add "
                        "the {% if … %} it ends.",
                    )
                )
        elif word in _NOT_ALLOWED:
            problems.append(
                Found(tag.line, f"{_NOT_ALLOWED[word]} are not allowed; use placeholders.")
            )
        elif word.startswith("end") and word[3:] in _NOT_ALLOWED:
            continue  # the end of something already refused at its start
        else:
            problems.append(
                Found(
                    tag.line,
                    f"“{_short(tag.text)}” is not a tag an email can use: only "
                    f"{ALLOWED_STATEMENTS} are.",
                )
            )
        if word in ("else", "endif") and tag.inner != word:
            problems.append(Found(tag.line, f"{{% {word} %}} takes nothing after “{word}”."))
    for tag, _ in open_ifs:
        problems.append(
            Found(
                tag.line,
                f"“{_short(tag.text)}” is not closed: add {{% endif %}} where the text it "
                "controls ends.",
            )
        )
    return problems


def source_to_parse(tag: Tag) -> str | None:
    """A template of this one tag alone, on its own line number, for Jinja to check;
    None for what has nothing to check (comments, else, endif, tags refused above)."""
    padding = "\n" * (tag.line - 1)
    if tag.opener == "{{":
        return f"{padding}{{{{ {tag.inner} }}}}"
    if tag.opener == "{%" and tag.statement in ("if", "elif"):
        condition = tag.inner[len(tag.statement) :]
        return f"{padding}{{% if {condition} %}}{{% endif %}}"
    return None


_JINJA_WORDING = [
    (
        re.compile(r"expected token 'end of (?:print statement|statement block)', got '(.+)'"),
        "“{tag}” has “{0}” where it should end. Put each placeholder in its own {{{{ }}}}, "
        "and a | before a filter, as in {{{{ email|upper }}}}.",
    ),
    (
        re.compile(r"Expected an expression, got 'end of print statement'"),
        "a placeholder is empty: write a placeholder's name between {{{{ and }}}}, "
        "as in {{{{ email }}}}.",
    ),
    (
        re.compile(r"Expected an expression, got 'end of statement block'"),
        "“{tag}” needs a condition, as in {{% if centre_name %}}.",
    ),
    (
        re.compile(r"expected token 'name', got"),
        "in “{tag}”, a | or a . must be followed by a name, as in {{{{ email|upper }}}}.",
    ),
    (
        re.compile(r"unexpected char '[\"']'"),
        "in “{tag}”, a quotation mark is not closed.",
    ),
    (
        re.compile(r"unexpected char '(.)'"),
        "in “{tag}”, the character “{0}” cannot be used.",
    ),
    (
        re.compile(r"unexpected '(.)'"),
        "in “{tag}”, “{0}” is not expected there: check its brackets and quotation marks.",
    ),
    (
        re.compile(r"expected token '(,|\)|\])'"),
        "in “{tag}”, the brackets are not closed, or the values in them are not "
        "separated by commas.",
    ),
]


def plain_words(error: TemplateSyntaxError, tag: Tag) -> str:
    """What Jinja found wrong with one placeholder or tag, in words for the admin."""
    for pattern, wording in _JINJA_WORDING:
        match = pattern.search(error.message or "")
        if match:
            return wording.format(*match.groups(), tag=_short(tag.text))
    return (
        f"“{_short(tag.text)}” cannot be read. A placeholder is a name between {{{{ and }}}}, "
        "as in {{ email }} or {{ email|upper }}."
    )


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
