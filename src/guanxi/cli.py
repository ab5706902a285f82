"""The `guanxi` command: serve, demo, worker, token, compile-messages, and Django's own."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    import django

    django.setup()


def compile_messages() -> int:
    """Compile every .po catalogue to .mo with Babel (no GNU gettext needed)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    package = Path(__file__).resolve().parent
    count = 0
    catalogues = [
        *package.glob("locale/*/LC_MESSAGES/*.po"),
        *package.glob("*/locale/*/LC_MESSAGES/*.po"),
    ]
    for po_path in sorted(catalogues):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog, use_fuzzy=False)
        count += 1
    return count


def _print(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def ensure_admin() -> tuple[str, str | None] | None:
    """On a database without users, create the administrator; returns (name, password)."""
    from guanxi.accounts import demo

    return demo.administrator_ensure(
        username=os.environ.get("GUANXI_ADMIN_USERNAME") or "admin",
        password=os.environ.get("GUANXI_ADMIN_PASSWORD") or None,
    )


def load_demo(*, force: bool = False) -> None:
    from guanxi.core.seeding import demo_load_all

    for line in demo_load_all(force=force):
        _print(line)


def cmd_demo(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    load_demo(force=True)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    _setup()
    from guanxi.accounts.models import User
    from guanxi.accounts.services import api_token_create

    user = User.objects.filter(username=args.username, is_active=True).first()
    if user is None:
        sys.stderr.write(f"guanxi: no active user named {args.username!r}\n")
        return 2
    _token, secret = api_token_create(actor=user, name=args.name, expires_in_days=args.days)
    _print(secret)
    return 0


def _bind(args: argparse.Namespace) -> str:
    host = args.host
    return f"[{host}]:{args.port}" if ":" in host else f"{host}:{args.port}"


def cmd_serve(args: argparse.Namespace) -> int:
    compile_messages()
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    created = ensure_admin()
    if created is not None:
        name, password = created
        _print("=" * 64)
        _print(f"Administrator: {name}")
        if password:
            _print(f"Password (shown once, write it down): {password}")
        _print("=" * 64)
        if not args.no_demo:
            load_demo()

    stop = threading.Event()
    if settings.TASK_MODE != "celery":
        from guanxi.core.tasks import run_local_scheduler

        threading.Thread(target=run_local_scheduler, args=(stop,), daemon=True).start()

    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "guanxi.wsgi:application",
        "--bind",
        _bind(args),
        "--workers",
        str(args.workers),
        "--threads",
        str(args.threads),
        "--worker-class",
        "gthread",
        "--timeout",
        "120",
        "--graceful-timeout",
        "20",
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        os.environ.get("GUANXI_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    _print(f"Guanxi is running at http://{_bind(args)}/  (Ctrl+C to stop)")
    process = subprocess.Popen(command)  # noqa: S603  (our own interpreter and arguments)

    def forward(signum: int, _frame: Any) -> None:
        process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    code = process.wait()
    stop.set()
    return code


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings

    if settings.TASK_MODE != "celery":
        from guanxi.core.tasks import run_local_scheduler

        _print("No GUANXI_BROKER_URL: running periodic jobs in this process (Ctrl+C to stop).")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            run_local_scheduler(stop)
        except KeyboardInterrupt:
            stop.set()
        return 0
    from guanxi.celery import app

    worker = app.Worker(
        loglevel=args.loglevel,
        concurrency=args.concurrency,
        beat=not args.no_beat,
        schedule_filename=str(Path(settings.VAR_DIR) / "celerybeat-schedule"),
    )
    worker.start()
    return int(getattr(worker, "exitcode", 0) or 0)


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["guanxi manage", *args.rest])
    return 0


def cmd_rotate_keys(args: argparse.Namespace) -> int:
    _setup()
    from django.core.management import call_command
    from django.core.management.base import CommandError

    options = ["--batch-size", str(args.batch_size)] + (["--new-key"] if args.new_key else [])
    try:
        call_command("rotate_keys", *options)
    except CommandError as error:
        sys.stderr.write(f"guanxi: {error}\n")
        return 2
    return 0


def cmd_mail_inbound(args: argparse.Namespace) -> int:
    """Receive service mail over SMTP until interrupted (see guanxi.service.receiver)."""
    _setup()
    from guanxi.service.receiver import receiver

    controller = receiver(args.host, args.port, args.domain)
    controller.start()
    _print(f"receiving service mail on {args.host}:{args.port}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
    return 0


def cmd_compile_messages(args: argparse.Namespace) -> int:
    _print(f"compiled {compile_messages()} catalogue(s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="guanxi", description="Guanxi CRM")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate, prepare and serve Guanxi")
    serve.add_argument("--host", default=os.environ.get("GUANXI_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("GUANXI_PORT", "8000")))
    serve.add_argument("--workers", type=int, default=int(os.environ.get("GUANXI_WORKERS", "2")))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("GUANXI_THREADS", "4")))
    serve.add_argument("--no-demo", action="store_true", help="do not load demo data")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser("demo", help="load the demo company and its users")
    demo.set_defaults(func=cmd_demo)

    worker = commands.add_parser("worker", help="run background workers (and beat)")
    worker.add_argument("--concurrency", type=int, default=2)
    worker.add_argument("--loglevel", default="INFO")
    worker.add_argument("--no-beat", action="store_true", help="do not run periodic jobs here")
    worker.set_defaults(func=cmd_worker)

    token = commands.add_parser("token", help="print a new API token for a user")
    token.add_argument("username")
    token.add_argument("--name", default="command line")
    token.add_argument(
        "--days", type=int, default=int(os.environ.get("GUANXI_API_TOKEN_DAYS", "90"))
    )
    token.set_defaults(func=cmd_token)

    messages = commands.add_parser("compile-messages", help="compile the translations")
    messages.set_defaults(func=cmd_compile_messages)

    rotate = commands.add_parser("rotate-keys", help="re-encrypt personal data under the new key")
    rotate.add_argument("--new-key", action="store_true", help="add a new primary key first")
    rotate.add_argument("--batch-size", type=int, default=2000, help="rows per transaction")
    rotate.set_defaults(func=cmd_rotate_keys)

    inbound = commands.add_parser("mail-inbound", help="receive service mail over SMTP")
    inbound.add_argument("--host", default=os.environ.get("GUANXI_MAIL_INBOUND_HOST", "127.0.0.1"))
    inbound.add_argument(
        "--port", type=int, default=int(os.environ.get("GUANXI_MAIL_INBOUND_PORT", "2525"))
    )
    inbound.add_argument(
        "--domain", action="append", help="accept mail only for this domain (repeatable)"
    )
    inbound.set_defaults(func=cmd_mail_inbound)

    manage = commands.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


def generated_password() -> str:
    return secrets.token_urlsafe(12)


if __name__ == "__main__":
    sys.exit(main())
