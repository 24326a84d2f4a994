"""Command line: `python -m klinikita <command>` (also installed as `klinikita`)."""

from __future__ import annotations

import argparse
import getpass
import sys

from klinikita.services.errors import ServiceError, ValidationFailed


def _migrate(_args: argparse.Namespace) -> int:
    from klinikita.migrations import upgrade_to_head

    upgrade_to_head()
    print("Database sudah pada migrasi terbaru.")
    return 0


def _seed_demo_if_empty() -> None:
    from klinikita.db import session_scope
    from klinikita.services.seed import database_is_empty, seed_demo

    with session_scope() as session:
        if not database_is_empty(session):
            return
        users = seed_demo(session)
    # Printed once, on the start that created them.
    print("\nData demo dibuat. Akun demo (nama pengguna / kata sandi / tugas):")
    for user in users:
        print(f"  {user.username:<12} {user.password:<14} {user.main_duty.label}")
    print()


def _prestart(args: argparse.Namespace) -> int:
    """Before the app starts: the key file private, migrate, then seed the demo data on a
    first start."""
    from klinikita.services.secrets_store import protect_key_file
    from klinikita.settings import get_settings

    protect_key_file()
    _migrate(args)
    if args.demo or get_settings().seed_demo:
        _seed_demo_if_empty()
    return 0


def _seed_demo(_args: argparse.Namespace) -> int:
    _seed_demo_if_empty()
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    from klinikita.db import session_scope
    from klinikita.services.seed import create_first_admin

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if password is None:
        password = getpass.getpass("Kata sandi admin: ")
        if password != getpass.getpass("Ulangi kata sandi: "):
            print("Kata sandi tidak sama.", file=sys.stderr)
            return 1
    try:
        with session_scope() as session:
            user = create_first_admin(
                session,
                username=args.username,
                password=password,
                full_name=args.full_name,
                email=args.email,
                branch_name=args.branch,
                facility_type=args.facility_type,
            )
            username = user.username
    except ValidationFailed as exc:
        for field, message in exc.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 1
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"Admin '{username}' dibuat untuk cabang '{args.branch}'.")
    return 0


def _worker(args: argparse.Namespace) -> int:
    """The SATUSEHAT outbox worker as its own process (production)."""
    import asyncio
    import signal

    from klinikita.logs import configure_logging
    from klinikita.outbox_worker.worker import LEASE_SECONDS, OutboxWorker
    from klinikita.settings import get_settings

    configure_logging()  # JSON lines in production, as the app's; no request URLs (NIKs)
    base = args.simulator_url or get_settings().simulator_url or "http://127.0.0.1:9080"
    worker = OutboxWorker(
        simulator_base=base,
        concurrency=args.concurrency,
        lease_seconds=args.lease_seconds or LEASE_SECONDS,
        poll_interval=args.poll_seconds,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(stop)

    asyncio.run(main())
    return 0


def _simulator(args: argparse.Namespace) -> int:
    from klinikita.integrations.satusehat.simulator.server import serve

    data_file = None if args.data_file == "none" else args.data_file
    serve(host=args.host, port=args.port, data_file=data_file)
    return 0


def _backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from klinikita.services.backups import create_backup

    try:
        result = create_backup(folder=Path(args.to) if args.to else None)
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"Cadangan ditulis: {result.path}")
    print(f"Manifest ditulis: {result.manifest_path}")
    for path in result.pruned:
        print(f"Dihapus (retensi): {path}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from klinikita.services.backups import restore_backup

    try:
        result = restore_backup(Path(args.file))
    except ServiceError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    width = max([len("Tabel"), *(len(c.table) for c in result.counts)])
    print(f"{'Tabel':<{width}}  {'Cadangan':>9}  {'Dipulihkan':>10}")
    for c in result.counts:
        restored = "-" if c.restored is None else str(c.restored)
        mark = "" if c.matches else "  TIDAK SAMA"
        print(f"{c.table:<{width}}  {c.in_backup:>9}  {restored:>10}{mark}")
    if result.upgraded:
        print(f"Database dimigrasi dari revisi {result.revision} ke {result.head}.")
    for name in result.unreadable_secrets:
        print(
            f"Perhatian: Secret Key SATUSEHAT cabang '{name}' tidak dapat dibuka dengan kunci "
            "enkripsi server ini (kunci tidak ikut dalam cadangan). Pasang kunci yang lama "
            "(KLINIKITA_SECRET_KEY atau file kunci), atau ketik ulang Secret Key di pengaturan "
            "cabang."
        )
    if not result.counts_match:
        print("Jumlah baris tidak sama dengan manifest cadangan.", file=sys.stderr)
        return 1
    print("Pemulihan selesai; jumlah baris sama dengan manifest.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="klinikita", description="Klinikita RME")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="upgrade the database to the newest migration").set_defaults(
        func=_migrate
    )
    p = sub.add_parser("prestart", help="migrate, then seed demo data on a first start")
    p.add_argument("--demo", action="store_true", help="seed demo data if the database is empty")
    p.set_defaults(func=_prestart)
    sub.add_parser("seed-demo", help="seed demo data if the database is empty").set_defaults(
        func=_seed_demo
    )
    p = sub.add_parser("worker", help="run the SATUSEHAT outbox worker as its own process")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument(
        "--lease-seconds",
        type=float,
        default=None,
        help="a job left in progress this long by a dead worker is taken again; the worker "
        "renews the leases of the jobs it holds three times per lease (default: 10)",
    )
    p.add_argument(
        "--simulator-url",
        default=None,
        help="base URL of the simulator for branches set to Simulator",
    )
    p.add_argument(
        "--poll-seconds",
        type=float,
        default=0.05,
        help="how often to look for due jobs (one indexed query per look); on PostgreSQL "
        "a job that becomes due wakes the worker at once (LISTEN) and it looks only once a "
        "second, for retries falling due",
    )
    p.set_defaults(func=_worker)
    p = sub.add_parser("simulator", help="run the SATUSEHAT simulator standalone")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9080)
    p.add_argument(
        "--data-file",
        default=".data/satusehat-simulator.db",
        help="SQLite file that keeps its data across restarts, or 'none'",
    )
    p.set_defaults(func=_simulator)
    p = sub.add_parser("create-admin", help="create the first admin on an empty database")
    p.add_argument("--username", required=True)
    p.add_argument("--full-name", required=True)
    p.add_argument("--email", default="")
    p.add_argument("--branch", required=True, help="name of the first branch")
    p.add_argument(
        "--facility-type", default="klinik", choices=["klinik", "pmd", "apotek", "rs", "lab"]
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )
    p.set_defaults(func=_create_admin)
    p = sub.add_parser(
        "backup", help="back up the database (the app may keep running), then prune old backups"
    )
    p.add_argument("--to", default=None, help="folder for the backup (default: .data/backups)")
    p.set_defaults(func=_backup)
    p = sub.add_parser("restore", help="restore a backup into an empty database")
    p.add_argument("file", help="the backup file (or its manifest .json)")
    p.set_defaults(func=_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)
