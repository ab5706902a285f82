"""Parsing and checking of the plain values that commerce commands receive from forms, the
API and spreadsheets: amounts, quantities, dates, choices. Each check appends its errors
(field and translated message) instead of raising, so a command reports all at once."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError

CENT = Decimal("0.01")
MAX_MONEY = Decimal("999999999999.99")  # 14 digits, 2 places
MAX_BALANCE = Decimal("99999999999999.99")  # 16 digits, 2 places
MAX_QUANTITY = Decimal("999999999.999")  # 12 digits, 3 places
CURRENCY = re.compile(r"^[A-Z]{3}$")
FUTURE_TOLERANCE = dt.timedelta(days=1)

Fail = Callable[[str, str], None]


class Errors:
    """The field errors of one command; `fail` is what the checks call."""

    def __init__(self, prefix: str = "") -> None:
        self.items: list[dict[str, str]] = []
        self.prefix = prefix

    def fail(self, field: str, message: str) -> None:
        self.items.append({"field": f"{self.prefix}{field}", "message": message})

    def has(self, field: str) -> bool:
        return any(item["field"] == f"{self.prefix}{field}" for item in self.items)

    def raise_any(self) -> None:
        if self.items:
            raise DomainError(self.items[0]["message"], errors=self.items)


def blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_decimal(raw: Any) -> Decimal:
    """A finite decimal from a number or text ("1,234.50", "¥88"); ValueError otherwise."""
    if isinstance(raw, bool):
        raise ValueError(raw)
    if isinstance(raw, Decimal):
        number = raw
    elif isinstance(raw, int):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(str(raw))
    elif isinstance(raw, str):
        text = raw.strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
        try:
            number = Decimal(text)
        except InvalidOperation as error:
            raise ValueError(raw) from error
    else:
        raise ValueError(raw)
    if not number.is_finite():
        raise ValueError(raw)
    return number


def _places_ok(number: Decimal, places: int) -> bool:
    step = Decimal(1).scaleb(-places)
    return number == number.quantize(step)


def amount(
    raw: Any,
    field: str,
    fail: Fail,
    *,
    positive: bool = False,
    maximum: Decimal = MAX_MONEY,
) -> Decimal | None:
    """A sum of money with at most two decimal places, ≥ 0 (> 0 when `positive`)."""
    if blank(raw):
        fail(field, _("This field is required."))
        return None
    try:
        number = parse_decimal(raw)
    except ValueError:
        fail(field, _("Enter a number."))
        return None
    if abs(number) > maximum:
        fail(field, _("This value is too large."))
        return None
    if not _places_ok(number, 2):
        fail(field, _("Enter an amount with at most two decimal places."))
        return None
    if positive and number <= 0:
        fail(field, _("Enter an amount greater than zero."))
        return None
    if number < 0:
        fail(field, _("The amount cannot be negative."))
        return None
    return number.quantize(CENT)


def quantity(raw: Any, field: str, fail: Fail) -> Decimal | None:
    """A quantity greater than zero with at most three decimal places."""
    if blank(raw):
        fail(field, _("This field is required."))
        return None
    try:
        number = parse_decimal(raw)
    except ValueError:
        fail(field, _("Enter a number."))
        return None
    if abs(number) > MAX_QUANTITY:
        fail(field, _("This value is too large."))
        return None
    if not _places_ok(number, 3):
        fail(field, _("Enter a quantity with at most three decimal places."))
        return None
    if number <= 0:
        fail(field, _("The quantity must be greater than zero."))
        return None
    return number.quantize(Decimal("0.001"))


def money(value: Decimal) -> Decimal:
    """Round to cents, halves away from zero (the usual rule on a Chinese fapiao)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def choice(raw: Any, choices: Any, field: str, fail: Fail) -> str | None:
    """One of a TextChoices' values (or its label in the active language), else an error."""
    text = "" if raw is None else str(raw).strip()
    if text in choices.values:
        return text
    labels = {str(label).lower(): value for value, label in choices.choices}
    if text.lower() in labels:
        return str(labels[text.lower()])
    fail(field, _("Choose one of the allowed values."))
    return None


def currency(raw: Any, field: str, fail: Fail) -> str | None:
    text = str(raw or "").strip().upper()
    if CURRENCY.match(text):
        return text
    fail(field, _("Enter a three-letter currency code such as CNY."))
    return None


def text(raw: Any, field: str, fail: Fail, *, limit: int) -> str | None:
    value = str(raw or "").strip()
    if len(value) > limit:
        fail(field, _("This value is too long."))
        return None
    return value


def date(raw: Any, field: str, fail: Fail) -> dt.date | None:
    """A date from a date, a datetime (its local day) or ISO text; an error otherwise."""
    if isinstance(raw, dt.datetime):
        return timezone.localdate(raw) if timezone.is_aware(raw) else raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, str):
        value = raw.strip()
        try:
            parsed = parse_date(value)
            if parsed is None and (stamp := parse_datetime(value)) is not None:
                parsed = timezone.localdate(stamp) if timezone.is_aware(stamp) else stamp.date()
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    fail(field, _("Enter a valid date."))
    return None


def moment(raw: Any, field: str, fail: Fail) -> dt.datetime | None:
    """An aware datetime; a bare date means the start of that local day."""
    parsed: dt.datetime | None = None
    if isinstance(raw, dt.datetime):
        parsed = raw
    elif isinstance(raw, dt.date):
        parsed = dt.datetime.combine(raw, dt.time())
    elif isinstance(raw, str):
        value = raw.strip()
        try:
            parsed = parse_datetime(value)
            if parsed is None and (day := parse_date(value)) is not None:
                parsed = dt.datetime.combine(day, dt.time())
        except ValueError:
            parsed = None
    if parsed is None:
        fail(field, _("Enter a valid date and time."))
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def not_in_future(value: dt.datetime, field: str, fail: Fail, message: str) -> bool:
    if value > timezone.now() + FUTURE_TOLERANCE:
        fail(field, message)
        return False
    return True
