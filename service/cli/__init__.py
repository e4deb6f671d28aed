"""The ``stepdown-forms`` command. Thin: parse arguments, call the public surface, print.

Exit codes: 0 success / valid; 1 the data was read but is invalid; 2 unusable input (unknown
form, unreadable JSON, a broken spec, bad arguments), always with a one-line message.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from tqdm import tqdm

import service

from ..case_record import su_key
from ..packs import packs_for
from ..packs.batch import run_batch
from ..packs.template import template_xlsx
from ..spec.audiences import only_what_it_holds, restricted
from ..spec.model import AUDIENCES

# The service's own commands import the database and web layers when they run: those take half a
# second to a second to load, which every document command would otherwise pay.

EXIT_INVALID = 1
EXIT_UNUSABLE = 2


def _registry(ctx: click.Context) -> service.Registry:
    folder = ctx.obj.get("specs")
    return service.Registry(folder) if folder else service.default_registry()


def _read_data(path: str) -> object:
    if path == "-":
        return service.parse_json_data(sys.stdin.buffer.read(service.MAX_DATA_BYTES + 1), source="standard input")
    return service.load_json_file(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--specs", type=click.Path(file_okay=False), envvar="STEPDOWN_SPECS_DIR",
              help="Folder of form specs (default: form_specs/ beside the package).")
@click.pass_context
def cli(ctx: click.Context, specs: str | None) -> None:
    """Step Down Forms: fillable forms for children's social care, driven by form specs."""
    ctx.obj = {"specs": specs}


@cli.command("forms")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def forms_cmd(ctx: click.Context, as_json: bool) -> None:
    """List the forms: id, title and spec version."""
    specs = _registry(ctx).all()
    if as_json:
        click.echo(json.dumps([{"id": s.id, "title": s.title, "version": s.version,
                                "organisation": s.organisation} for s in specs], indent=2))
        return
    width = max((len(s.id) for s in specs), default=2)
    for s in specs:
        click.echo(f"{s.id:<{width}}  {s.version:<8}  {s.title}")


@cli.command("schema")
@click.argument("form")
@click.pass_context
def schema_cmd(ctx: click.Context, form: str) -> None:
    """Print the JSON Schema (draft 2020-12) of FORM's data."""
    spec = _registry(ctx).get(form)
    click.echo(json.dumps(service.json_schema(spec), indent=2, ensure_ascii=False))


@cli.command("validate")
@click.argument("form")
@click.argument("data", metavar="DATA.json")
@click.option("--partial", is_flag=True, help="A draft or prefill: don't require required fields.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def validate_cmd(ctx: click.Context, form: str, data: str, partial: bool, as_json: bool) -> None:
    """Check DATA.json against FORM: errors, then policy warnings. Use - for standard input."""
    spec = _registry(ctx).get(form)
    parsed = _read_data(data)
    report = service.validate(spec, parsed, partial=partial)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_report(report)
    ctx.exit(0 if report.valid else EXIT_INVALID)


@cli.command("generate")
@click.argument("form")
@click.option("--data", "data_path", metavar="DATA.json", help="Prefill values (a draft; need not be complete).")
@click.option("--format", "fmt", type=click.Choice(["docx", "pdf"]), default="docx", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the document.")
@click.option("--shell", default="auto", show_default=True, metavar="auto|none|FILE.docx",
              help="Branded header, footer and logo (Word and PDF): the organisation's own (auto), none, or a shell file.")
@click.option("--layout", "layout_path", metavar="FILE.docx",
              help="Fill a designer's own Word layout (see check-layout) instead of ours.")
@click.option("--spec-version", metavar="VERSION", help="An earlier published version of the form (default: current).")
@click.option("--audience", type=click.Choice(AUDIENCES), default="professionals", show_default=True,
              help="Whose version: another audience's holds only the fields it may see.")
@click.pass_context
def generate_cmd(ctx: click.Context, form: str, data_path: str | None, fmt: str, out: str, shell: str,
                 layout_path: str | None, spec_version: str | None, audience: str) -> None:
    """Write a fillable FORM document (Word or PDF), blank or prefilled from --data."""
    registry = _registry(ctx)
    spec = registry.get(form)
    if spec_version:
        spec = registry.version(form, spec_version)
        if spec is None:
            raise service.DataError(f"{form} has no version {spec_version[:20]!r}; its versions: "
                                    f"{', '.join(registry.versions(form))}")
    data = _read_data(data_path) if data_path else None
    if data is not None and not isinstance(data, dict):
        raise service.DataError(f"{data_path} should hold a JSON object of field values")
    if audience != "professionals":
        spec = restricted(spec, audience)
        data = only_what_it_holds(spec, data) if data is not None else None
    shell_arg: bytes | str | None = None if shell == "none" else ("auto" if shell == "auto" else _read_document(shell))
    if fmt == "pdf" and layout_path:
        raise service.DataError("--layout applies to Word documents only")
    layout = _read_document(layout_path) if layout_path else None
    document = service.generate_document(spec, data, format=fmt, shell=shell_arg, layout=layout)
    _write_atomically(Path(out), document)
    whose = f", for {audience}" if audience != "professionals" else ""
    click.echo(f"wrote {out} ({spec.id} {spec.version}{whose}, {len(document):,} bytes)")


@cli.command("extract")
@click.argument("file", metavar="FILE.docx|FILE.pdf")
@click.option("--form", help="The form the document should be (required if it lacks our identity).")
@click.pass_context
def extract_cmd(ctx: click.Context, file: str, form: str | None) -> None:
    """Read a completed form document and print its data, sources, errors and warnings as JSON."""
    raw = _read_document(file)
    result = service.extract_document(raw, _registry(ctx), form=form)
    click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    ctx.exit(0 if result.valid else EXIT_INVALID)


@cli.command("check-layout")
@click.argument("form")
@click.argument("file", metavar="FILE.docx")
@click.pass_context
def check_layout_cmd(ctx: click.Context, form: str, file: str) -> None:
    """Check a designer's Word layout, tagged with FORM's field paths, against the spec."""
    result = service.check_layout(_registry(ctx).get(form), _read_document(file))
    click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    ctx.exit(0 if result.ok else EXIT_INVALID)


def _read_document(path: str) -> bytes:
    p = Path(path)
    try:
        if p.is_dir():
            raise service.DataError(f"{path} is a folder, not a file")
        if p.stat().st_size > service.MAX_DOCUMENT_BYTES:
            raise service.DocumentError(f"{path} is larger than {service.MAX_DOCUMENT_BYTES // (1024 * 1024)} MiB",
                                        "file_too_large")
        return p.read_bytes()
    except OSError as exc:
        raise service.DataError(f"cannot read {path}: {exc.strerror}") from None


def _write_atomically(path: Path, content: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: never a half-written document."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise service.DataError(f"cannot write {path}: {exc.strerror}") from None


def _print_report(report: service.Report) -> None:
    n_err, n_warn = len(report.errors), len(report.warnings)
    verdict = "valid" if report.valid else "invalid"
    click.echo(f"{report.form} {report.spec_version}: {verdict}, "
               f"{n_err} error{'' if n_err == 1 else 's'}, {n_warn} warning{'' if n_warn == 1 else 's'}")
    for issue in report.errors:
        click.echo(f"  error    {issue.path}: {issue.message} [{issue.code}]")
    for issue in report.warnings:
        click.echo(f"  warning  {issue.path}: {issue.message} [{issue.rule or issue.code}]")


# -- meeting packs ----------------------------------------------------------------------------

@cli.command("packs")
@click.pass_context
def packs_cmd(ctx: click.Context) -> None:
    """List the meeting packs and the forms in each."""
    for pack in packs_for(_registry(ctx)).all():
        click.echo(f"{pack.id:<30}  {pack.title}  ({', '.join(f.form for f in pack.forms)})")


@cli.command("pack-template")
@click.argument("pack_id", metavar="PACK")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the .xlsx")
@click.pass_context
def pack_template_cmd(ctx: click.Context, pack_id: str, out: str) -> None:
    """Write the spreadsheet template for a batch of PACK meetings."""
    _write_atomically(Path(out), template_xlsx(packs_for(_registry(ctx)).get(pack_id)))
    click.echo(f"wrote {out}")


def _team_cases(team: str, registry, pack) -> tuple[dict[str, dict], dict[str, dict]]:
    """SU key -> case values of ``team``, and -> the last meeting's records, read once (and the
    read audited)."""
    from ..records.jobs import team_case_values  # deferred: the database layer (see the top)

    return team_case_values(_database(), team, registry, pack)


@cli.command("pack")
@click.argument("pack_id", metavar="PACK")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="Meetings: .xlsx, .csv or .json, one row per meeting (see pack-template).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The ZIP to write.")
@click.option("--workers", default=os.cpu_count() or 1, show_default=True, type=click.IntRange(0, 64),
              help="Processes building packs (0: build in this process).")
@click.option("--formats", default="docx,pdf", show_default=True, help="docx, pdf or both.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--cases-of-team", "team", default=None,
              help="Also prefill from this team's cases in the service's database (DATABASE_URL).")
@click.pass_context
def pack_cmd(ctx: click.Context, pack_id: str, input_path: str | None, out: str, workers: int, formats: str,
             quiet: bool, team: str | None) -> int:
    """Build a batch of PACK meeting packs into one ZIP (a folder per meeting, a manifest).
    Exit 0: every row built; 1: some rows had problems (listed; the rest were built)."""
    registry = _registry(ctx)
    pack = packs_for(registry).get(pack_id)
    chosen = tuple(f.strip() for f in formats.split(",") if f.strip())
    if not chosen or any(f not in ("docx", "pdf") for f in chosen):
        raise click.BadParameter("--formats takes docx, pdf or docx,pdf")
    raw = Path(input_path).read_bytes() if input_path else None
    bar = tqdm(total=0, unit="pack", disable=quiet, file=sys.stderr, dynamic_ncols=True)

    def progress(done: int, total: int, row: int | None) -> None:
        bar.total = total
        bar.set_postfix_str(f"row {row}")
        bar.update(done - bar.n)

    cases, history = _team_cases(team, registry, pack) if team else ({}, {})
    lookups = {"case_lookup": lambda su: cases.get(su_key(su)),
               "history_lookup": lambda su: history.get(su_key(su))} if team else {}
    try:
        result = run_batch(pack, registry, raw, out, workers=workers, formats=chosen, progress=progress, **lookups)
    finally:
        bar.close()
    failed = result.rows - result.built
    click.echo(f"{pack.title}: {result.built} of {result.rows} packs built into {out}; "
               f"{failed} row{'s' if failed != 1 else ''} with problems, {result.warnings} warnings")
    for p in result.problems:
        click.echo(f"  {p}")
    return 0 if failed == 0 and not [p for p in result.problems if p.row > 1] else EXIT_INVALID


# the web service, its workers and its accounts: operations.py (registered on ``cli`` below)

def _database():
    from ..settings import Settings  # deferred: the database layer (see the top)
    from ..store import Database

    db = Database(Settings.from_env())
    db.migrate()
    return db


def main(argv: list[str] | None = None) -> int:
    try:
        rv = cli.main(args=argv, prog_name="stepdown-forms", standalone_mode=False)
    except service.StepDownError as exc:
        click.echo(f"stepdown-forms: {exc}", err=True)
        return EXIT_UNUSABLE
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"stepdown-forms: {exc.format_message()}", err=True)
        return EXIT_UNUSABLE
    except click.exceptions.Abort:
        click.echo("stepdown-forms: aborted", err=True)
        return EXIT_UNUSABLE
    except Exception as exc:  # never a traceback at the terminal
        click.echo(f"stepdown-forms: internal error ({type(exc).__name__}); please report it", err=True)
        return EXIT_UNUSABLE
    return rv if isinstance(rv, int) else 0


from . import operations, versions  # noqa: E402,F401  (register their commands on ``cli``)

if __name__ == "__main__":
    sys.exit(main())
