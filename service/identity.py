"""A generated document's identity: which form, which version of its spec, which document, when
it was made, and (for a version made for one audience: carers, family, child) whose version it
is. Word keeps it in the custom document properties (``docProps/custom.xml``) and PDF in the
document information dictionary, under the same names, spelled only here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from .dates import utc_stamp

FORM, VERSION, DOCUMENT_ID, GENERATED = "StepDownForm", "StepDownSpecVersion", "StepDownDocumentId", "StepDownGenerated"
AUDIENCE = "StepDownAudience"
NAMES = (FORM, VERSION, DOCUMENT_ID, GENERATED, AUDIENCE)
AUTHOR = "Step Down Forms"  # the author of every document we make (a word processor's PDF of one keeps it)


@dataclass(frozen=True)
class Identity:
    form: str | None = None
    version: str | None = None
    document_id: str | None = None
    generated: str | None = None  # utc_stamp text
    audience: str | None = None  # None: the full version, for professionals

    @classmethod
    def new(cls, spec, document_id: str | None = None, generated: datetime | None = None) -> "Identity":
        """The identity of a document being made now from ``spec`` (a new id unless given)."""
        return cls(spec.id, spec.version, document_id or str(uuid.uuid4()), utc_stamp(generated),
                   getattr(spec, "restricted_to", None))

    @classmethod
    def from_properties(cls, props: dict[str, str | None]) -> "Identity":
        return cls(*(props.get(name) or None for name in NAMES))

    def properties(self) -> list[tuple[str, str]]:
        """(name, value) in the order they are written (the audience only when there is one)."""
        values = (self.form, self.version, self.document_id, self.generated, self.audience)
        return [(name, value or "") for name, value in zip(NAMES, values) if name != AUDIENCE or value]

    @property
    def complete(self) -> bool:
        return bool(self.form and self.version and self.document_id)

    def or_else(self, other: "Identity") -> "Identity":
        """Each part of this identity, or ``other``'s where this one lacks it."""
        return Identity(self.form or other.form, self.version or other.version,
                        self.document_id or other.document_id, self.generated or other.generated,
                        self.audience or other.audience)
