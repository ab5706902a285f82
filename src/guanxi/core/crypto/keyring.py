"""The keyring: AES-256 keys (primary first) and the blind-index key, from env or key file."""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

KEY_FILE_NAME = "encryption-keys.json"
KEY_BYTES = 32  # AES-256
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
# A file-backed keyring is re-read when the file changed, checked at most this often, so that
# running web processes pick up a key added by `rotate_keys --new-key` without a restart.
RELOAD_CHECK_SECONDS = 30.0


class KeyringError(ImproperlyConfigured):
    """The keys in the environment or the key file are missing or unusable."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]  # key id -> key, primary first
    primary_id: str
    index_key: bytes
    source: str  # "env" or "file"
    path: Path
    file_stamp: int | None  # the key file's mtime_ns when read

    @property
    def primary(self) -> bytes:
        return self.keys[self.primary_id]


def _b64decode(value: str, what: str) -> bytes:
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as error:
        raise KeyringError(f"{what} is not valid base64") from error


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def key_file_path() -> Path:
    return Path(settings.VAR_DIR) / KEY_FILE_NAME


def _new_key_id(taken: set[str] | dict[str, bytes]) -> str:
    while True:
        key_id = f"k{timezone.now():%Y%m%d}{secrets.token_hex(3)}"
        if key_id not in taken:
            return key_id


def _check_key(key_id: str, key: bytes, where: str) -> None:
    if not KEY_ID.match(key_id):
        raise KeyringError(f"{where}: key id {key_id!r} must be 1-32 of A-Z a-z 0-9 _ . -")
    if len(key) != KEY_BYTES:
        raise KeyringError(f"{where}: key {key_id!r} must be {KEY_BYTES} bytes, not {len(key)}")


def _write_new_file(path: Path, content: dict[str, Any]) -> None:
    """Publish `content` at `path` only if nothing is there yet; complete or not at all.

    The temporary file is made with O_EXCL and mode 0600; os.link refuses an existing target,
    so of two processes starting at once the first one's keys win and nobody reads half a file.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(content, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        os.unlink(temporary)


def _replace_file(path: Path, content: dict[str, Any]) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(content, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _fresh_file_content() -> dict[str, Any]:
    key_id = _new_key_id(set())
    return {
        "version": 1,
        "keys": [{"id": key_id, "key": _b64encode(AESGCM.generate_key(bit_length=256))}],
        "blind_index_key": _b64encode(secrets.token_bytes(KEY_BYTES)),
    }


def _read_file(path: Path, *, create: bool) -> dict[str, Any]:
    if create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_new_file(path, _fresh_file_content())
    try:
        content = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise KeyringError(f"cannot read the key file {path}: {error}") from error
    if not isinstance(content, dict) or not content.get("keys"):
        raise KeyringError(f"the key file {path} holds no keys")
    return content


def _file_keys(content: dict[str, Any], path: Path) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for entry in content["keys"]:
        key_id = str(entry.get("id", ""))
        key = _b64decode(str(entry.get("key", "")), f"{path}: key {key_id!r}")
        _check_key(key_id, key, str(path))
        keys[key_id] = key
    return keys


def _env_keys(value: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for entry in filter(None, (part.strip() for part in value.split(","))):
        key_id, sep, encoded = entry.partition(":")
        if not sep:
            raise KeyringError("GUANXI_ENCRYPTION_KEYS entries are keyid:base64key")
        key = _b64decode(encoded, f"GUANXI_ENCRYPTION_KEYS key {key_id!r}")
        _check_key(key_id.strip(), key, "GUANXI_ENCRYPTION_KEYS")
        keys[key_id.strip()] = key
    if not keys:
        raise KeyringError("GUANXI_ENCRYPTION_KEYS is set but holds no keys")
    return keys


def _index_key(content: dict[str, Any] | None, path: Path) -> bytes:
    if env := os.environ.get("GUANXI_BLIND_INDEX_KEY", "").strip():
        key = _b64decode(env, "GUANXI_BLIND_INDEX_KEY")
    elif content is None and path.exists():
        return _index_key(_read_file(path, create=False), path)
    elif content is not None and content.get("blind_index_key"):
        key = _b64decode(str(content["blind_index_key"]), f"{path}: blind_index_key")
    else:
        # With keys in the environment there may be several servers: a blind-index key made
        # up locally on each would make the same phone hash differently on each, silently.
        raise KeyringError(
            "GUANXI_ENCRYPTION_KEYS is set, so set GUANXI_BLIND_INDEX_KEY too "
            "(32 random bytes, base64), identical on every server"
        )
    if len(key) < KEY_BYTES:
        raise KeyringError(f"the blind-index key must be at least {KEY_BYTES} bytes")
    return key


def _stamp(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return None


def _load_keyring() -> Keyring:
    path = key_file_path()
    if env := os.environ.get("GUANXI_ENCRYPTION_KEYS", "").strip():
        keys = _env_keys(env)
        content = None  # the key file is read only for a blind-index key missing from env
        source = "env"
    else:
        content = _read_file(path, create=True)
        keys = _file_keys(content, path)
        source = "file"
    return Keyring(
        keys=keys,
        primary_id=next(iter(keys)),
        index_key=_index_key(content, path),
        source=source,
        path=path,
        file_stamp=_stamp(path) if source == "file" else None,
    )


_keyring: Keyring | None = None
_keyring_lock = threading.Lock()
_next_check = 0.0


def _is_stale(ring: Keyring) -> bool:
    global _next_check
    now = time.monotonic()
    if ring.source != "file" or now < _next_check:
        return False
    _next_check = now + RELOAD_CHECK_SECONDS
    return _stamp(ring.path) != ring.file_stamp


def get_keyring(*, refresh: bool = False) -> Keyring:
    """The process's keyring, loaded once (the key file is created on first use)."""
    global _keyring
    ring = _keyring
    if ring is None or refresh or _is_stale(ring):
        with _keyring_lock:
            if _keyring is None or _keyring is ring:  # not already reloaded by another thread
                _keyring = _load_keyring()
            ring = _keyring
    return ring


def reset_keyring() -> None:
    """Forget the loaded keyring, so the next use reads the environment and key file again."""
    global _keyring
    with _keyring_lock:
        _keyring = None


def keyring_add_key() -> str:
    """Add a new primary key to the key file and return its id; older keys still decrypt.

    Refused (KeyringError) when the keys come from GUANXI_ENCRYPTION_KEYS: then the operator
    puts the new key first in that variable. The blind-index key is never changed.
    """
    if os.environ.get("GUANXI_ENCRYPTION_KEYS", "").strip():
        raise KeyringError(
            "the encryption keys come from GUANXI_ENCRYPTION_KEYS: add the new key at the "
            "front of that variable on every server, restart, then run rotate_keys"
        )
    path = key_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(f".{KEY_FILE_NAME}.lock")
    with os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two operators adding at once keep both keys
        content = _read_file(path, create=True)
        key_id = _new_key_id(_file_keys(content, path))
        new_key = {"id": key_id, "key": _b64encode(AESGCM.generate_key(bit_length=256))}
        content["keys"] = [new_key, *content["keys"]]
        _replace_file(path, content)
    reset_keyring()
    return key_id
