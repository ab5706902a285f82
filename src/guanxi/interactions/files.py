"""Attachment checks: which file types an interaction may carry, proved by their first bytes.

A file passes only when its extension is allowed *and* its content looks like that type, so
an executable renamed to .pdf is refused. The signature table is ours: python-magic needs
the libmagic C library (absent on some intranet hosts), and the allowed list is short enough
that a dozen byte patterns plus a look inside Office zip files cover it.
"""

from __future__ import annotations

import codecs
import hashlib
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Protocol

from django.core.files.uploadedfile import UploadedFile
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

HEAD_BYTES = 8192


def _starts(*prefixes: bytes) -> Callable[[bytes, IO[bytes]], bool]:
    return lambda head, _file: head.startswith(prefixes)


def _riff(kind: bytes) -> Callable[[bytes, IO[bytes]], bool]:
    return lambda head, _file: head[:4] == b"RIFF" and head[8:12] == kind


def _mp3(head: bytes, _file: IO[bytes]) -> bool:
    if head.startswith(b"ID3"):
        return True
    return len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0


def _m4a(head: bytes, _file: IO[bytes]) -> bool:
    return head[4:8] == b"ftyp"


def _text(head: bytes, _file: IO[bytes]) -> bool:
    """Plain text in UTF-8 or GB18030: no NUL bytes, decodes (a cut last character is fine)."""
    if b"\x00" in head or head.startswith(b"MZ"):
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return True
    return False


def _office(folder: str) -> Callable[[bytes, IO[bytes]], bool]:
    """An Office Open XML file: a zip with [Content_Types].xml and the type's folder."""

    def check(head: bytes, file: IO[bytes]) -> bool:
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            return False
        finally:
            file.seek(0)
        return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)

    return check


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls and Outlook .msg


@dataclass(frozen=True)
class FileType:
    content_type: str
    matches: Callable[[bytes, IO[bytes]], bool]


FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("application/pdf", _starts(b"%PDF-")),
    "png": FileType("image/png", _starts(b"\x89PNG\r\n\x1a\n")),
    "jpg": FileType("image/jpeg", _starts(b"\xff\xd8\xff")),
    "jpeg": FileType("image/jpeg", _starts(b"\xff\xd8\xff")),
    "gif": FileType("image/gif", _starts(b"GIF87a", b"GIF89a")),
    "webp": FileType("image/webp", _riff(b"WEBP")),
    "txt": FileType("text/plain", _text),
    "csv": FileType("text/csv", _text),
    "eml": FileType("message/rfc822", _text),
    "docx": FileType(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _office("word/"),
    ),
    "xlsx": FileType(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _office("xl/")
    ),
    "pptx": FileType(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _office("ppt/"),
    ),
    "doc": FileType("application/msword", _starts(OLE2)),
    "xls": FileType("application/vnd.ms-excel", _starts(OLE2)),
    "msg": FileType("application/vnd.ms-outlook", _starts(OLE2)),
    "mp3": FileType("audio/mpeg", _mp3),
    "m4a": FileType("audio/mp4", _m4a),
    "wav": FileType("audio/wav", _riff(b"WAVE")),
    "amr": FileType("audio/amr", _starts(b"#!AMR")),
}


def extension_of(name: str) -> str:
    """The lower-case extension without its dot ("" when there is none)."""
    _stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot else ""


def sniff(name: str, file: IO[bytes]) -> FileType | None:
    """The allowed type of the file when its extension and its content agree, else None.

    Leaves the file positioned at its start.
    """
    file_type = FILE_TYPES.get(extension_of(name))
    if file_type is None:
        return None
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    return file_type if head and file_type.matches(head, file) else None


class StoredFile(Protocol):
    """What a download needs of a stored upload (an interaction's or a ticket's attachment)."""

    @property
    def file(self) -> FieldFile: ...

    @property
    def original_name(self) -> str: ...

    @property
    def content_type(self) -> str: ...


def download_response(attachment: StoredFile) -> FileResponse:
    """The stored file as a download under its original name, never rendered inline.

    A file missing from storage (removed by hand, a lost volume) is Http404, not a crash.
    """
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@dataclass
class Upload:
    """An uploaded file that passed the checks, read once: name, size, type and digest."""

    file: UploadedFile
    name: str
    size: int
    content_type: str
    sha256: str


def check_uploads(
    files: Sequence[UploadedFile], limit: int
) -> tuple[list[Upload], list[dict[str, str]]]:
    """Check each file once — not empty, at most ``limit`` bytes, a type allowed by extension
    and by content — and take its digest. Returns the good files and one error per bad one."""
    errors: list[dict[str, str]] = []
    uploads = []
    for file in files:
        name = (file.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:255]
        size = file.size or 0
        if size == 0:
            errors.append({"field": "files", "message": _("%(name)s is empty.") % {"name": name}})
            continue
        if size > limit:
            message = _("%(name)s is larger than %(limit)s.") % {
                "name": name,
                "limit": filesizeformat(limit),
            }
            errors.append({"field": "files", "message": message})
            continue
        file_type = sniff(name, file)
        if file_type is None:
            message = _("%(name)s is not a file type that can be attached.") % {"name": name}
            errors.append({"field": "files", "message": message})
            continue
        digest = hashlib.sha256()
        for chunk in file.chunks():
            digest.update(chunk)
        file.seek(0)
        uploads.append(Upload(file, name, size, file_type.content_type, digest.hexdigest()))
    return uploads, errors
