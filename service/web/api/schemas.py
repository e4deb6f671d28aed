"""Request and response bodies of the API, split by role (input vs. public)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi.responses import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, create_model

from ...case_record import ATTRIBUTES, Attribute
from ...errors import RecordInvalid


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _whole(value: object) -> object:
    """A JSON integer (13, or 13.0 as JSON Schema counts it), never true/false or text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError("a whole number")
    return int(value)



class FormSummary(BaseModel):
    id: str
    title: str
    version: str
    organisation: str


class GenerateRequest(_In):
    form: str = Field(max_length=80, description="Form id, e.g. key-criteria")
    format: Literal["docx", "pdf"] = "docx"
    data: dict[str, Any] | None = Field(default=None, description="Prefill data; overrides the case's values")
    case_id: str | None = Field(default=None, max_length=36, description="Prefill from this case of your team")
    audience: Literal["professionals", "carers", "family", "child"] = Field(
        default="professionals", description="Whose version: another audience's holds only the fields it may see")


def _case_field(attribute: Attribute, required: bool):
    """One case attribute in a request: checked by the case record's own ``clean`` (so the API
    accepts exactly what the core stores, with the core's message) and documented by its
    ``json_schema``."""
    def check(value: object) -> object:
        try:
            cleaned = attribute.clean(value)
        except RecordInvalid as exc:
            raise ValueError(exc.message) from None
        if cleaned is None and required:
            raise ValueError(f"{attribute.label} is required.")
        return cleaned
    return Annotated[Any, BeforeValidator(check), WithJsonSchema(attribute.json_schema(required=required))]


class _CaseValuesBase(_In):
    def given(self) -> dict:
        """The values the request set (a PATCH changes only those), as the core cleaned them."""
        return self.model_dump(exclude_unset=True)


def _case_values_model(name: str, doc: str, required: frozenset[str] = frozenset()) -> type[BaseModel]:
    fields = {a.key: (_case_field(a, a.key in required), ... if a.key in required else None) for a in ATTRIBUTES}
    return create_model(name, __base__=_CaseValuesBase, __doc__=doc, **fields)


CaseValues = _case_values_model("CaseValues", "A child's details: the case attributes the forms prefill from. "
                                              "Empty or null clears one.")
NewCaseValues = _case_values_model("NewCaseValues", "A new case's details; the SU number is required.",
                                   frozenset({"su_number"}))


class CaseIn(_In):
    values: NewCaseValues


class CaseChangeIn(_In):
    values: CaseValues


class CaseOut(BaseModel):
    id: str
    su_number: str
    values: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class CaseChangeOut(BaseModel):
    key: str
    old: Any = None
    new: Any = None
    source: str
    submission_id: str | None
    by: str
    at: datetime


class CaseValueComparison(BaseModel):
    key: str
    case_value: Any = None
    form_value: Any = None
    status: Literal["new", "same", "conflict"]


class SubmissionSummary(BaseModel):
    id: str
    form: str
    spec_version: str
    document_version: str | None
    document_id: str | None
    format: str
    sha256: str
    size: int
    status: Literal["received", "accepted", "discarded"]
    case_id: str | None
    su_number: str | None = Field(default=None, description="The SU number of its case (in lists)")
    child_name: str | None = Field(default=None, description="The child's name in its case (in lists)")
    errors: int
    warnings: int
    uploaded_at: datetime
    uploaded_by: str | None
    accepted_at: datetime | None


class EarlierUpload(BaseModel):
    id: str
    uploaded_at: datetime
    status: Literal["received", "accepted", "discarded"]
    accepted_at: datetime | None
    same_file: bool = Field(description="The same bytes (otherwise the same document id: another save of it)")
    before: bool = Field(description="Uploaded before this one")


class Acceptance(BaseModel):
    code: Literal["first", "revision", "already_accepted", "older_revision"]
    message: str
    revises: str | None = Field(description="The accepted upload of the same document concerned, if any")


class SubmissionOut(SubmissionSummary):
    result: dict[str, Any] = Field(description="The extraction: data, sources, errors, warnings; the migration if "
                                               "the document was of an earlier version; the audience and the fields "
                                               "hidden from it if it was made for one")
    case_values: list[CaseValueComparison]
    uploads: list[EarlierUpload] | None = Field(
        default=None, description="The team's other uploads of the same document (same file, or same document id); "
                                  "given by GET /api/submissions/{id}, null in the upload's own answer")
    acceptance: Acceptance | None = Field(default=None, description="What accepting this upload would be (GET only)")


class AcceptRequest(_In):
    case_id: str | None = Field(default=None, max_length=36)
    create_case: bool = False
    resolutions: dict[str, Literal["form", "case"]] = Field(default_factory=dict)


class AcceptResult(BaseModel):
    id: str
    status: str
    case_id: str
    changed: list[str]
    revises: str | None = Field(default=None, description="The accepted upload of the same document this one revises")


class TokenRequest(_In):
    name: str = Field(default="script", max_length=80)
    days: Annotated[int, Field(ge=1, le=3650), BeforeValidator(_whole)] | None = Field(
        default=90, description="How long it lasts, in days; null: until revoked")


class TokenInfo(BaseModel):
    id: int
    name: str
    owner: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    state: Literal["active", "expired", "revoked"]


class TokenOut(BaseModel):
    token: str


class Me(BaseModel):
    username: str
    role: str
    team: str


class AuditCheckOut(BaseModel):
    ok: bool
    entries: int
    first_bad: int | None
    problem: str


class PackSummary(BaseModel):
    id: str
    title: str
    kind: Literal["meeting", "per_option"]
    purpose: str
    forms: list[str]
    columns: list[str]


class JobOut(BaseModel):
    id: str
    pack: str
    status: Literal["queued", "running", "done", "failed", "cancelled", "expired", "deleted"]
    total: int
    done: int
    current_row: int | None
    created_at: datetime
    finished_at: datetime | None
    error: str | None
    summary: dict[str, Any] | None
    download: bool


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS = {status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 413, 415, 422, 429)}


def model_json(model: type[BaseModel], content: dict, status_code: int = 200) -> Response:
    """``content``, a dict our own code made in ``model``'s shape, as the JSON FastAPI would
    send for it (fields left out take the model's default; times in UTC end in Z), written by
    orjson without validating it again: for the busiest answers (an upload's), where pydantic's
    validation and serialisation were a twentieth of a server process's time. The route keeps
    ``response_model`` for the API's description; a test holds the two outputs equal."""
    missing = model.model_fields.keys() - content.keys()
    if missing:
        content = {**content, **{name: model.model_fields[name].get_default(call_default_factory=True)
                                 for name in missing}}
    return Response(orjson.dumps(content, option=orjson.OPT_UTC_Z), status_code=status_code,
                    media_type="application/json")
