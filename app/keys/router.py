from typing import Annotated

from fastapi import APIRouter, Body, Response, status

from app.auth.dependencies import AdminKey
from app.core.database import SessionDep
from app.core.errors import problem_responses
from app.core.idempotency import IdempotencyDep
from app.core.pagination import DEFAULT_LIMIT, Cursor, Limit, Page, decode_cursor
from app.core.params import RecordId
from app.keys import service
from app.keys.schemas import KeyCreate, KeyCreated, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=problem_responses(401, 403, 422, 500))


@router.get("", operation_id="listKeys", summary="List API keys (admin)")
async def list_keys(
    session: SessionDep, _: AdminKey, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[KeyOut]:
    after = decode_cursor(cursor)
    return await service.list_keys(session, limit=limit, after=after)


@router.post(
    "",
    operation_id="createKey",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key (admin)",
    description="The answer carries the key once; only its hash is stored. An idempotent replay "
    "(same `Idempotency-Key` and body) answers the same record with `key: null`: the secret "
    "is never stored, so it cannot be shown again. Lost it? Revoke the key and create another.",
    responses=problem_responses(404, 413),
)
async def create_key(
    session: SessionDep,
    key: AdminKey,
    idempotency: IdempotencyDep,
    body: Annotated[KeyCreate, Body()],
    response: Response,
) -> KeyCreated:
    return await idempotency.run(
        lambda: service.create_key(session, body, key.actor),
        response=response,
        remembered=lambda created: created.model_copy(update={"key": None}),
    )


@router.delete(
    "/{key_id}",
    operation_id="revokeKey",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key (admin)",
    description="The key stops working at once; its record stays, with `revoked_at`. "
    "A key cannot revoke itself (409), so an admin cannot lock themselves out by mistake.",
    responses=problem_responses(404, 409),
)
async def revoke_key(session: SessionDep, key: AdminKey, key_id: RecordId) -> Response:
    await service.revoke_key(session, key_id, key.key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
