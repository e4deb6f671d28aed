"""The ``stepdown-forms`` commands that run and administer the service: the web service, batch
workers, users, tokens, keys, the audit check, backups. They import the database and web
layers when they run (see the package's top)."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

import click

from ..errors import SettingsError
from . import EXIT_INVALID, _database, _registry, cli



FIRST_RUN = """No one can log in yet. Create the first administrator (a password is generated and shown once):

    .venv/bin/stepdown-forms create-user YOUR-NAME --role admin --team "YOUR TEAM"

then open {url}/login. API tokens for scripts: stepdown-forms create-token YOUR-NAME."""


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="Server processes answering requests  [default: STEPDOWN_WEB_PROCESSES, else the number of cores]")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, processes: int | None) -> None:
    """Start the web service (settings from the environment; see docs/web.md)."""
    import uvicorn  # deferred: the web layer (see the top)

    from ..isolation import settle
    from ..records import user_count
    from ..records.jobs import recover_jobs
    from ..settings import Settings
    from ..web import create_app
    from ..web.processes import serve_processes
    from ..web.server import HeadersInTime

    settings = Settings.from_env()
    processes = processes or settings.web_processes
    url = f"http://{host}:{port}"
    # on SIGTERM, requests in flight get 20 s to finish (a file's parse is cut off at 10 s)
    options = dict(host=host, port=port, log_level="warning", access_log=False, http=HeadersInTime,
                   timeout_graceful_shutdown=20)
    if processes == 1:
        app = create_app(settings, registry=_registry(ctx))
        settle()  # what the process keeps for good, out of the collector's way
        _announce(user_count(app.state.db), url, processes)
        uvicorn.run(app, **options)
        return
    _registry(ctx)  # a forms folder that does not load fails here, once, not in every process
    if ctx.obj.get("specs"):
        os.environ["STEPDOWN_SPECS_DIR"] = str(Path(ctx.obj["specs"]).resolve())
    db = _database()  # the schema brought up to date, and interrupted batches readied, before any process answers
    recover_jobs(db, resume_running=not settings.broker_url)
    users = user_count(db)
    db.dispose()
    _announce(users, url, processes)
    options = {k: v for k, v in options.items() if k not in ("host", "port")}
    ctx.exit(serve_processes(host, port, processes, options))


def _announce(users: int, url: str, processes: int) -> None:
    if users == 0:
        click.echo(FIRST_RUN.format(url=url), err=True)
    click.echo(f"Step Down Forms on {url} (API docs {url}/api/docs), {processes} server "
               f"process{'es' if processes != 1 else ''}; press Ctrl+C to stop.", err=True)


@cli.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Processes building batch parts  [default: the number of cores]")
@click.option("--name", default=None, help="This worker's name (Celery's node name), e.g. builder1@%h.")
@click.option("--loglevel", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]), default="INFO", show_default=True)
@click.pass_context
def worker_cmd(ctx: click.Context, concurrency: int | None, name: str | None, loglevel: str) -> None:
    """Build batches from the broker (STEPDOWN_BROKER_URL, Redis) with Celery, beside other
    workers on this or other machines that share the database and the file store."""
    from ..jobs.distributed import run_worker  # deferred: Celery and the database layer (see the top)
    from ..settings import Settings

    settings = Settings.from_env()
    if not settings.broker_url:
        raise SettingsError("set STEPDOWN_BROKER_URL (redis://host:port/0) first: without a broker the web "
                            "service builds batches itself")
    _registry(ctx)  # a forms folder that does not load fails here, not at the first task
    if ctx.obj.get("specs"):
        os.environ["STEPDOWN_SPECS_DIR"] = str(Path(ctx.obj["specs"]).resolve())
    run_worker(settings, concurrency or os.cpu_count() or 1, name, loglevel)


@cli.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["practitioner", "manager", "admin"]), default="practitioner", show_default=True)
@click.option("--team", required=True, help="The user's team (made if new); users see only their team's cases.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of generating one.")
@click.option("--sso-only", is_flag=True, help="No password: the user signs in with single sign-on (the username is "
                                               "what the provider's claim says, e.g. their e-mail address).")
def create_user_cmd(username: str, role: str, team: str, password_stdin: bool, sso_only: bool) -> None:
    """Create a user. Without --password-stdin a strong password is generated and printed once."""
    from ..records import create_user  # deferred: the database layer (see the top)

    password = None if sso_only else sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(15)
    actor = create_user(_database(), username, password, role=role, team=team)
    click.echo(f"Created {actor.username} ({actor.role}, team {actor.team}).")
    if password is not None and not password_stdin:
        click.echo(f"Password (shown once; ask them to keep it safe): {password}")


@cli.command("create-token")
@click.argument("username")
@click.option("--name", default="script", show_default=True, help="What the token is for.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 3650), help="How long it lasts.")
@click.option("--no-expiry", is_flag=True, help="It lasts until revoked.")
def create_token_cmd(username: str, name: str, days: int, no_expiry: bool) -> None:
    """Make an API token for USERNAME (printed once; send it as Authorization: Bearer TOKEN)."""
    from ..records import actor_for, create_token  # deferred: the database layer (see the top)

    db = _database()
    click.echo(create_token(db, actor_for(db, username), name, days=None if no_expiry else days))


@cli.command("tokens")
@click.argument("username")
def tokens_cmd(username: str) -> None:
    """List USERNAME's API tokens (never the tokens themselves): id, state, expiry, name."""
    from ..records import actor_for, list_tokens  # deferred: the database layer (see the top)

    db = _database()
    actor = actor_for(db, username)
    for t in list_tokens(db, actor):
        if t["owner"] == actor.username:
            expires = t["expires_at"].strftime("%d/%m/%Y") if t["expires_at"] else "never"
            click.echo(f"{t['id']:>5}  {t['state']:<8} expires {expires:<10}  {t['name']}")


@cli.command("revoke-token")
@click.argument("username")
@click.argument("token_id", type=int)
def revoke_token_cmd(username: str, token_id: int) -> None:
    """Revoke USERNAME's token TOKEN_ID (see `tokens`); it stops working at once."""
    from ..records import actor_for, revoke_token  # deferred: the database layer (see the top)

    db = _database()
    revoke_token(db, actor_for(db, username), token_id)
    click.echo(f"Token {token_id} of {username} is revoked.")


@cli.command("new-key")
def new_key_cmd() -> None:
    """Print a new key for STEPDOWN_DATA_KEY (encryption of stored data at rest)."""
    from ..store.seal import new_key  # deferred: the database layer (see the top)

    click.echo(new_key())


@cli.command("verify-audit")
def verify_audit_cmd() -> int:
    """Check the audit log's hash chain, and that it still holds every entry the published
    checkpoints saw; exit 1 if an entry was changed or removed."""
    from ..records import check_audit  # deferred: the database layer (see the top)

    check = check_audit(_database(), None)
    if check.ok:
        click.echo(f"audit log intact: {check.entries} entries")
        return 0
    click.echo(f"audit log DAMAGED: {check.problem} (checked {check.entries} entries)")
    return EXIT_INVALID




@cli.command("backup")
@click.argument("folder", type=click.Path(exists=False, file_okay=False))
def backup_cmd(folder: str) -> None:
    """Back up the database and files into FOLDER (new), while the service runs."""
    from ..settings import Settings  # deferred: the database layer (see the top)
    from ..store.backup import backup

    manifest = backup(Settings.from_env(), folder)
    click.echo(f"backed up {sum(manifest['tables'].values())} rows in {len(manifest['tables'])} tables and "
               f"{len(manifest['files'])} files into {folder}")


@cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def restore_cmd(folder: str) -> None:
    """Restore the backup in FOLDER into the configured database and folders, which must be
    empty (stop the service first)."""
    from ..settings import Settings  # deferred: the database layer (see the top)
    from ..store.backup import restore

    manifest = restore(folder, Settings.from_env())
    click.echo(f"restored the backup of {manifest['made']} ({sum(manifest['tables'].values())} rows)")


@cli.command("restore-drill")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--scratch", type=click.Path(file_okay=False), default=None,
              help="A new folder to restore into  [default: a temporary one, removed after]")
@click.option("--database-url", default=None, help="An empty PostgreSQL database, for a PostgreSQL backup.")
def restore_drill_cmd(folder: str, scratch: str | None, database_url: str | None) -> int:
    """Restore FOLDER somewhere new and check it: rows per table, file hashes, the audit chain.
    Exit 1 if anything does not match."""
    from ..store.backup import drill  # deferred: the database layer (see the top)

    key = os.environ.get("STEPDOWN_DATA_KEY") or None
    with tempfile.TemporaryDirectory(prefix="stepdown-drill-") as tmp:
        result = drill(folder, Path(scratch) if scratch else Path(tmp) / "restored", database_url=database_url,
                       data_key=key)
    for what, ok, detail in result.checks:
        click.echo(f"{'ok  ' if ok else 'FAIL'} {what}{': ' + detail if detail else ''}")
    click.echo("restore drill passed" if result.ok else "restore drill FAILED")
    return 0 if result.ok else EXIT_INVALID
