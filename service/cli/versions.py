"""The ``stepdown-forms`` commands about form versions: ``versions`` lists a form's published
versions, ``spec-diff`` says in words what changed between two, ``spec-publish`` records a new
version as published (after checking it loads and its migration holds)."""

from __future__ import annotations

import json

import click

from ..errors import SpecError
from ..spec.diff import describe
from ..spec.published import publish
from ..spec.registry import specs_dir
from . import _registry, cli


@cli.command("versions")
@click.argument("form")
@click.pass_context
def versions_cmd(ctx: click.Context, form: str) -> None:
    """List FORM's versions, oldest first (the last is the current one)."""
    registry = _registry(ctx)
    for version in registry.versions(form):
        spec = registry.version(form, version)
        migration = f"migrates from {spec.migration.from_}" if spec.migration else ""
        click.echo(f"{version:<10} {migration}")


@cli.command("spec-diff")
@click.argument("form")
@click.argument("v1")
@click.argument("v2")
@click.option("--json", "as_json", is_flag=True, help="Print the lines as a JSON list.")
@click.pass_context
def spec_diff_cmd(ctx: click.Context, form: str, v1: str, v2: str, as_json: bool) -> None:
    """Say what changed in FORM between versions V1 and V2 (either order), in words."""
    registry = _registry(ctx)
    known = registry.versions(form)
    for v in (v1, v2):
        if v not in known:
            raise SpecError(f"{form} has no version {v[:20]!r}; its versions: {', '.join(known)}")
    first, last = sorted((v1, v2), key=known.index)
    chain = registry.chain(form, first)
    chain = chain[:[s.version for s in chain].index(last) + 1]
    lines = describe(chain)
    click.echo(json.dumps(lines, indent=2, ensure_ascii=False) if as_json else "\n".join(lines))


@cli.command("spec-publish")
@click.argument("form")
@click.argument("version")
@click.pass_context
def spec_publish_cmd(ctx: click.Context, form: str, version: str) -> None:
    """Record FORM's VERSION as published: from then on its file may not change."""
    click.echo(publish(ctx.obj.get("specs") or specs_dir(), form, version))
