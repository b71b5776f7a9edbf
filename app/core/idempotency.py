"""`Idempotency-Key` on creating POSTs: a retry replays the first answer and writes nothing twice.

The key is claimed inside the request's transaction, so a failed request leaves no claim,
and two concurrent requests with one key serialize on the unique index: the second waits,
then replays the first one's answer.
"""

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert

from app.core.config import get_settings
from app.core.database import SessionDep, table
from app.core.errors import Unprocessable
from app.core.models import IdempotencyRecord
from app.core.security import CurrentKey

M = TypeVar("M", bound=BaseModel)


class IdempotentReplay(Exception):
    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body


def replay_response(status_code: int, body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, headers={"Idempotent-Replayed": "true"})


class Idempotency:
    def __init__(
        self,
        session: SessionDep,
        key: CurrentKey,
        request: Request,
        idempotency_key: str | None,
        body: bytes,
    ) -> None:
        self.session = session
        self.api_key_id = key.key_id
        self.key = idempotency_key
        self.fingerprint = _fingerprint(request, body)

    async def run(self, create: Callable[[], Awaitable[M]], status_code: int) -> M:
        if self.key is None:
            return await create()
        records = table(IdempotencyRecord)
        ttl = timedelta(hours=get_settings().idempotency_ttl_hours)
        await self.session.execute(
            delete(records).where(
                records.c.api_key_id == self.api_key_id, records.c.created_at < func.now() - ttl
            )
        )
        claimed = (
            await self.session.execute(
                insert(records)
                .values(api_key_id=self.api_key_id, key=self.key, fingerprint=self.fingerprint)
                .on_conflict_do_nothing(index_elements=["api_key_id", "key"])
                .returning(records.c.id)
            )
        ).scalar_one_or_none()
        if claimed is None:
            first = (
                await self.session.execute(
                    select(records.c.fingerprint, records.c.status_code, records.c.body).where(
                        records.c.api_key_id == self.api_key_id, records.c.key == self.key
                    )
                )
            ).one()
            if first.fingerprint != self.fingerprint:
                raise Unprocessable(
                    "This Idempotency-Key was already used with a different request.",
                    idempotency_key=self.key,
                )
            raise IdempotentReplay(first.status_code, first.body)
        result = await create()
        await self.session.execute(
            update(records)
            .where(records.c.id == claimed)
            .values(status_code=status_code, body=result.model_dump(mode="json"))
        )
        return result


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (
        request.method.encode(),
        request.url.path.encode(),
        request.url.query.encode(),
        canonical,
    ):
        digest.update(part + b"\0")
    return digest.hexdigest()


async def _idempotency(
    session: SessionDep,
    key: CurrentKey,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Any unique string (a UUID); a retry with the same key and body "
            "replays the first answer; with another body it is 422.",
        ),
    ] = None,
) -> Idempotency:
    return Idempotency(session, key, request, idempotency_key, await request.body())


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
