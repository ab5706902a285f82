"""Encrypted tokens and blind indexes of single values."""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils.translation import gettext as _

from guanxi.core.crypto.keyring import get_keyring

TOKEN_VERSION = "g1"  # noqa: S105  (the token format's version, not a secret)
NONCE_BYTES = 12  # the size GCM is specified for


class DecryptionError(ValueError):
    """A token that is malformed, tampered with, of another field, or under an unknown key."""


def _split(token: str) -> tuple[str, bytes] | None:
    version, sep, rest = token.partition(":")
    key_id, sep2, payload = rest.partition(":")
    if version != TOKEN_VERSION or not sep or not sep2 or not key_id:
        return None
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError):
        return None
    return key_id, raw


def is_token(value: str) -> bool:
    """Whether the value has the shape of an encrypted token (not whether it decrypts)."""
    return _split(value) is not None


@lru_cache(maxsize=32)
def _cipher(key: bytes) -> AESGCM:
    # Built once per key: a bulk import encrypts hundreds of thousands of values.
    return AESGCM(key)


def encrypt(plaintext: str, *, context: str = "") -> str:
    """The token of `plaintext` under the primary key; "" stays "" (an empty field is no secret)."""
    if plaintext == "":
        return ""
    ring = get_keyring()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _cipher(ring.primary).encrypt(nonce, plaintext.encode(), context.encode())
    payload = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{TOKEN_VERSION}:{ring.primary_id}:{payload}"


def decrypt(token: str, *, context: str = "") -> str:
    """The plaintext of a token; DecryptionError if it was altered, moved or its key is gone."""
    if token == "":
        return ""
    parts = _split(token)
    if parts is None:
        raise DecryptionError(_("The value is not an encrypted token."))
    key_id, raw = parts
    ring = get_keyring()
    if key_id not in ring.keys:
        ring = get_keyring(refresh=True)  # another process may have added a key since
    key = ring.keys.get(key_id)
    if key is None:
        raise DecryptionError(_("The value is encrypted under an unknown key."))
    if len(raw) <= NONCE_BYTES:
        raise DecryptionError(_("The encrypted value is truncated."))
    try:
        plain = _cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
    except InvalidTag as error:
        raise DecryptionError(_("The encrypted value was altered or belongs elsewhere.")) from error
    return plain.decode()


def needs_rotation(token: str) -> bool:
    """Whether a stored value is not yet under the primary key (plaintext counts as not)."""
    if token == "":
        return False
    parts = _split(token)
    return parts is None or parts[0] != get_keyring().primary_id


def blind_index(value: str, *, kind: str) -> str:
    """Keyed hash of a normalised value for exact lookups; kinds never collide; "" for ""."""
    if value == "":
        return ""
    message = f"{kind}\x00{value}".encode()
    return hmac.digest(get_keyring().index_key, message, "sha256").hex()[:32]
