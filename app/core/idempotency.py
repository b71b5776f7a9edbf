"""`Idempotency-Key` on creating POSTs: a retry replays the first answer and writes nothing twice.

The key is claimed inside the request's transaction, so a failed request leaves no claim,
and two concurrent requests with one key serialize on the unique index: the second waits,
then replays the first one's answer. A replay carries the first answer's status, body and
representation headers (`Location`, `ETag`, `Content-Type`, `Content-Language`: a replay is in
the language of the first answer, whatever the retry asks); what is remembered never holds a
secret (see `remembered` in `Idempotency.run`). Records older than `IDEMPOTENCY_TTL_HOURS`
are forgotten: swept on a schedule by `sweep_expired_forever`, and ignored before then.
"""

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import app_settings
from app.core.database import SessionDep, table
from app.core.errors import Unprocessable
from app.core.i18n import _, current_locale
from app.core.identity import Caller, identity_of
from app.core.models import IdempotencyRecord
from app.core.numbers import ExactJSONResponse, parse_json

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

REPLAYED_HEADER = "Idempotent-Replayed"
_records = table(IdempotencyRecord)


class IdempotentReplay(Exception):
    def __init__(self, status_code: int, body: Any, headers: dict[str, str] | None) -> None:
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}


def replay_response(replay: IdempotentReplay) -> JSONResponse:
    headers = {k: v for k, v in replay.headers.items() if k.lower() != "content-type"}
    media_type = replay.headers.get("Content-Type", "application/json")
    return ExactJSONResponse(
        replay.body,
        status_code=replay.status_code,
        headers={**headers, REPLAYED_HEADER: "true"},
        media_type=media_type,
    )


def _expired(ttl: timedelta) -> Any:
    return _records.c.created_at < func.now() - ttl


class Idempotency:
    def __init__(
        self,
        session: SessionDep,
        key: Caller,
        request: Request,
        idempotency_key: str | None,
        body: bytes,
        ttl: timedelta,
    ) -> None:
        """`ttl`: `IDEMPOTENCY_TTL_HOURS` of the app serving the request, as its sweeper has it."""
        self.session = session
        self.ttl = ttl
        self.owner = key.rate_limit_key
        self.key = idempotency_key
        # Only a request that carries a key is fingerprinted: a body is never parsed for nothing.
        self.fingerprint = _fingerprint(request, body) if idempotency_key is not None else ""

    async def run(
        self,
        create: Callable[[], Awaitable[M]],
        *,
        response: Response,
        status_code: int | Callable[[M], int] = 201,
        headers: Callable[[M], dict[str, str]] | None = None,
        remembered: Callable[[M], BaseModel] | None = None,
    ) -> M:
        """Create once per key (`status_code`: the answer's, or a function of the result).
        `headers` gives the answer's representation headers (set on
        `response` and replayed); `remembered` the body kept for replays, when the answer holds
        something that must not be stored (a secret)."""
        claimed = await self._claim() if self.key is not None else None
        result = await create()
        representation = headers(result) if headers else {}
        response.headers.update(representation)
        if claimed is not None:
            kept = remembered(result) if remembered else result
            await self.session.execute(
                update(_records)
                .where(_records.c.id == claimed)
                .values(
                    status_code=status_code(result) if callable(status_code) else status_code,
                    body=kept.model_dump(mode="json"),
                    headers={
                        "Content-Type": "application/json",
                        "Content-Language": current_locale(),
                        **representation,
                    },
                )
            )
        return result

    async def _claim(self) -> int:
        """Claim the key, or raise the replay of its first answer."""
        mine = (_records.c.owner == self.owner) & (_records.c.key == self.key)
        await self.session.execute(delete(_records).where(mine, _expired(self.ttl)))
        claimed: int | None = (
            await self.session.execute(
                insert(_records)
                .values(owner=self.owner, key=self.key, fingerprint=self.fingerprint)
                .on_conflict_do_nothing(index_elements=["owner", "key"])
                .returning(_records.c.id)
            )
        ).scalar_one_or_none()
        if claimed is not None:
            return claimed
        first = (
            await self.session.execute(
                select(
                    _records.c.fingerprint, _records.c.status_code, _records.c.body, _records.c.headers
                ).where(mine)
            )
        ).one()
        if first.fingerprint != self.fingerprint:
            raise Unprocessable(
                _("This Idempotency-Key was already used with a different request."),
                idempotency_key=self.key,
            )
        raise IdempotentReplay(first.status_code, first.body, first.headers)


_CANONICAL_BYTES = 1_048_576
"""Bodies up to this size are compared as JSON (member order aside); larger ones (a bulk push)
byte for byte, so that fingerprinting never parses a 16 MiB body into millions of objects."""


def _fingerprint(request: Request, body: bytes) -> str:
    canonical = body
    if len(body) <= _CANONICAL_BYTES:
        try:
            canonical = json.dumps(
                parse_json(body), sort_keys=True, separators=(",", ":"), default=str
            ).encode()
        except (ValueError, RecursionError):
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


async def sweep_expired(engine: AsyncEngine, ttl: timedelta) -> int:
    """Delete every idempotency record older than `ttl`; returns how many."""
    async with engine.begin() as connection:
        result = await connection.execute(delete(_records).where(_expired(ttl)))
    return int(result.rowcount or 0)


async def sweep_expired_forever(engine: AsyncEngine, ttl: timedelta, every_seconds: float) -> None:
    """The scheduled sweep each instance runs; a failed sweep (database down) is retried later."""
    while True:
        try:
            swept = await sweep_expired(engine, ttl)
            if swept:
                logger.info("swept %d expired idempotency records", swept)
        except Exception as exc:  # the sweep must outlive outages
            logger.warning("idempotency sweep failed: %s", type(exc).__name__)
        await asyncio.sleep(every_seconds)


async def _idempotency(
    session: SessionDep,
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Any unique string (a UUID); a retry with the same key and body "
            "replays the first answer; with another body it is 422.",
        ),
    ] = None,
) -> Idempotency:
    ttl = timedelta(hours=app_settings(request).idempotency_ttl_hours)
    key = await identity_of(request.scope).resolve(session)
    assert key is not None, "an idempotent route declares its key dependency before this one"
    return Idempotency(session, key, request, idempotency_key, await request.body(), ttl)


IdempotencyDep = Annotated[Idempotency, Depends(_idempotency)]
