"""A fast, safe reader of one worksheet's cell values, for every upload.

openpyxl loads the workbook (its parts, shared strings and date styles); this
reads the sheet's XML itself with expat, keeping only the columns the upload
needs. It is about twice as fast as openpyxl's own read-only rows, because it
does for each cell only what an upload needs, and it reports formula
cells exactly. Like defusedxml, it refuses any DTD, so no entity tricks.

Hostile sheets cost little: empty cells are not stored, columns past
HEADER_COLUMNS are ignored until the header says which are needed, and row
numbers must go up. Anything malformed raises ValueError, which the reader
reports as a damaged file.
"""

import math
import re
from collections import deque
from xml.parsers import expat

from openpyxl.utils.datetime import from_excel, from_ISO8601

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ROW, CELL, VALUE, FORMULA = NS + "row", NS + "c", NS + "v", NS + "f"
TEXT, PHONETIC = NS + "t", NS + "rPh"
CHUNK = 64 * 1024
HEADER_COLUMNS = 256  # the header must be within the first 256 columns
REFERENCE = re.compile(r"\$?([A-Za-z]{1,3})\$?[0-9]+")


class UnsafeSheetXml(ValueError):
    """The sheet declares a DTD or entities: never expanded, always refused."""


def _refuse(*args) -> None:
    raise UnsafeSheetXml("DTD or entity declaration in the worksheet")


def _column_index(reference: str) -> int:
    """0-based column of a cell reference such as "AB12" or "$ab$12"."""
    match = REFERENCE.fullmatch(reference)
    if match is None:
        raise ValueError(f"cell reference {reference[:20]!r} is not a cell reference")
    index = 0
    for ch in match.group(1).upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


class SheetRows:
    """Iterates (row number, values, {column: formula}) over the rows that exist.

    `keep_columns(n)` says how many columns matter, once the header is known.
    """

    def __init__(self, source, shared_strings, date_formats, timedelta_formats, epoch):
        self._source = source
        self._strings = shared_strings
        self._dates = date_formats
        self._durations = timedelta_formats
        self._epoch = epoch
        self._width = HEADER_COLUMNS
        self._ready: deque = deque()
        self._done = False
        self._row = 0
        self._values: list = []
        self._formulas: dict[int, str] = {}
        self._column = -1
        self._wanted = False
        self._type = "n"
        self._style = 0
        self._text: list[str] = []
        self._formula: list[str] | None = None
        self._into: list[str] | None = None  # where character data goes, if anywhere
        self._phonetic = False
        parser = expat.ParserCreate(namespace_separator="}")
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.UnparsedEntityDeclHandler = _refuse
        parser.ExternalEntityRefHandler = _refuse
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._characters
        parser.buffer_text = True
        self._parser = parser

    def keep_columns(self, count: int) -> None:
        self._width = count

    def __iter__(self):
        return self

    def __next__(self):
        while not self._ready:
            if self._done:
                raise StopIteration
            chunk = self._source.read(CHUNK)
            self._parser.Parse(chunk, not chunk)
            self._done = not chunk
        return self._ready.popleft()

    def _start(self, name: str, attrs: dict) -> None:
        if name == CELL:
            reference = attrs.get("r")
            self._column = _column_index(reference) if reference else self._column + 1
            self._wanted = self._column < self._width
            self._type = attrs.get("t", "n")
            self._style = int(attrs.get("s") or 0)
            self._text = []
            self._formula = None
        elif name == ROW:
            self._begin_row(attrs)
        elif not self._wanted:
            return
        elif name == VALUE:
            self._into = self._text
        elif name == TEXT:
            self._into = None if self._phonetic else self._text
        elif name == FORMULA:
            self._formula = self._into = []
        elif name == PHONETIC:
            self._phonetic = True

    def _begin_row(self, attrs: dict) -> None:
        reference = attrs.get("r")
        number = int(float(reference)) if reference else self._row + 1
        if number <= self._row:
            raise ValueError(f"row {number} comes after row {self._row}")
        self._row = number
        self._values = []
        self._formulas = {}
        self._column = -1
        self._wanted = False

    def _characters(self, data: str) -> None:
        if self._into is not None:
            self._into.append(data)

    def _end(self, name: str) -> None:
        if name == CELL:
            if self._wanted:
                self._store()
            self._wanted = False
            self._into = None
        elif name in (VALUE, TEXT, FORMULA):
            self._into = None
        elif name == PHONETIC:
            self._phonetic = False
        elif name == ROW:
            self._ready.append((self._row, tuple(self._values), self._formulas))

    def _store(self) -> None:
        column = self._column
        if self._formula is not None:
            self._formulas[column] = (
                "=" + "".join(self._formula)
                if self._formula
                else "(a formula filled down from above)"
            )
            return
        value = self._value("".join(self._text))
        if value is None:
            return  # empty cells cost nothing
        if column >= len(self._values):
            self._values.extend([None] * (column + 1 - len(self._values)))
        self._values[column] = value

    def _value(self, text: str):
        kind = self._type
        if kind == "s":
            return self._strings[int(text)] if text else None
        if kind in ("inlineStr", "str", "e"):
            return text or None
        if not text:
            return None
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)
        number = int(text) if text.strip().lstrip("+-").isdigit() else float(text)
        if isinstance(number, float) and not math.isfinite(number):
            raise ValueError(f"{text[:20]!r} is not a number")
        if self._style in self._dates:
            try:
                return from_excel(number, self._epoch, timedelta=self._style in self._durations)
            except (OverflowError, ValueError):
                return "#VALUE!"  # as openpyxl reads a date out of range
        return number
