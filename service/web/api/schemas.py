"""Request and response bodies of the API, split by role (input vs. public)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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


class CaseIn(_In):
    values: dict[str, Any] = Field(description="Case attributes: su_number, child_name, date_of_birth, ...")


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


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorOut(BaseModel):
    error: ErrorBody


ERRORS = {status: {"model": ErrorOut} for status in (401, 403, 404, 409, 413, 415, 422, 429)}
