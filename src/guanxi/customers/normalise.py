"""Pure functions that turn raw customer input into stored values, with no database access.

Both the single-record services and the bulk importer use them, so a row imported from a
spreadsheet is validated exactly like one typed into the form.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from guanxi.core import crypto

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


class FieldError(ValueError):
    """One field's value is not acceptable; `message` is shown to the user."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def has_cjk(text: str) -> bool:
    return CJK.search(text) is not None


# Names repeat (Chinese ones especially: a few thousand surnames and given names cover most
# people), so an import computes each name's pinyin and keys once.
NAME_CACHE = 65536


@lru_cache(maxsize=NAME_CACHE)
def name_keys(name: str) -> tuple[str, str]:
    """Full pinyin and initials of the Chinese characters in a name ("张三" → zhangsan, zs)."""
    if not has_cjk(name):
        return "", ""
    syllables = [s for s in lazy_pinyin(name, errors="ignore") if s.strip()]
    initials = [s for s in lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore") if s]
    return "".join(syllables).lower()[:400], "".join(initials).lower()[:100]


LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团",
    "公司",
    "co ltd",
    "co",
    "ltd",
    "limited",
    "inc",
    "llc",
    "gmbh",
    "ag",
    "corp",
    "corporation",
    "plc",
)
PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


@lru_cache(maxsize=NAME_CACHE)
def name_key(name: str) -> str:
    """The name folded for duplicate checks: "Acme Trading Co., Ltd." → "acmetrading"."""
    words = PUNCTUATION.sub(" ", name.casefold()).strip()
    changed = True
    while changed and words:
        changed = False
        for suffix in LEGAL_SUFFIXES:
            if words.endswith(suffix) and len(words) > len(suffix):
                words = words[: -len(suffix)].strip()
                changed = True
    return words.replace(" ", "")[:200]


def search_tokens(name: str) -> set[str]:
    """Every single CJK character and every pair of neighbouring ones in the name."""
    return set(sorted_search_tokens(name))


@lru_cache(maxsize=NAME_CACHE)
def sorted_search_tokens(name: str) -> tuple[str, ...]:
    """`search_tokens` in order, as an immutable tuple (cached: for bulk writes)."""
    tokens: set[str] = set()
    for run in CJK.findall(name):
        tokens.update(run)
        tokens.update(run[index : index + 2] for index in range(len(run) - 1))
    return tuple(sorted(tokens))


def query_tokens(term: str) -> list[str] | None:
    """The tokens a CJK search term must all match, or None when the term is not all CJK."""
    term = term.strip()
    if not term or CJK.fullmatch(term) is None:
        return None
    if len(term) == 1:
        return [term]
    return sorted({term[index : index + 2] for index in range(len(term) - 1)})


def clean_phone(value: str, field: str = "phone") -> tuple[str, str, str]:
    """(E.164 number, blind index, last four digits) or FieldError."""
    value = value.strip()
    if not value:
        return "", "", ""
    try:
        normalised = crypto.normalise_phone(value)
    except ValueError as error:
        raise FieldError(
            field, _("“%(value)s” is not a valid phone number.") % {"value": value}
        ) from error
    # The last four digits of E.164 are those of the number (crypto.phone_last4 parses again).
    return normalised, crypto.blind_index(normalised, kind="phone"), normalised[-4:]


def clean_email(value: str, field: str = "email") -> tuple[str, str]:
    value = value.strip()
    if not value:
        return "", ""
    try:
        normalised = crypto.normalise_email(value)
    except ValueError as error:
        raise FieldError(
            field, _("“%(value)s” is not a valid email address.") % {"value": value}
        ) from error
    return normalised, crypto.blind_index(normalised, kind="email")


def clean_id_number(value: str, field: str = "id_number") -> tuple[str, str, dt.date | None]:
    """A Chinese resident ID number checked by its checksum: (number, index, birth date)."""
    value = value.strip().upper()
    if not value:
        return "", "", None
    try:
        number = ric.validate(value)
        birthday = ric.get_birth_date(number)
    except StdnumError as error:
        raise FieldError(field, _("The ID number is not valid (check digit or date).")) from error
    normalised = crypto.normalise_id_number(number)
    return normalised, crypto.blind_index(normalised, kind="id_number"), birthday


def clean_credit_code(value: str, field: str = "credit_code") -> str:
    value = value.strip().upper()
    if not value:
        return ""
    try:
        return str(uscc.validate(value))
    except StdnumError as error:
        raise FieldError(
            field, _("The unified social credit code is not valid (check digit).")
        ) from error


def clean_website(value: str, field: str = "website") -> str:
    value = value.strip()
    if not value:
        return ""
    if "://" not in value:
        value = f"https://{value}"
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError as error:
        raise FieldError(field, _("Enter a valid web address.")) from error
    return value


def clean_date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007  (a date, no zone)
        except ValueError:
            continue
    raise FieldError(field, _("Enter a valid date (YYYY-MM-DD)."))


def clean_custom_value(definition: Any, value: Any) -> Any:
    """Validate one custom-field value against its definition; None means empty."""
    field = f"custom.{definition.key}"
    if value in (None, "", []):
        if definition.is_required:
            raise FieldError(field, _("This field is required."))
        return None
    kind = definition.field_type
    try:
        if kind == "text":
            return str(value).strip()[:2000]
        if kind == "number":
            if isinstance(value, bool):
                raise ValueError
            number = Decimal(str(value).strip())
            if number != number.to_integral_value():
                raise ValueError
            return int(number)
        if kind == "decimal":
            if isinstance(value, bool):
                raise ValueError
            return str(Decimal(str(value).strip()))
        if kind == "date":
            parsed = clean_date(value, field)
            return parsed.isoformat() if parsed else None
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "y", "是", "对"}:
                return True
            if text in {"0", "false", "no", "n", "否", "不"}:
                return False
            raise ValueError
        allowed = [str(choice) for choice in definition.choices]
        if kind == "choice":
            if str(value).strip() not in allowed:
                raise FieldError(
                    field, _("Choose one of: %(choices)s") % {"choices": ", ".join(allowed)}
                )
            return str(value).strip()
        if kind == "multi_choice":
            values = value if isinstance(value, list) else re.split(r"[;,，；|]", str(value))
            picked = [str(item).strip() for item in values if str(item).strip()]
            unknown = [item for item in picked if item not in allowed]
            if unknown:
                raise FieldError(
                    field, _("Choose from: %(choices)s") % {"choices": ", ".join(allowed)}
                )
            return picked
    except (InvalidOperation, ValueError, TypeError) as error:
        if isinstance(error, FieldError):
            raise
        messages = {
            "number": _("Enter a whole number."),
            "decimal": _("Enter a number."),
            "boolean": _("Enter yes or no."),
        }
        raise FieldError(field, messages.get(kind, _("Enter a valid value."))) from error
    raise FieldError(field, _("Enter a valid value."))
