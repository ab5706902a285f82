"""The shortcuts bulk imports take must give exactly what the general code gives."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from guanxi.core import crypto


def parsed(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalised(text: str) -> str | None:
    try:
        return crypto.normalise_phone(text)
    except ValueError:
        return None


def test_chinese_mobile_numbers_normalise_exactly_as_phonenumbers_parses_them() -> None:
    rng = random.Random(7)
    shapes = [
        "{0}",
        "+86{0}",
        "+86 {0}",
        "{1} {2} {3}",
        "+86-{1}-{2}-{3}",
    ]
    # Every 4-digit prefix from 1000 to 1999 (valid or not), three random numbers each.
    numbers = [f"{prefix}{rng.randrange(10**7):07d}" for prefix in range(1000, 2000) for _ in "abc"]
    texts = [
        rng.choice(shapes).format(number, number[:3], number[3:7], number[7:]) for number in numbers
    ]

    assert [normalised(text) for text in texts] == [parsed(text) for text in texts]


@pytest.mark.parametrize("value", ["+86 138 1234 5678", "13812345678", "+8613812345678"])
def test_the_shortcut_and_phone_last4_agree(value: str) -> None:
    assert crypto.normalise_phone(value) == "+8613812345678"
    assert crypto.phone_last4(value) == "5678"


def test_a_blind_index_is_a_keyed_sha256_cut_to_32_hex_digits() -> None:
    import hashlib
    import hmac

    key = crypto.get_keyring().index_key
    expected = hmac.new(key, b"email\x00a@example.com", hashlib.sha256).hexdigest()[:32]

    assert crypto.blind_index("a@example.com", kind="email") == expected
