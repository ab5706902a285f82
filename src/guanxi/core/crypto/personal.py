"""Normalising personal data before indexing it, and masking it for users without reveal."""

from __future__ import annotations

import re
from collections.abc import Callable

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

# --- normalisers -------------------------------------------------------------------------------


# A Chinese mobile number as people write it: 11 digits from 13x to 19x, maybe after +86 and
# in groups of 3-4-4. For these `phonenumbers.parse(text, "CN")` strips nothing (no carrier or
# international prefix starts with 13-19 other than 179, left out) and yields country code 86
# with the 11 digits as national number, so the number is built directly: parsing costs 3x
# the validity check, and imports check hundreds of thousands of numbers.
CN_MOBILE = re.compile(r"(?:\+86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})")


def _cn_mobile(text: str) -> str:
    """E.164 of a valid Chinese mobile number in the usual shape, else "" (parse it fully)."""
    match = CN_MOBILE.fullmatch(text)
    if match is None:
        return ""
    digits = "".join(match.groups())
    if digits.startswith("179"):
        return ""
    number = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
    return f"+86{digits}" if phonenumbers.is_valid_number(number) else ""


def normalise_phone(value: str, region: str = "CN") -> str:
    """The number in E.164 ("+8613812345678"); ValueError if it is not a valid number."""
    text = value.strip()
    if not text:
        return ""
    if region == "CN" and (fast := _cn_mobile(text)):
        return fast
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise ValueError(_("“%(value)s” is not a phone number.") % {"value": text}) from error
    if not phonenumbers.is_valid_number(number):
        raise ValueError(_("“%(value)s” is not a valid phone number.") % {"value": text})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_last4(value: str, region: str = "CN") -> str:
    """The last four digits of the normalised number, for "ends in 5678" searches."""
    return normalise_phone(value, region)[-4:]


def normalise_email(value: str) -> str:
    """The address stripped and lower-cased; ValueError if it is not an email address."""
    text = value.strip().lower()
    if not text:
        return ""
    try:
        validate_email(text)
    except ValidationError as error:
        message = _("“%(value)s” is not a valid email address.") % {"value": text}
        raise ValueError(message) from error
    return text


def normalise_id_number(value: str) -> str:
    """An identity document number stripped and upper-cased (the check digit X)."""
    return value.strip().upper()


# --- masks ---------------------------------------------------------------------------------------


def _keep_ends(digits: str, head: int, tail: int) -> str:
    if len(digits) >= head + tail + 3:
        return f"{digits[:head]}****{digits[-tail:]}"
    shown = len(digits) // 2  # short values: never show more than half
    return f"****{digits[-shown:]}" if shown else "****"


def mask_phone(value: str, region: str = "CN") -> str:
    """As 138****5678: the national number's first 3 and last 4 digits (short: half at most)."""
    if not value:
        return ""
    try:
        national = phonenumbers.national_significant_number(phonenumbers.parse(value, region))
    except phonenumbers.NumberParseException:
        national = "".join(char for char in value if char.isdigit())
    return _keep_ends(national, 3, 4)


def mask_email(value: str) -> str:
    """As z***@example.com: the first character of the local part, and the domain."""
    if not value:
        return ""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return f"{text[:1]}***"
    return f"{local[:1]}***@{domain}"


def mask_id_number(value: str) -> str:
    """As 1101**********4258: the first and last 4 characters, one star for each other."""
    if not value:
        return ""
    text = value.strip()
    if len(text) <= 8:
        shown = len(text) // 4
        return "*" * (len(text) - shown) + text[len(text) - shown :]
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_bank_account(value: str) -> str:
    """As **** **** **** 0123: the last 4 digits only."""
    if not value:
        return ""
    digits = "".join(char for char in value if char.isalnum())
    return f"**** **** **** {digits[-4:]}" if len(digits) > 8 else "****"


def mask_address(value: str) -> str:
    """As 上海市浦东新区****: the first 7 characters (region and district), at most half."""
    if not value:
        return ""
    text = value.strip()
    return f"{text[: min(7, len(text) // 2)]}****"


MASKS: dict[str, Callable[[str], str]] = {
    "phone": mask_phone,
    "email": mask_email,
    "id_number": mask_id_number,
    "bank_account": mask_bank_account,
    "address": mask_address,
}


def mask(kind: str, value: str) -> str:
    """The masked form of a value of one of the personal-data kinds in MASKS."""
    try:
        masker = MASKS[kind]
    except KeyError:
        raise ValueError(f"no mask for {kind!r}; one of {sorted(MASKS)}") from None
    return masker(value)
