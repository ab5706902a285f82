"""EncryptedTextField: a TextField stored as an encrypted token, and the list of them all."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull

from guanxi.core.crypto.values import DecryptionError, decrypt, encrypt, is_token

if TYPE_CHECKING:
    _Exact = Exact[str]
    _TextField = models.TextField[str | models.expressions.Combinable, str]
else:  # the classes are generic only in the stubs
    _Exact = Exact
    _TextField = models.TextField


class _EmptyOnlyExact(_Exact):
    """`field=""` finds empty values; any other value cannot match a randomised ciphertext."""

    def get_prep_lookup(self) -> Any:
        if isinstance(self.rhs, str) and self.rhs:
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted: look it up by its blind index"
            )
        return super().get_prep_lookup()


class EncryptedTextField(_TextField):
    """Text encrypted at rest; in Python it is the plaintext.

    Not filterable by value: each write uses a fresh nonce, so equal plaintexts differ in the
    database. Only `isnull` and `=""` work (anything else raises FieldError); keep a
    `blind_index` column beside the field for exact matches. Rows written before the field
    was encrypted read back as they are until `rotate_keys` encrypts them.
    """

    description = "Text encrypted with AES-256-GCM"
    context: str = ""

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        # Abstract and historical models contribute again with their own class: each table
        # binds its ciphertexts to itself.
        self.context = f"{cls._meta.app_label}.{cls._meta.model_name}.{name}".lower()

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        return IsNull if lookup_name == "isnull" else None

    def get_transform(self, lookup_name: str) -> Any:
        return None

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or not is_token(value):
            return value
        return decrypt(value, context=self.context)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and is_token(value):
            with contextlib.suppress(DecryptionError):
                return decrypt(value, context=self.context)
        return super().to_python(value)

    def get_prep_value(self, value: Any) -> Any:
        if isinstance(value, str) and is_token(value):
            # Idempotent: a token that decrypts for this field is stored as it is (rotation
            # writes tokens); anything else, even token-shaped text, is plaintext. Checked
            # before super(), whose to_python would decrypt it.
            with contextlib.suppress(DecryptionError):
                decrypt(value, context=self.context)
                return value
        value = super().get_prep_value(value)
        if value is None or value == "" or not isinstance(value, str):
            return value
        return encrypt(value, context=self.context)

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        # The package's public name, so that migrations survive a move between its modules.
        return name, "guanxi.core.crypto.EncryptedTextField", args, kwargs

    def value_to_string(self, obj: models.Model) -> str:
        # dumpdata and backups carry the token, never the plaintext; loaddata reads it back.
        return encrypt(str(self.value_from_object(obj) or ""), context=self.context)


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every concrete EncryptedTextField of every installed model (proxies skipped)."""
    found: list[tuple[type[models.Model], EncryptedTextField]] = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or meta.swapped:
            continue
        found.extend(
            (model, field)
            for field in meta.concrete_fields
            if isinstance(field, EncryptedTextField)
        )
    return found
