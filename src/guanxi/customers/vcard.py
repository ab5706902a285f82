"""vCard 3.0 and 4.0 for individual customers: cards into import rows, customers into cards.

Reading splits the stream card by card and parses each with vobject, so one broken card is
one refused row and a large address book is never held in memory. Each card becomes a row
of VCARD_COLUMNS, which the import job maps one to one onto customer fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import vobject
from django.utils.translation import gettext as _

from guanxi.core.errors import DomainError
from guanxi.customers.models import Customer, CustomerKind
from guanxi.customers.normalise import has_cjk

VCARD_COLUMNS = (
    "kind",
    "name",
    "phone",
    "email",
    "region",
    "city",
    "birthday",
    "occupation",
    "notes",
    "more_phones",
    "more_emails",
    "addresses",
)
# Columns of a card beyond the customer's fields: its other phones and emails (one a line),
# which become methods of a contact standing for the person, and every postal address, as
# JSON (kind, street, city, region, postal code, country), which become Address rows.
CARD_EXTRAS = ("more_phones", "more_emails", "addresses")
ADDRESS_KINDS = {"home": "home", "work": "office", "dom": "other", "intl": "other"}
VERSIONS = ("3.0", "4.0")
MAX_CARD_LINES = 5000
COMPOUND_SURNAMES = frozenset(
    ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "司徒", "令狐",
     "夏侯", "宇文", "端木", "轩辕", "西门", "南宫", "独孤", "澹台")
)  # fmt: skip


class VCardError(DomainError):
    code = "bad-vcard"


# --- reading ---------------------------------------------------------------------------------


def split_cards(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(card number from 1, text of the card) for each BEGIN:VCARD … END:VCARD block."""
    number = 0
    current: list[str] | None = None
    for line in lines:
        marker = line.strip().upper()
        if marker == "BEGIN:VCARD":
            if current is not None:  # an unterminated card: hand it on, the parser refuses it
                number += 1
                yield number, "".join(current)
            current = [line]
        elif current is not None:
            current.append(line)
            if marker == "END:VCARD" or len(current) > MAX_CARD_LINES:
                number += 1
                yield number, "".join(current)
                current = None
    if current is not None:
        number += 1
        yield number, "".join(current)


def _values(card: Any, name: str) -> list[Any]:
    return list(card.contents.get(name, []))


def _params(line: Any) -> set[str]:
    types = line.params.get("TYPE", [])
    return {part.strip().lower() for value in types for part in str(value).split(",")}


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(_text(item) for item in value if item)
    return str(value or "").strip()


def _preferred(lines: list[Any], *kinds: str) -> Any:
    for kind in kinds:
        for line in lines:
            if kind in _params(line):
                return line
    return lines[0] if lines else None


def _birthday(raw: str) -> str:
    text = raw.strip()
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    if re.match(r"\d{4}-\d{2}-\d{2}", text):
        return text[:10]
    return "" if text.startswith("--") else text  # a birthday without a year is no date


def _name(card: Any) -> str:
    full = _text(card.fn.value) if "fn" in card.contents else ""
    if full or "n" not in card.contents:
        return full
    value = card.n.value
    family = _text(getattr(value, "family", ""))
    given = _text(getattr(value, "given", ""))
    if has_cjk(family + given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def _addresses(lines: list[Any]) -> str:
    """Every ADR with a street, as JSON for the importer ("" when there is none)."""
    found = []
    for line in lines:
        value = line.value
        if isinstance(value, str):
            parts = [*value.split(";"), "", "", "", "", "", "", ""]
            street, city, region, code, country = parts[2], parts[3], parts[4], parts[5], parts[6]
        else:
            street, city, region = _text(value.street), _text(value.city), _text(value.region)
            code, country = _text(value.code), _text(value.country)
        if not street:
            continue  # region and city alone are the customer's own fields
        types = _params(line)
        kind = next((ADDRESS_KINDS[t] for t in ("home", "work") if t in types), "other")
        found.append(
            {
                "kind": kind,
                "street": street,
                "city": city[:50],
                "region": region[:50],
                "postal_code": code[:12],
                "country": country[:2] if len(country) == 2 else "CN",
            }
        )
    return json.dumps(found, ensure_ascii=False) if found else ""


def card_to_row(text: str) -> list[Any]:
    """One card as a row of VCARD_COLUMNS; VCardError when the card cannot be parsed."""
    try:
        card = vobject.readOne(text, ignoreUnreadable=True)
    except Exception as error:  # vobject raises ParseError and assorted ValueErrors
        raise VCardError(_("This vCard cannot be read.")) from error
    try:
        phone = _preferred(_values(card, "tel"), "cell", "mobile", "pref")
        email = _preferred(_values(card, "email"), "pref", "internet")
        address = _preferred(_values(card, "adr"), "pref", "home", "work")
        region = city = ""
        if address is not None:
            value = address.value
            if isinstance(value, str):
                parts = [*value.split(";"), "", "", "", "", "", ""]
                city, region = parts[3], parts[4]
            else:
                city, region = _text(value.city), _text(value.region)
        occupation = ""
        for key in ("title", "role"):
            if not occupation and key in card.contents:
                occupation = _text(card.contents[key][0].value)
        notes = [_text(line.value) for line in _values(card, "note")]
        organisations = [_text(line.value) for line in _values(card, "org")]
        if any(organisations):
            notes.append(f"{_('Organisation')}: {'; '.join(o for o in organisations if o)}")
        birthday = _birthday(_text(card.bday.value)) if "bday" in card.contents else ""
    except (AttributeError, IndexError, TypeError, ValueError) as error:
        raise VCardError(_("This vCard cannot be read.")) from error
    phone_text = _text(phone.value) if phone is not None else ""
    email_text = _text(email.value).removeprefix("mailto:") if email is not None else ""
    more_phones = [
        _text(line.value).removeprefix("tel:") for line in _values(card, "tel") if line is not phone
    ]
    more_emails = [
        _text(line.value).removeprefix("mailto:")
        for line in _values(card, "email")
        if line is not email
    ]
    values = {
        "kind": CustomerKind.PERSON.value,
        "name": _name(card),
        "phone": phone_text.removeprefix("tel:"),
        "email": email_text,
        "region": region,
        "city": city,
        "birthday": birthday,
        "occupation": occupation,
        "notes": "\n".join(note for note in notes if note),
        "more_phones": "\n".join(value for value in more_phones if value),
        "more_emails": "\n".join(value for value in more_emails if value),
        "addresses": _addresses(_values(card, "adr")),
    }
    return [values[column] for column in VCARD_COLUMNS]


# --- writing ---------------------------------------------------------------------------------


def _split_name(name: str) -> tuple[str, str]:
    """(family, given) — a Chinese name starts with its surname, a Latin one ends with it."""
    name = name.strip()
    if has_cjk(name):
        cut = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[:cut], name[cut:]
    given, _space, family = name.rpartition(" ")
    return (family, given) if given else (name, "")


@dataclass(frozen=True)
class CardAddress:
    """One postal address of a card (street already masked or not by the caller)."""

    kind: str = "other"  # an AddressKind value
    street: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""


# Address kinds as vCard TYPE values, and back.
ADDRESS_TYPES = {"home": "home", "office": "work", "billing": "work", "shipping": "home"}


def _type(version: str, *names: str) -> list[str]:
    # 3.0 writes TYPE values in capitals by custom; 4.0 in lower case (RFC 6350).
    return [name.upper() if version == "3.0" else name.lower() for name in names if name]


def customer_vcard(
    customer: Customer,
    *,
    version: str = "3.0",
    phone: str = "",
    email: str = "",
    phones: Iterable[tuple[str, str]] = (),
    emails: Iterable[tuple[str, str]] = (),
    addresses: Iterable[CardAddress] = (),
) -> str:
    """The vCard of one customer. Values are passed in, already masked or not: `phone` and
    `email` are the customer's own (written first, preferred), `phones`/`emails` more
    (value, label) pairs (the contacts' methods), `addresses` every postal address — without
    any, the customer's region and city make one."""
    card = vobject.vCard()
    card.add("version").value = version
    card.add("fn").value = customer.name
    family, given = _split_name(customer.name)
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    all_phones = [(phone, "cell")] if phone else []
    all_phones += [(value, label) for value, label in phones if value and value != phone]
    for index, (number, label) in enumerate(all_phones):
        line = card.add("tel")
        if version == "4.0" and "*" not in number:
            line.value = f"tel:{number}"
            line.params["VALUE"] = ["uri"]
        else:
            line.value = number
        kind = "cell" if label == "cell" or (index == 0 and phone) else "voice"
        line.params["TYPE"] = _type(version, kind)
        if index == 0 and version == "4.0":
            line.params["PREF"] = ["1"]
    all_emails = [email] if email else []
    all_emails += [value for value, _label in emails if value and value != email]
    for index, address in enumerate(all_emails):
        line = card.add("email")
        line.value = address
        if index == 0 and version == "4.0":
            line.params["PREF"] = ["1"]
    postal = list(addresses)
    if not postal and (customer.region or customer.city):
        postal = [CardAddress(region=customer.region, city=customer.city)]
    for item in postal:
        line = card.add("adr")
        line.value = vobject.vcard.Address(
            street=item.street,
            city=item.city,
            region=item.region,
            code=item.postal_code,
            country=item.country,
        )
        kind = ADDRESS_TYPES.get(item.kind, "")
        if kind:
            line.params["TYPE"] = _type(version, kind)
    if customer.birthday:
        card.add("bday").value = (
            customer.birthday.strftime("%Y%m%d")
            if version == "4.0"
            else customer.birthday.isoformat()
        )
    if customer.occupation:
        card.add("title").value = customer.occupation
    if customer.notes:
        card.add("note").value = customer.notes
    if customer.code:
        card.add("uid").value = f"urn:guanxi:customer:{customer.code}"
    return str(card.serialize())
