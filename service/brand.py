"""An organisation's branding, the same on a Word form and on its PDF: the header and footer of
its shell (``templates_docx/<organisation>.docx``, rendered once in a sandbox by
``service.docx.branding``) as lines of text, its logo, and the values the shell's tags are
filled with. The Word writer moves the shell's header and footer into the document; the PDF
writer draws the same lines and logo in its margins, protective marking included."""

from __future__ import annotations

from dataclasses import dataclass

from .identity import Identity


@dataclass(frozen=True)
class Brand:
    header: tuple[str, ...] = ()
    footer: tuple[str, ...] = ()
    logo: bytes | None = None  # PNG or JPEG
    logo_kind: str | None = None  # "png" or "jpeg"


def shell_context(spec, identity: Identity) -> dict[str, str]:
    """What a shell's tags are filled with."""
    when = identity.generated or ""
    return {"organisation": spec.organisation, "form_title": spec.title, "form_id": spec.id,
            "spec_version": spec.version, "document_id": identity.document_id or "",
            "generated": f"{when[8:10]}/{when[5:7]}/{when[:4]}" if len(when) >= 10 else ""}
