"""Key rotation: re-encrypt every encrypted column under the primary key, resumably."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from django.db import models, transaction

from guanxi.core.crypto.fields import EncryptedTextField, encrypted_fields
from guanxi.core.crypto.keyring import get_keyring
from guanxi.core.crypto.values import DecryptionError, decrypt, encrypt, is_token, needs_rotation

logger = logging.getLogger(__name__)


class Writer(Protocol):
    def write(self, msg: str, /) -> Any: ...


class _Budget:
    """How many more batches this run may do (None: no limit); tests interrupt with it."""

    def __init__(self, max_batches: int | None) -> None:
        self.left = max_batches

    def take(self) -> bool:
        if self.left is None:
            return True
        if self.left <= 0:
            return False
        self.left -= 1
        return True


def _rotate_batch(
    model: type[models.Model], field: EncryptedTextField, rows: list[tuple[Any, str | None]]
) -> int:
    changed = []
    for pk, token in rows:
        if not token or not needs_rotation(token):
            continue
        try:
            plaintext = decrypt(token, context=field.context) if is_token(token) else token
        except DecryptionError:
            logger.warning("rotate_keys: %s pk=%s does not decrypt; left as it is", field, pk)
            continue
        changed.append(model(pk=pk, **{field.attname: encrypt(plaintext, context=field.context)}))
    if changed:
        model._base_manager.bulk_update(changed, [field.name])
    return len(changed)


def _rotate_field(
    model: type[models.Model],
    field: EncryptedTextField,
    *,
    key_id: str,
    batch_size: int,
    restart: bool,
    budget: _Budget,
) -> tuple[int, bool]:
    # Imported here: model modules import this package while the app registry is loading.
    from guanxi.core.models import RotationCheckpoint

    checkpoint, _created = RotationCheckpoint.objects.get_or_create(
        model_label=model._meta.label_lower, field_name=field.name, defaults={"key_id": key_id}
    )
    if restart or checkpoint.key_id != key_id:
        checkpoint.key_id, checkpoint.last_pk = key_id, ""
        checkpoint.save()
    pk_field = model._meta.pk
    assert pk_field is not None  # noqa: S101  (every concrete model has one)
    last = pk_field.to_python(checkpoint.last_pk) if checkpoint.last_pk else None
    # The raw column, without from_db_value: rotation moves tokens, it never needs plaintext
    # outside this loop.
    raw = models.ExpressionWrapper(models.F(field.attname), output_field=models.TextField())
    rewritten = 0
    while True:
        with transaction.atomic():
            batch = model._base_manager.order_by("pk").select_for_update()
            if last is not None:
                batch = batch.filter(pk__gt=last)
            rows = list(batch.annotate(_token=raw).values_list("pk", "_token")[:batch_size])
            if not rows:
                return rewritten, True
            if not budget.take():
                return rewritten, False
            rewritten += _rotate_batch(model, field, rows)
            last = rows[-1][0]
            checkpoint.last_pk = str(last)
            checkpoint.save(update_fields=["last_pk", "updated_at"])


def rotate_keys(
    *,
    batch_size: int = 2000,
    stdout: Writer | None = None,
    max_batches: int | None = None,
    restart: bool = False,
) -> dict[str, int]:
    """Re-encrypt under the primary key every encrypted value that is not; counts per field.

    Walks each field in pk order, one transaction per batch, and records the last pk done in
    RotationCheckpoint: a rerun for the same primary key resumes there, a new primary key (or
    `restart`) starts from the first row. Plaintext left from before a field was encrypted is
    encrypted. `max_batches` stops the run early (as an interruption would).
    """
    key_id = get_keyring(refresh=True).primary_id
    budget = _Budget(max_batches)
    counts: dict[str, int] = {}
    for model, field in encrypted_fields():
        label = f"{model._meta.label_lower}.{field.name}"
        counts[label], finished = _rotate_field(
            model, field, key_id=key_id, batch_size=batch_size, restart=restart, budget=budget
        )
        if stdout is not None:
            state = "done" if finished else "stopped"
            stdout.write(f"{label}: {counts[label]} re-encrypted under {key_id} ({state})\n")
        if not finished:
            break
    return counts
