"""What a person filling one of our blank PDF forms in a viewer enters for a data set, worked
out from the naming rule in docs/pdf.md, never from the writer."""

from __future__ import annotations


def flat_values(spec, sample) -> dict[str, object]:
    """Field name -> what a person filling the blank form in a viewer enters for ``sample``,
    worked out here from the naming rule in docs/pdf.md (never from the writer): paths with '/'
    between segments, rows by index, one box per option as ``name/option``; text as people
    read it (dates DD/MM/YYYY, a list one item per line), a choice's option value, True/False
    for a box."""
    out: dict[str, object] = {}

    def shown(f, v) -> str:
        if v in (None, "", []):
            return ""
        if f.type == "date":
            return f"{v[8:10]}/{v[5:7]}/{v[:4]}"
        if f.type == "datetime":
            return f"{v[8:10]}/{v[5:7]}/{v[:4]} {v[11:16]}"
        if f.type == "list":
            return "\n".join(v)
        return str(v)

    def walk(fields, values: dict, prefix: str) -> None:
        for f in fields:
            name, v = prefix + f.key, (values or {}).get(f.key)
            if f.type == "group":
                walk(f.fields, v or {}, name + "/")
            elif f.type == "repeat":
                for i, row in enumerate(v or []):
                    walk(f.fields, row, f"{name}/{i}/")
            elif f.type == "multichoice":
                for o in f.choices:
                    out[f"{name}/{o.value.replace('.', '%2E')}"] = o.value in (v or [])
            elif f.type == "checkbox":
                out[name] = bool(v)
            elif f.type == "choice":
                out[name] = v or ""
            else:
                out[name] = shown(f, v)

    walk(spec.fields, sample, "")
    return out
