import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict
from sqlalchemy import text

from app.core.config import Settings
from app.core.database import Database
from app.core.errors import DatabaseUnavailable, problem_responses
from app.core.i18n import _
from app.core.unavailable import unavailable_cause

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])

UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics")
"""Never rate-limited: probes and scrapers must always get through."""


class Health(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"status": "ok"}})

    status: str


@router.get("/healthz", operation_id="getHealth", summary="Liveness: the process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Readiness: the database answers",
    responses={503: {**problem_responses(503)[503], "description": "The database is unreachable or slow"}},
)
async def readyz(request: Request) -> Health:
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    try:
        async with asyncio.timeout(settings.readiness_timeout_seconds):
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        logger.warning("not ready: %s", unavailable_cause(exc) or type(exc).__name__)
        raise DatabaseUnavailable(
            _("The database is unreachable or did not answer in time."),
            headers={"Retry-After": str(settings.retry_after_seconds)},
        ) from exc
    return Health(status="ready")


@router.get(
    "/metrics",
    operation_id="getMetrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
async def metrics() -> PlainTextResponse:
    return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)
