"""Read a YAML spec file into a :class:`FormSpec`, or say exactly where it is wrong.

YAML is parsed with a safe loader (no tags, no objects) that also refuses duplicate keys and
reads only ``true``/``false`` as booleans (YAML 1.1 would turn an option value ``no`` into
False). Pydantic then checks the shape; its error locations are walked back through the YAML
node tree to the line they came from, so a message reads

    form_specs/ramp.yaml:41 at sections[2].fields[0].type: unknown field type 'textbox' ...
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from ..errors import SpecError
from .model import FIELD_TYPES, FormSpec

MAX_SPEC_BYTES = 1_000_000
_RULE_KINDS = ("interval", "when", "required_if", "date_limit")


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and no duplicate keys."""


_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_mapping(loader: _SpecLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = (key_node.tag, key_node.value) if isinstance(key_node, yaml.ScalarNode) else id(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key_node.value!r}", key_node.start_mark
            )
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_SpecLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_spec_file(path: str | Path) -> FormSpec:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the file ({exc.strerror})", file=str(path)) from None
    return load_spec_text(raw, file=str(path))


def load_spec_text(raw: bytes | str, *, file: str = "<spec>") -> FormSpec:
    spec = load_model_text(raw, FormSpec, file=file,
                           shape="a spec is a YAML mapping (id, title, version, sections, ...)")
    if spec.restricted_to is not None:
        raise SpecError("restricted_to is set by the service on the version made for one audience; give fields "
                        "an audience instead", file=file, location="restricted_to")
    return spec


def load_model_text(raw: bytes | str, model, *, file: str, shape: str):
    """YAML text read safely into a pydantic ``model``; any problem is a SpecError naming the
    file, the line and the place. Used for form specs and for pack definitions."""
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"the file is larger than {MAX_SPEC_BYTES} bytes", file=file)
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(f"not UTF-8 text (byte {exc.start})", file=file) from None
    try:
        node = yaml.compose(raw, Loader=_SpecLoader)
        data = yaml.load(raw, Loader=_SpecLoader)  # noqa: S506 - _SpecLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError(f"not valid YAML: {exc.problem or exc.context}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"not valid YAML: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise SpecError(shape, file=file, line=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _spec_error(exc, node, file) from None


def _spec_error(exc: ValidationError, root: yaml.Node, file: str) -> SpecError:
    problems = exc.errors(include_url=False)
    first = problems[0]
    loc = tuple(first["loc"])
    line, where = _locate(root, loc)
    message = _explain(first)
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return SpecError(message, file=file, location=where or "the top level", line=line)


def _locate(root: yaml.Node, loc: tuple) -> tuple[int | None, str]:
    """Follow a pydantic error location through the YAML nodes: (line, 'a.b[2].c')."""
    node, parts = root, []
    for step in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            child = next((v for k, v in node.value if k.value == step), None)
            if child is None:
                if step in FIELD_TYPES or step in _RULE_KINDS or not _is_user_key(step, node):
                    continue  # a union tag or type name pydantic adds to the location
                parts.append(f".{step}")
                break
            node = child
            parts.append(f".{step}")
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                break
            node = node.value[step]
            parts.append(f"[{step}]")
    where = "".join(parts).lstrip(".")
    return (node.start_mark.line + 1 if node is not None else None), where


def _is_user_key(step: str, node: yaml.MappingNode) -> bool:
    # pydantic also inserts type names such as 'list[Option]' or 'str'; only plain names count.
    return re.fullmatch(r"[a-z_][a-z0-9_]*", step) is not None and step not in {"str", "int", "bool"}


_PATTERN_HINTS = {
    "key": "keys are lower-case letters, digits and _, starting with a letter (no dots or spaces)",
    "version": "version is semantic, like 1.0.0",
    "id": "ids are lower-case letters, digits and -",
    "value": "option values are letters, digits, '.', '-' and '_'",
}


def _explain(err: dict) -> str:
    loc = err["loc"]
    last = next((s for s in reversed(loc) if isinstance(s, str) and s not in FIELD_TYPES), "")
    kind = err["type"]
    if kind == "missing":
        return f"missing required setting {last!r}"
    if kind == "extra_forbidden":
        return f"unknown setting {last!r}"
    if kind in ("string_pattern_mismatch", "string_type") and last in _PATTERN_HINTS:
        return _PATTERN_HINTS[last] + (" (write it in quotes)" if kind == "string_type" else "")
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        what = str(ctx.get("discriminator", "type")).strip("'")
        return f"unknown {what} {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"missing {str(err.get('ctx', {}).get('discriminator', 'type')).strip(chr(39))}"
    msg = err["msg"]
    return msg.removeprefix("Value error, ")
