"""A fast, safe reader of one worksheet's cell values, for the centres upload.

openpyxl loads the workbook (its parts, shared strings and date styles); this
reads the sheet's XML itself with expat, keeping only the columns the upload
needs. It is about twice as fast as openpyxl's own read-only rows, because it
does for each cell only what a centres file needs, and it reports formula
cells exactly. Like defusedxml, it refuses any DTD, so no entity tricks.
"""

from collections import deque
from xml.parsers import expat

from openpyxl.utils.datetime import from_excel, from_ISO8601

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ROW, CELL, VALUE, FORMULA = NS + "row", NS + "c", NS + "v", NS + "f"
INLINE, TEXT, PHONETIC = NS + "is", NS + "t", NS + "rPh"
CHUNK = 64 * 1024
MAX_COLUMN = 16_383  # XFD, Excel's last column


class UnsafeSheetXml(ValueError):
    """The sheet declares a DTD or entities: never expanded, always refused."""


def _refuse(*args) -> None:
    raise UnsafeSheetXml("DTD or entity declaration in the worksheet")


def _column_index(reference: str) -> int:
    """0-based column of a reference such as "AB12"."""
    index = 0
    for ch in reference:
        if "A" <= ch <= "Z":
            index = index * 26 + ord(ch) - 64
        else:
            break
    return index - 1


class SheetRows:
    """Iterates (row number, values, {column: formula}) over the rows that exist.

    `keep_columns(n)` stops it keeping values beyond the first n columns once
    the caller knows which it needs (after the header row).
    """

    def __init__(self, source, shared_strings, date_formats, epoch):
        self._source = source
        self._strings = shared_strings
        self._dates = date_formats
        self._epoch = epoch
        self._width: int | None = None
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
            if self._column > MAX_COLUMN:
                raise ValueError(f"cell {reference} is beyond Excel's last column")
            self._wanted = self._width is None or self._column < self._width
            self._type = attrs.get("t", "n")
            self._style = int(attrs.get("s", 0))
            self._text = []
            self._formula = None
        elif not self._wanted:
            if name == ROW:
                self._begin_row(attrs)
        elif name == VALUE:
            self._into = self._text
        elif name == TEXT:
            self._into = None if self._phonetic else self._text
        elif name == FORMULA:
            self._formula = self._into = []
        elif name == PHONETIC:
            self._phonetic = True
        elif name == ROW:
            self._begin_row(attrs)

    def _begin_row(self, attrs: dict) -> None:
        reference = attrs.get("r")
        self._row = int(reference) if reference else self._row + 1
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
        if column < 0:
            return
        if column >= len(self._values):
            self._values.extend([None] * (column + 1 - len(self._values)))
        if self._formula is not None:
            self._formulas[column] = "=" + "".join(self._formula)
            return
        self._values[column] = self._value("".join(self._text))

    def _value(self, text: str):
        kind = self._type
        if kind == "s":
            return self._strings[int(text)] if text else None
        if kind in ("inlineStr", "str", "e"):
            return text
        if not text:
            return None
        if kind == "b":
            return text.strip() == "1"
        if kind == "d":
            return from_ISO8601(text)
        number = int(text) if text.lstrip("-").isdigit() else float(text)
        if self._style in self._dates:
            return from_excel(number, self._epoch)
        return number
