"""Request and response bodies of the API, split by role (input vs. public)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


def _text_only(value: object) -> object:
    """Dates come as text (YYYY-MM-DD), never as numbers read as timestamps."""
    if value is not None and not isinstance(value, str):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


def _whole_number(value: object) -> object:
    """A whole number (13 or 13.0, as JSON allows), never true/false or text."""
    if value is None:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a whole number")
        return int(value)
    return value


_Text = Annotated[str | None, Field(default=None, max_length=1000)]


class CaseValues(_In):
    """A child's details: the case attributes the forms prefill from. Empty or null clears one."""

    su_number: Annotated[str | None, Field(default=None, max_length=40, pattern=r"^\s*\S.*$")] = None
    child_name: _Text = None
    date_of_birth: Annotated[date | None, BeforeValidator(_text_only)] = None
    age: Annotated[Annotated[int, Field(ge=0, le=30)] | None, BeforeValidator(_whole_number)] = None
    legal_status: _Text = None
    ethnicity: _Text = None
    primary_language: _Text = None
    religion: _Text = None
    local_authority: _Text = None
    residential_home: _Text = None
    key_worker_name: _Text = None
    social_worker_name: _Text = None
    supervising_social_worker_name: _Text = None
    team_manager_name: _Text = None
    iro_name: _Text = None
    advocate_name: _Text = None
    foster_carer_names: _Text = None

    def given(self) -> dict:
        return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in self.model_dump(exclude_unset=True).items()}


class NewCaseValues(CaseValues):
    su_number: Annotated[str, Field(max_length=40, pattern=r"^\s*\S.*$")]


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
    status: Literal["received", "accepted"]
    case_id: str | None
    errors: int
    warnings: int
    uploaded_at: datetime
    uploaded_by: str | None
    accepted_at: datetime | None


class SubmissionOut(SubmissionSummary):
    result: dict[str, Any] = Field(description="The extraction: data, sources, errors, warnings")
    case_values: list[CaseValueComparison]


class AcceptRequest(_In):
    case_id: str | None = Field(default=None, max_length=36)
    create_case: bool = False
    resolutions: dict[str, Literal["form", "case"]] = Field(default_factory=dict)


class AcceptResult(BaseModel):
    id: str
    status: str
    case_id: str
    changed: list[str]


class TokenRequest(_In):
    name: str = Field(default="script", max_length=80)


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
    status: Literal["queued", "running", "done", "failed", "cancelled", "expired"]
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
