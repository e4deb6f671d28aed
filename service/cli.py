"""The ``stepdown-forms`` command. Thin: parse arguments, call the public surface, print.

Exit codes: 0 success / valid; 1 the data was read but is invalid; 2 unusable input (unknown
form, unreadable JSON, a broken spec, bad arguments), always with a one-line message.
"""

from __future__ import annotations

import json
import sys

import click

import service

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


def _print_report(report: service.Report) -> None:
    n_err, n_warn = len(report.errors), len(report.warnings)
    verdict = "valid" if report.valid else "invalid"
    click.echo(f"{report.form} {report.spec_version}: {verdict}, "
               f"{n_err} error{'' if n_err == 1 else 's'}, {n_warn} warning{'' if n_warn == 1 else 's'}")
    for issue in report.errors:
        click.echo(f"  error    {issue.path}: {issue.message} [{issue.code}]")
    for issue in report.warnings:
        click.echo(f"  warning  {issue.path}: {issue.message} [{issue.rule or issue.code}]")


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


if __name__ == "__main__":
    sys.exit(main())
