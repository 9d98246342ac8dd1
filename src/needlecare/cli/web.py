"""CLI sub-commands: ``serve`` (the web app) and ``db upgrade`` (Alembic migrations)."""

from __future__ import annotations

import os
import socket
import sys
import threading

import typer
from pydantic import ValidationError

from needlecare.settings import Settings

db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)


#: glibc's ``M_ARENA_MAX`` option of ``mallopt``.
_M_ARENA_MAX = -8
#: Memory arenas the server's allocator may keep. glibc gives each thread that allocates at once an arena of
#: its own (up to 8 per core), and a photo decoded in one of the request threads leaves its arena holding
#: freed memory; with two, a run of 50 users uploading 12-MP photos grew the server by 35 MiB instead of 99.
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Ask glibc's allocator to keep at most *arenas* arenas in this process (where it is glibc);
    returns whether it agreed."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not sys.platform.startswith("linux") or name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # another C library (musl) has no mallopt
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def load_settings() -> Settings:
    """The settings from the environment; an invalid value exits 2 with a one-line reason on stderr."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        typer.echo(f"needlecare: invalid configuration: {first.get('msg', exc)}", err=True)
        raise typer.Exit(2) from None


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Migrate the configured database (DATABASE_URL or SQLite under NEEDLECARE_DATA_DIR) to REVISION."""
    from needlecare.storage.migrate import upgrade

    settings = load_settings()
    try:
        upgrade(settings.sqlalchemy_url, revision)
    except Exception as exc:  # one line to stderr, never a traceback
        typer.echo(f"needlecare: migration failed: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"database at revision {revision}")


def derived_public_url(host: str, port: int) -> str:
    """``http://HOST:PORT`` for the address served on; a wildcard address names this machine instead.

    >>> derived_public_url("127.0.0.1", 8765)
    'http://127.0.0.1:8765'
    >>> derived_public_url("::1", 8000)
    'http://[::1]:8000'
    """
    if host in {"0.0.0.0", "::", ""}:
        host = socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def with_public_url(settings: Settings, *, host: str | None, port: int | None) -> Settings:
    """*settings* serving on *host* and *port* (when given), with ``public_url`` derived from them when
    ``NEEDLECARE_PUBLIC_URL`` is unset, so that every link in mails and pages points at this server."""
    update: dict[str, object] = {}
    if host is not None:
        update["host"] = host
    if port is not None:
        update["port"] = port
    web = settings.web.model_copy(update=update)
    public_url = settings.public_url or derived_public_url(web.host, web.port)
    return settings.model_copy(update={"web": web, "public_url": public_url})


def serve(
    host: str | None = typer.Option(None, help="Address to bind (default from settings: 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default from settings: 8000)."),
) -> None:
    """Run the web app: creates and migrates the database, then serves on http://127.0.0.1:8000.

    Without NEEDLECARE_BROKER_URL, jobs run in-process and the reminder scheduler runs in a background thread.
    """
    import uvicorn

    from needlecare.jobs.scheduler import start_in_thread
    from needlecare.web.app import create_app

    os.umask(0o077)  # whatever the process creates is its user's alone (files 0600, directories 0700)
    limit_malloc_arenas()
    configured = load_settings()
    settings = with_public_url(configured, host=host, port=port)
    try:
        app = create_app(settings, migrate=settings.web.migrate_on_start)
    except Exception as exc:
        typer.echo(f"needlecare: cannot start: {exc}", err=True)
        raise typer.Exit(1) from None
    ctx = app.state.ctx
    if ctx.jobs.in_process:
        start_in_thread(ctx.jobs)
    if ctx.jobs.background is not None:  # the analysis processes load MediaPipe while the server starts
        threading.Thread(target=ctx.jobs.background.start, name="needlecare-job-start", daemon=True).start()
        print(f"needlecare serving on http://{settings.web.host}:{settings.web.port}", file=sys.stderr)
    origin = "NEEDLECARE_PUBLIC_URL" if configured.public_url else "derived from the address served on"
    print(
        f"needlecare: links in mails and pages use {settings.base_url} ({origin}; "
        "set NEEDLECARE_PUBLIC_URL to the address people open)",
        file=sys.stderr,
    )
    uvicorn.run(app, host=settings.web.host, port=settings.web.port, log_level="info")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``db`` to *app*."""
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
