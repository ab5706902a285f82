"""Personal data at rest: AES-256-GCM field encryption, key rotation, blind indexes and masks.

Keys come from `GUANXI_ENCRYPTION_KEYS` ("keyid:base64key,…", the first is the primary) or
from `<VAR_DIR>/encryption-keys.json`, created on first use. A value is stored as the token
`g1:<keyid>:<urlsafe-b64(nonce | ciphertext)>` with its field's name as associated data, so a
ciphertext copied into another field does not decrypt. Exact-match lookups use a keyed hash
(`blind_index`) of the normalised value, kept in a column beside the token. Make a key for
the environment with `openssl rand -base64 32`. Import everything from this package.
"""

from guanxi.core.crypto.fields import EncryptedTextField, encrypted_fields
from guanxi.core.crypto.keyring import (
    Keyring,
    KeyringError,
    get_keyring,
    key_file_path,
    keyring_add_key,
    reset_keyring,
)
from guanxi.core.crypto.personal import (
    MASKS,
    mask,
    mask_address,
    mask_bank_account,
    mask_email,
    mask_id_number,
    mask_phone,
    normalise_email,
    normalise_id_number,
    normalise_phone,
    phone_last4,
)
from guanxi.core.crypto.rotation import rotate_keys
from guanxi.core.crypto.values import (
    DecryptionError,
    blind_index,
    decrypt,
    encrypt,
    is_token,
    needs_rotation,
)

__all__ = [
    "MASKS",
    "DecryptionError",
    "EncryptedTextField",
    "Keyring",
    "KeyringError",
    "blind_index",
    "decrypt",
    "encrypt",
    "encrypted_fields",
    "get_keyring",
    "is_token",
    "key_file_path",
    "keyring_add_key",
    "mask",
    "mask_address",
    "mask_bank_account",
    "mask_email",
    "mask_id_number",
    "mask_phone",
    "needs_rotation",
    "normalise_email",
    "normalise_id_number",
    "normalise_phone",
    "phone_last4",
    "reset_keyring",
    "rotate_keys",
]
