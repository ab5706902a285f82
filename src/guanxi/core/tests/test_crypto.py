from __future__ import annotations

import base64
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import serializers
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db.models import ExpressionWrapper, F, TextField
from tests.scopeapp.models import Record

from guanxi import cli
from guanxi.core import crypto
from guanxi.core.crypto.keyring import _write_new_file
from guanxi.core.models import RotationCheckpoint

PHONE = "customers.customer.phone"


def _env_key(key_id: str, fill: int) -> str:
    return f"{key_id}:{base64.b64encode(bytes([fill]) * 32).decode()}"


def _raw_secrets() -> list[str]:
    """The stored column as it is, without the field's decryption."""
    raw = ExpressionWrapper(F("secret"), output_field=TextField())
    return list(Record.objects.order_by("pk").annotate(raw=raw).values_list("raw", flat=True))


def _key_ids(tokens: list[str]) -> set[str]:
    return {token.split(":")[1] for token in tokens}


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test gets its own key file in a fresh VAR_DIR and no keys in the environment."""
    monkeypatch.delenv("GUANXI_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("GUANXI_BLIND_INDEX_KEY", raising=False)
    settings.VAR_DIR = tmp_path
    crypto.reset_keyring()
    yield tmp_path
    crypto.reset_keyring()


# --- tokens ------------------------------------------------------------------------------------


def test_a_value_round_trips_through_encrypt_and_decrypt() -> None:
    token = crypto.encrypt("13812345678", context=PHONE)

    assert crypto.decrypt(token, context=PHONE) == "13812345678"


def test_a_token_names_the_version_and_primary_key_and_never_repeats() -> None:
    first = crypto.encrypt("张伟", context=PHONE)
    second = crypto.encrypt("张伟", context=PHONE)

    assert first.split(":")[:2] == ["g1", crypto.get_keyring().primary_id]
    assert first != second
    assert "张伟" not in first


def test_the_empty_string_stays_empty() -> None:
    assert (crypto.encrypt(""), crypto.decrypt("")) == ("", "")


def test_a_tampered_token_does_not_decrypt() -> None:
    token = crypto.encrypt("13812345678", context=PHONE)
    prefix, payload = token.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-1] ^= 1
    tampered = f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, context=PHONE)


def test_a_token_moved_to_another_field_does_not_decrypt() -> None:
    token = crypto.encrypt("13812345678", context=PHONE)

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="customers.customer.email")


def test_a_token_under_an_unknown_key_does_not_decrypt() -> None:
    token = crypto.encrypt("13812345678")
    foreign = "g1:elsewhere:" + token.split(":", 2)[2]

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(foreign)


@pytest.mark.parametrize("token", ["plain text", "g1:", "g1:k1:", "g1:k1:!!!", "g2:k1:AAAA"])
def test_a_malformed_token_raises_decryption_error(token: str) -> None:
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_decryption_error_is_a_value_error() -> None:
    assert issubclass(crypto.DecryptionError, ValueError)


# --- the keyring -------------------------------------------------------------------------------


def test_the_key_file_is_created_on_first_use_readable_by_its_owner_only(key_dir: Path) -> None:
    crypto.encrypt("x")

    mode = stat.S_IMODE((key_dir / "encryption-keys.json").stat().st_mode)
    assert mode == 0o600


def test_the_key_file_stays_owner_only_when_a_key_is_added(key_dir: Path) -> None:
    crypto.get_keyring()

    crypto.keyring_add_key()

    mode = stat.S_IMODE((key_dir / "encryption-keys.json").stat().st_mode)
    assert mode == 0o600


def test_the_first_key_file_written_wins_a_race(key_dir: Path) -> None:
    path = key_dir / "encryption-keys.json"
    _write_new_file(path, {"keys": [{"id": "first", "key": "a"}]})

    _write_new_file(path, {"keys": [{"id": "second", "key": "b"}]})

    assert json.loads(path.read_text())["keys"][0]["id"] == "first"
    assert [p.name for p in key_dir.iterdir()] == ["encryption-keys.json"]


def test_a_new_key_becomes_primary_and_old_tokens_still_decrypt() -> None:
    old_id = crypto.get_keyring().primary_id
    old = crypto.encrypt("13812345678", context=PHONE)

    new_id = crypto.keyring_add_key()
    new = crypto.encrypt("13812345678", context=PHONE)

    assert new_id != old_id
    assert crypto.get_keyring().primary_id == new_id
    assert new.split(":")[1] == new_id
    assert crypto.decrypt(old, context=PHONE) == "13812345678"
    assert (crypto.needs_rotation(old), crypto.needs_rotation(new)) == (True, False)


def test_needs_rotation_treats_plaintext_as_unrotated_and_empty_as_done() -> None:
    assert (crypto.needs_rotation("13812345678"), crypto.needs_rotation("")) == (True, False)


def test_a_token_under_a_key_added_by_another_process_is_decrypted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stale = crypto.get_keyring()
    new_id = crypto.keyring_add_key()
    token = crypto.encrypt("13812345678")
    monkeypatch.setattr("guanxi.core.crypto.keyring._keyring", stale)

    plaintext = crypto.decrypt(token)

    assert new_id not in stale.keys
    assert plaintext == "13812345678"


def test_a_running_process_takes_up_a_key_added_to_the_file_by_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stale = crypto.get_keyring()
    new_id = crypto.keyring_add_key()
    monkeypatch.setattr("guanxi.core.crypto.keyring._keyring", stale)
    monkeypatch.setattr("guanxi.core.crypto.keyring._next_check", 0.0)

    token = crypto.encrypt("13812345678")

    assert token.split(":")[1] == new_id


def test_keys_from_the_environment_put_the_first_as_primary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GUANXI_ENCRYPTION_KEYS", _env_key("old", 1))
    monkeypatch.setenv("GUANXI_BLIND_INDEX_KEY", base64.b64encode(b"i" * 32).decode())
    old = crypto.encrypt("13812345678")
    monkeypatch.setenv("GUANXI_ENCRYPTION_KEYS", f"{_env_key('new', 2)},{_env_key('old', 1)}")
    crypto.reset_keyring()

    new = crypto.encrypt("13812345678")

    assert (old.split(":")[1], new.split(":")[1]) == ("old", "new")
    assert crypto.decrypt(old) == "13812345678"


@pytest.mark.parametrize(
    "value",
    ["k1", "k1:not base64!", f"k1:{base64.b64encode(b'short').decode()}", "bad id:" + "A" * 44],
)
def test_a_malformed_environment_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("GUANXI_ENCRYPTION_KEYS", value)
    monkeypatch.setenv("GUANXI_BLIND_INDEX_KEY", base64.b64encode(b"i" * 32).decode())

    with pytest.raises(crypto.KeyringError):
        crypto.get_keyring()


def test_environment_keys_without_a_blind_index_key_are_refused(
    monkeypatch: pytest.MonkeyPatch, key_dir: Path
) -> None:
    monkeypatch.setenv("GUANXI_ENCRYPTION_KEYS", _env_key("k1", 1))

    with pytest.raises(crypto.KeyringError, match="GUANXI_BLIND_INDEX_KEY"):
        crypto.get_keyring()

    assert list(key_dir.iterdir()) == []


def test_adding_a_key_is_refused_when_keys_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, key_dir: Path
) -> None:
    monkeypatch.setenv("GUANXI_ENCRYPTION_KEYS", _env_key("k1", 1))

    with pytest.raises(crypto.KeyringError, match="GUANXI_ENCRYPTION_KEYS"):
        crypto.keyring_add_key()

    assert list(key_dir.iterdir()) == []


# --- blind indexes -----------------------------------------------------------------------------


def test_a_blind_index_is_stable_across_key_rotation() -> None:
    before = crypto.blind_index("+8613812345678", kind="phone")
    crypto.keyring_add_key()

    after = crypto.blind_index("+8613812345678", kind="phone")

    assert before == after
    assert len(before) == 32
    assert int(before, 16) >= 0


def test_the_same_value_indexes_differently_for_each_kind() -> None:
    phone = crypto.blind_index("110101199003074258", kind="phone")
    id_number = crypto.blind_index("110101199003074258", kind="id_number")

    assert phone != id_number


def test_the_blind_index_depends_on_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from_file = crypto.blind_index("a@example.com", kind="email")
    monkeypatch.setenv("GUANXI_BLIND_INDEX_KEY", base64.b64encode(b"i" * 32).decode())
    crypto.reset_keyring()

    from_env = crypto.blind_index("a@example.com", kind="email")

    assert from_file != from_env


def test_an_empty_value_has_an_empty_blind_index() -> None:
    assert crypto.blind_index("", kind="phone") == ""


# --- normalisers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("+86 138 1234 5678", "+8613812345678"),
        ("010-12345678", "+861012345678"),
        ("(021) 1234 5678", "+862112345678"),
        ("+1 202-555-0143", "+12025550143"),
        ("  ", ""),
    ],
)
def test_phone_numbers_normalise_to_e164(value: str, expected: str) -> None:
    assert crypto.normalise_phone(value) == expected


@pytest.mark.parametrize("value", ["12345", "1381234567", "not a phone", "+86 999"])
def test_an_invalid_phone_number_raises_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="phone number"):
        crypto.normalise_phone(value)


def test_phone_last4_reads_the_normalised_number() -> None:
    assert crypto.phone_last4("+86 138-1234-5678") == "5678"


def test_an_email_address_normalises_to_lower_case() -> None:
    assert crypto.normalise_email("  Zhang.Wei@Example.COM ") == "zhang.wei@example.com"


@pytest.mark.parametrize("value", ["zhang", "zhang@", "@example.com", "a b@example.com"])
def test_an_invalid_email_address_raises_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="email address"):
        crypto.normalise_email(value)


def test_an_id_number_normalises_to_upper_case_without_surrounding_space() -> None:
    assert crypto.normalise_id_number(" 11010119900307451x ") == "11010119900307451X"


# --- masks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("phone", "+8613812345678", "138****5678"),
        ("phone", "13812345678", "138****5678"),
        ("phone", "+12025550143", "202****0143"),
        ("phone", "+861012345678", "101****5678"),
        ("phone", "12345", "****45"),
        ("email", "zhang@example.com", "z***@example.com"),
        ("email", "nobody", "n***"),
        ("id_number", "110101199003074258", "1101**********4258"),
        ("id_number", "G1234567", "******67"),
        ("bank_account", "6222021234567890123", "**** **** **** 0123"),
        ("bank_account", "6222 0212 3456 7890 123", "**** **** **** 0123"),
        ("address", "上海市浦东新区世纪大道100号", "上海市浦东新区****"),
        ("address", "世纪大道100号", "世纪大道****"),
        ("phone", "", ""),
        ("address", "", ""),
    ],
)
def test_masks_show_only_a_recognisable_part(kind: str, value: str, expected: str) -> None:
    assert crypto.mask(kind, value) == expected


def test_masking_an_unknown_kind_raises_value_error() -> None:
    with pytest.raises(ValueError, match="passport"):
        crypto.mask("passport", "E12345678")


# --- the model field ---------------------------------------------------------------------------


def test_the_field_stores_a_token_and_reads_the_plaintext(db: Any) -> None:
    Record.objects.create(title="a", secret="13812345678")

    stored = _raw_secrets()

    assert stored[0].startswith("g1:")
    assert Record.objects.get().secret == "13812345678"
    assert crypto.decrypt(stored[0], context="scopeapp.record.secret") == "13812345678"


def test_an_empty_value_is_stored_empty(db: Any) -> None:
    Record.objects.create(title="a")

    assert _raw_secrets() == [""]


def test_saving_a_loaded_row_again_keeps_the_plaintext(db: Any) -> None:
    Record.objects.create(title="a", secret="13812345678")
    record = Record.objects.get()

    record.save()

    assert Record.objects.get().secret == "13812345678"


def test_a_token_of_this_field_is_stored_as_it_is(db: Any) -> None:
    token = crypto.encrypt("13812345678", context="scopeapp.record.secret")

    Record.objects.create(title="a", secret=token)

    assert _raw_secrets() == [token]
    assert Record.objects.get().secret == "13812345678"


def test_a_token_of_another_field_is_treated_as_plaintext(db: Any) -> None:
    foreign = crypto.encrypt("13812345678", context=PHONE)

    Record.objects.create(title="a", secret=foreign)

    assert Record.objects.get().secret == foreign


def test_filtering_by_an_encrypted_value_is_refused(db: Any) -> None:
    with pytest.raises(FieldError, match="blind index"):
        Record.objects.filter(secret="13812345678")


@pytest.mark.parametrize("lookup", ["secret__icontains", "secret__startswith", "secret__in"])
def test_other_lookups_on_an_encrypted_field_are_refused(db: Any, lookup: str) -> None:
    with pytest.raises(FieldError):
        Record.objects.filter(**{lookup: ["13812345678"]})


def test_filtering_for_empty_values_works(db: Any) -> None:
    Record.objects.create(title="empty")
    Record.objects.create(title="full", secret="13812345678")

    titles = list(Record.objects.filter(secret="").values_list("title", flat=True))

    assert titles == ["empty"]


def test_the_field_binds_its_ciphertexts_to_its_model_and_name() -> None:
    field = Record._meta.get_field("secret")

    assert isinstance(field, crypto.EncryptedTextField)
    assert field.context == "scopeapp.record.secret"


def test_the_field_deconstructs_to_the_public_path() -> None:
    _name, path, args, kwargs = Record._meta.get_field("secret").deconstruct()

    assert (path, args, kwargs) == (
        "guanxi.core.crypto.EncryptedTextField",
        [],
        {"blank": True, "default": ""},
    )


def test_serialised_rows_carry_tokens_that_load_back(db: Any) -> None:
    Record.objects.create(title="a", secret="13812345678")

    dumped = serializers.serialize("json", Record.objects.all())
    loaded = next(serializers.deserialize("json", dumped)).object

    assert "13812345678" not in dumped
    assert loaded.secret == "13812345678"


def test_encrypted_fields_lists_the_test_models_field() -> None:
    found = [(model._meta.label_lower, field.name) for model, field in crypto.encrypted_fields()]

    assert ("scopeapp.record", "secret") in found


# --- rotation ----------------------------------------------------------------------------------


@pytest.fixture
def records(db: Any) -> list[Record]:
    rows = [Record.objects.create(title=str(n), secret=f"1381234567{n}") for n in range(5)]
    Record.objects.create(title="empty")
    return rows


def test_rotation_re_encrypts_every_value_under_the_new_primary_key(
    records: list[Record],
) -> None:
    new_id = crypto.keyring_add_key()

    counts = crypto.rotate_keys(batch_size=2)

    assert counts["scopeapp.record.secret"] == 5
    assert _key_ids([token for token in _raw_secrets() if token]) == {new_id}
    assert [r.secret for r in Record.objects.order_by("pk")][:5] == [r.secret for r in records]


def test_rotation_resumes_after_an_interruption(records: list[Record]) -> None:
    old_id = crypto.get_keyring().primary_id
    new_id = crypto.keyring_add_key()
    first = crypto.rotate_keys(batch_size=2, max_batches=1)
    halfway = RotationCheckpoint.objects.get(model_label="scopeapp.record", field_name="secret")
    midway_keys = [token.split(":")[1] for token in _raw_secrets() if token]

    second = crypto.rotate_keys(batch_size=2)

    done = RotationCheckpoint.objects.get(model_label="scopeapp.record", field_name="secret")
    assert (first["scopeapp.record.secret"], second["scopeapp.record.secret"]) == (2, 3)
    assert midway_keys == [new_id, new_id, old_id, old_id, old_id]
    assert (halfway.last_pk, halfway.key_id) == (str(records[1].pk), new_id)
    assert done.last_pk == str(Record.objects.latest("pk").pk)
    assert _key_ids([token for token in _raw_secrets() if token]) == {new_id}


def test_a_rerun_for_the_same_key_resumes_after_the_last_row(records: list[Record]) -> None:
    crypto.keyring_add_key()
    crypto.rotate_keys()

    again = crypto.rotate_keys()

    assert again["scopeapp.record.secret"] == 0


def test_a_new_primary_key_restarts_rotation_from_the_first_row(records: list[Record]) -> None:
    crypto.keyring_add_key()
    crypto.rotate_keys()
    newest = crypto.keyring_add_key()

    counts = crypto.rotate_keys(batch_size=4)

    assert counts["scopeapp.record.secret"] == 5
    assert _key_ids([token for token in _raw_secrets() if token]) == {newest}


def test_rotation_encrypts_plaintext_written_before_the_field_was_encrypted(db: Any) -> None:
    record = Record.objects.create(title="legacy")
    Record.objects.filter(pk=record.pk).update(
        secret=ExpressionWrapper(F("title"), output_field=TextField())
    )

    counts = crypto.rotate_keys()

    assert counts["scopeapp.record.secret"] == 1
    assert _raw_secrets()[0].startswith("g1:")
    assert Record.objects.get().secret == "legacy"


def test_the_command_adds_a_key_and_rotates(records: list[Record], key_dir: Path) -> None:
    before = crypto.get_keyring().primary_id

    call_command("rotate_keys", "--new-key", "--batch-size", "3", stdout=io.StringIO())

    primary = crypto.get_keyring().primary_id
    assert primary != before
    assert _key_ids([token for token in _raw_secrets() if token]) == {primary}


def test_the_command_refuses_a_new_key_when_keys_come_from_the_environment(
    records: list[Record], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUANXI_ENCRYPTION_KEYS", _env_key("k1", 1))
    monkeypatch.setenv("GUANXI_BLIND_INDEX_KEY", base64.b64encode(b"i" * 32).decode())
    crypto.reset_keyring()

    with pytest.raises(CommandError, match="GUANXI_ENCRYPTION_KEYS"):
        call_command("rotate_keys", "--new-key")

    assert not RotationCheckpoint.objects.exists()


def test_the_cli_rotates_keys(records: list[Record], capsys: pytest.CaptureFixture[str]) -> None:
    crypto.keyring_add_key()

    code = cli.main(["rotate-keys", "--batch-size", "2"])

    assert code == 0
    assert "scopeapp.record.secret: 5 re-encrypted" in capsys.readouterr().out
