"""`guanxi manage rotate_keys`: re-encrypt every encrypted value under the primary key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guanxi.core.crypto import KeyringError, keyring_add_key, rotate_keys
from guanxi.core.crypto.keyring import RELOAD_CHECK_SECONDS


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field value that is not under the primary key, in "
        "batches; an interrupted run resumes where it stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-key",
            action="store_true",
            help="first add a new primary key to the key file (not with GUANXI_ENCRYPTION_KEYS)",
        )
        parser.add_argument("--batch-size", type=int, default=2000, help="rows per transaction")
        parser.add_argument(
            "--restart",
            action="store_true",
            help="walk every row again instead of resuming after the last checkpoint",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        if options["new_key"]:
            try:
                key_id = keyring_add_key()
            except KeyringError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"added the new primary key {key_id}; running servers take it up within "
                f"{RELOAD_CHECK_SECONDS:.0f} s (rerun with --restart later to sweep values "
                "they wrote under the old key meanwhile)"
            )
        counts = rotate_keys(
            batch_size=options["batch_size"], stdout=self.stdout, restart=options["restart"]
        )
        self.stdout.write(f"re-encrypted {sum(counts.values())} value(s) in {len(counts)} field(s)")
