"""Reading an uploaded customer file row by row: CSV (UTF-8 or GBK), XLSX/XLS and vCard.

Every reader streams: CSV is decoded and parsed a line at a time, vCards are split card by
card, and workbooks go through python-calamine's row iterator, so a 50 MB file never sits
in memory as Python rows. Rows come out as `(row_number, cells)` with the number the user
sees in their spreadsheet (the header is row 1, the first data row 2).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError

Opener = Callable[[], AbstractContextManager[IO[bytes]]]
Row = tuple[int, list[Any]]

CHUNK_BYTES = 1 << 20
DELIMITERS = (",", "\t", ";", "|")
REPLACEMENT = "\ufffd"
UTF8 = "utf-8-sig"
GB18030 = "gb18030"
UTF16 = "utf-16"

csv.field_size_limit(
    min(sys.maxsize, 2**31 - 1)
)  # notes cells may be long; csv's 128 KiB cap is not ours


class ImportFileError(DomainError):
    """The file as a whole cannot be imported (empty, unreadable, wrong encoding)."""

    code = "bad-import-file"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class BadRow:
    """Stands in for the cells of a record that could not be parsed at all."""

    message: str


@dataclass
class FileShape:
    """What sniffing found out about a file: format, text encoding, delimiter, header."""

    format: str
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)


# --- format and encoding -------------------------------------------------------------------


def sniff_format(head: bytes, name: str) -> str:
    """ "csv", "xlsx" or "vcf", from the first bytes and then the file name's extension."""
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        return "xlsx"  # a zip (xlsx, xlsm, ods) or an OLE2 compound file (xls)
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    if text[:11].upper() == b"BEGIN:VCARD":
        return "vcf"
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in {"xlsx", "xlsm", "xls", "xlsb", "ods"}:
        return "xlsx"
    if extension in {"vcf", "vcard"}:
        return "vcf"
    return "csv"


def detect_encoding(stream: IO[bytes]) -> str:
    """The text encoding of a whole file: UTF-8 (BOM or not), else GB18030 (GBK, GB2312).

    One streaming pass decodes the file as UTF-8. A file that has a few bad bytes among
    plenty of well-formed multi-byte characters is UTF-8 with damage: it is read as UTF-8
    and the damaged rows are refused one by one. A file that is mostly not UTF-8 must then
    decode as GB18030 from start to end, or the upload is refused.
    """
    head = stream.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return UTF16
    stream.seek(0)
    multibyte = 0  # bytes beyond the first of each well-formed multi-byte character
    invalid = 0
    pending = b""
    while True:
        chunk = stream.read(CHUNK_BYTES)
        final = not chunk
        buffer = memoryview(pending + chunk)
        position = 0
        while True:
            try:
                text, consumed = codecs.utf_8_decode(buffer[position:], "strict", final)
            except UnicodeDecodeError as error:
                invalid += 1
                consumed = error.start
                multibyte += consumed - len(bytes(buffer[position : position + consumed]).decode())
                position += consumed + max(1, error.end - error.start)
                if invalid > 1000 and invalid > multibyte:
                    return _require_gb18030(stream)
                continue
            multibyte += consumed - len(text)
            position += consumed
            break
        pending = bytes(buffer[position:])
        if final:
            break
    if invalid == 0:
        return UTF8
    if multibyte > invalid:
        return UTF8  # UTF-8 with some damaged rows; those rows are refused as they are read
    return _require_gb18030(stream)


def _require_gb18030(stream: IO[bytes]) -> str:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(GB18030)("strict")
    try:
        while chunk := stream.read(CHUNK_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise ImportFileError(
            _("The file is not valid UTF-8 or GBK text. Save it as “CSV UTF-8” and try again.")
        ) from error
    return GB18030


# --- cells -----------------------------------------------------------------------------------


def cell_value(value: Any) -> Any:
    """A workbook cell as import input: text, or a date; whole numbers lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date | str):
        return value
    return str(value)


def is_blank(cells: list[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


# --- CSV -------------------------------------------------------------------------------------


def _text(stream: IO[bytes], encoding: str) -> io.TextIOWrapper:
    # "replace" only matters for UTF-8 with damaged rows (see detect_encoding): each bad
    # byte becomes U+FFFD and the row that holds it is refused by the importer.
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def sniff_delimiter(line: str) -> str:
    counts = {candidate: line.count(candidate) for candidate in DELIMITERS}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _csv_records(opener: Opener, encoding: str, delimiter: str) -> Iterator[Row]:
    with opener() as stream:
        text = _text(stream, encoding)
        try:
            reader = csv.reader(text, delimiter=delimiter or ",")
            for number, record in enumerate(reader, start=1):
                yield number, list(record)
        except csv.Error as error:
            raise ImportFileError(
                _("The file is not a readable CSV file: %(reason)s") % {"reason": error}
            ) from error
        finally:
            text.detach()


def _first_line(opener: Opener, encoding: str) -> str:
    with opener() as stream:
        text = _text(stream, encoding)
        try:
            return text.readline(1 << 20)
        finally:
            text.detach()


# --- workbooks -------------------------------------------------------------------------------


def _workbook_records(opener: Opener) -> Iterator[Row]:
    from python_calamine import CalamineError, CalamineWorkbook

    with opener() as stream:
        try:
            sheet = CalamineWorkbook.from_filelike(stream).get_sheet_by_index(0)
            rows = sheet.iter_rows()
        except (CalamineError, ValueError, OSError) as error:
            raise ImportFileError(
                _("The workbook cannot be read. Save it again as .xlsx and try again.")
            ) from error
        for index, row in enumerate(rows):
            yield index + 1, [cell_value(cell) for cell in row]


# --- vCard -----------------------------------------------------------------------------------


def _vcard_records(opener: Opener, encoding: str) -> Iterator[Row]:
    from guanxi.customers.vcard import VCARD_COLUMNS, VCardError, card_to_row, split_cards

    yield 0, list(VCARD_COLUMNS)  # the implicit header: the columns are the target fields
    with opener() as stream:
        text = _text(stream, encoding)
        try:
            for number, card in split_cards(text):
                try:
                    yield number, card_to_row(card)
                except VCardError as error:
                    yield number, [BadRow(error.message)]
        finally:
            text.detach()


# --- the one entry point ---------------------------------------------------------------------


def records(opener: Opener, shape: FileShape) -> Iterator[Row]:
    """Every record of the file, header included, as (row number, cells)."""
    if shape.format == "xlsx":
        return _workbook_records(opener)
    if shape.format == "vcf":
        return _vcard_records(opener, shape.encoding)
    return _csv_records(opener, shape.encoding, shape.delimiter)


def data_rows(opener: Opener, shape: FileShape, *, after: int = 0) -> Iterator[Row]:
    """The non-blank rows after the header whose number is greater than `after`."""
    seen_header = False
    for number, cells in records(opener, shape):
        if not seen_header:
            seen_header = not is_blank(cells)
            continue
        if number <= after or is_blank(cells):
            continue
        yield number, cells


def sniff(opener: Opener, name: str) -> FileShape:
    """Format, encoding, delimiter and header of a file; ImportFileError if it holds no rows."""
    with opener() as stream:
        head = stream.read(64)
        if not head:
            raise ImportFileError(_("The file is empty."))
        stream.seek(0)
        shape = FileShape(format=sniff_format(head, name))
        if shape.format != "xlsx":
            shape.encoding = detect_encoding(stream)
    if shape.format == "csv":
        shape.delimiter = sniff_delimiter(_first_line(opener, shape.encoding))
    header: list[Any] | None = None
    for _number, cells in records(opener, shape):
        if header is None:
            if not is_blank(cells):
                header = cells
            continue
        if not is_blank(cells):
            break
    else:
        if header is None:
            raise ImportFileError(_("The file is empty."))
        raise ImportFileError(_("The file has a header row but no data rows."))
    shape.headers = [str(cell).strip() for cell in header]
    return shape
