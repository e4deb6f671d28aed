"""Submissions: upload a completed .docx or .pdf, see what was read, accept it into a case."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from ...limits import check_document_size
from ...records import accept_submission, discard_submission, get_submission, list_submissions, receive_submission_async
from ..deps import ApiUser, Db, Forms
from .schemas import ERRORS, AcceptRequest, AcceptResult, SubmissionOut, SubmissionSummary, model_json

router = APIRouter(prefix="/submissions", tags=["submissions"], responses=ERRORS)


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    """The uploaded bytes, refused if over the limit (the body limit stops most earlier)."""
    raw = await upload.read(limit + 1)
    check_document_size(raw, limit)
    return raw  # an empty file is refused (and audited) by the casework layer


@router.post("", response_model=SubmissionOut, status_code=201)
async def upload(user: ApiUser, db: Db, registry: Forms,
                 file: Annotated[UploadFile, File(description="A completed .docx or .pdf form")],
                 case_id: Annotated[str | None, Form(max_length=36)] = None,
                 form: Annotated[str | None, Form(max_length=80)] = None) -> Response:
    raw = await read_upload(file, db.settings.max_upload_bytes)
    received = await receive_submission_async(db, user, registry, raw, case_id=case_id or None, form=form or None)
    return model_json(SubmissionOut, received, status_code=201)


@router.get("", response_model=list[SubmissionSummary],
            responses={200: {"headers": {"X-Total-Count": {"description": "How many match, on every page",
                                                           "schema": {"type": "integer"}}}}})
def submissions(response: Response, user: ApiUser, db: Db, form: Annotated[str | None, Query(max_length=80)] = None,
                status: Literal["received", "accepted", "discarded"] | None = None,
                case_id: Annotated[str | None, Query(max_length=36)] = None,
                page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                per_page: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict]:
    """Newest first, a page at a time (``X-Total-Count`` says how many in all); by default every
    status but discarded."""
    found = list_submissions(db, user, form=form, status=status, case_id=case_id, page=page, per_page=per_page)
    response.headers["X-Total-Count"] = str(found["total"])
    return found["items"] if found["page"] == page else []


@router.post("/{submission_id}/discard", response_model=SubmissionSummary)
def discard(submission_id: str, user: ApiUser, db: Db) -> dict:
    """Set aside an upload that could not be used; what was read from it is removed."""
    return discard_submission(db, user, submission_id)


@router.get("/{submission_id}", response_model=SubmissionOut)
def submission(submission_id: str, user: ApiUser, db: Db, registry: Forms) -> dict:
    return get_submission(db, user, registry, submission_id)


@router.post("/{submission_id}/accept", response_model=AcceptResult)
def accept(submission_id: str, body: AcceptRequest, user: ApiUser, db: Db, registry: Forms) -> dict:
    return accept_submission(db, user, registry, submission_id, case_id=body.case_id, create_case=body.create_case,
                             resolutions=body.resolutions)
