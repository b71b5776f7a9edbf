from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from app.auth.dependencies import AdminKey
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.successions import service
from app.successions.schemas import SuccessionConflict, SuccessionCreate, SuccessionOut

router = APIRouter(
    prefix="/v1/successions",
    tags=["units"],
    responses=problem_responses(401, 403, 404, 413, 422, 500, models={409: SuccessionConflict}),
)


@router.post(
    "",
    operation_id="recordSuccession",
    status_code=status.HTTP_201_CREATED,
    summary="Record a merge, split or rename (admin)",
    description="Closes the predecessors the day before `effective_date`, opens the new units, "
    "links them, ends the predecessors' open memberships, and reports what it did, including "
    "leaderships held by the ceasing units (kept as decided).",
)
async def record_succession(
    session: SessionDep,
    key: AdminKey,
    idempotency: IdempotencyDep,
    body: Annotated[SuccessionCreate, Body()],
    response: Response,
) -> SuccessionOut:
    return await idempotency.run(
        lambda: service.record_succession(session, body, key.actor), response=response
    )
