"""Cases: a child's record for the user's team, its history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ...records import case_history, create_case, get_case_async, list_cases, update_case
from ..deps import ApiUser, Db
from .schemas import ERRORS, CaseChangeIn, CaseChangeOut, CaseIn, CaseOut

router = APIRouter(prefix="/cases", tags=["cases"], responses=ERRORS)


@router.get("", response_model=list[CaseOut])
def cases(user: ApiUser, db: Db, q: Annotated[str | None, Query(max_length=100, description="SU number or name")] = None
          ) -> list[dict]:
    return list_cases(db, user, search=q)


@router.post("", response_model=CaseOut, status_code=201)
def new_case(body: CaseIn, user: ApiUser, db: Db) -> dict:
    return create_case(db, user, body.values.given())


@router.get("/{case_id}", response_model=CaseOut)
async def one_case(case_id: str, user: ApiUser, db: Db) -> dict:
    return await get_case_async(db, user, case_id)


@router.patch("/{case_id}", response_model=CaseOut)
def change_case(case_id: str, body: CaseChangeIn, user: ApiUser, db: Db) -> dict:
    return update_case(db, user, case_id, body.values.given())


@router.get("/{case_id}/history", response_model=list[CaseChangeOut])
def history(case_id: str, user: ApiUser, db: Db) -> list[dict]:
    return case_history(db, user, case_id)
