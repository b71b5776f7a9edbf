"""Retries: a replay is the first answer (status, body, representation headers), no stored
answer keeps a secret, and expired records are swept on a schedule."""

import asyncio
from datetime import timedelta

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from app.core.config import Settings
from app.core.database import Database
from app.core.idempotency import sweep_expired
from app.main import create_app
from tests.helpers import bearer


async def stored_text(database: Database) -> str:
    """Everything the database keeps of idempotent answers and revisions, as text."""
    async with database.sessionmaker() as session:
        rows = await session.execute(
            text(
                "SELECT coalesce(body::text, '') || coalesce(headers::text, '') FROM idempotency_records "
                "UNION ALL SELECT data::text FROM revisions"
            )
        )
        return "\n".join(r[0] for r in rows)


async def test_a_created_key_is_never_stored_and_a_replay_says_so(
    admin: httpx.AsyncClient, database: Database
) -> None:
    headers = {"Idempotency-Key": "key-for-reader"}
    body = {"name": "Báo cáo viên", "role": "reader"}
    first = await admin.post("/v1/keys", json=body, headers=headers)
    assert first.status_code == 201, first.text
    raw = first.json()["key"]
    assert raw.startswith("thd_")
    assert raw not in await stored_text(database)

    again = await admin.post("/v1/keys", json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["key"] is None
    assert {k: v for k, v in again.json().items() if k != "key"} == {
        k: v for k, v in first.json().items() if k != "key"
    }
    listed = (await admin.get("/v1/keys")).json()["items"]
    assert [k["id"] for k in listed].count(first.json()["id"]) == 1
    assert (await admin.get("/v1/units/1", headers=bearer(raw))).status_code == 200


async def test_a_replay_carries_the_first_answers_headers(admin: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "cluster-81"}
    first = await admin.post(
        "/v1/clusters", json={"number": 81}, headers={**headers, "X-Request-ID": "first"}
    )
    await admin.patch("/v1/clusters/81", json={"note": "later"}, headers={"If-Match": first.headers["etag"]})
    again = await admin.post(
        "/v1/clusters", json={"number": 81}, headers={**headers, "X-Request-ID": "retry"}
    )
    assert again.status_code == first.status_code == 201
    assert again.content == first.content
    for name in ("location", "etag", "content-type"):
        assert again.headers[name] == first.headers[name], name
    assert again.headers["location"] == "/v1/clusters/81"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert (first.headers["x-request-id"], again.headers["x-request-id"]) == ("first", "retry")


async def test_a_membership_replay_has_its_location_and_etag(admin: httpx.AsyncClient) -> None:
    await admin.post("/v1/clusters", json={"number": 82})
    body = {"unit_id": 1, "cluster": 82, "valid_from": "2026-01-01"}
    headers = {"Idempotency-Key": "membership-82"}
    first = await admin.post("/v1/memberships", json=body, headers=headers)
    again = await admin.post("/v1/memberships", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["location"] == first.headers["location"] == f"/v1/memberships/{first.json()['id']}"
    assert again.headers["etag"] == first.headers["etag"]


async def insert_record(database: Database, key: str, age: timedelta) -> None:
    async with database.sessionmaker() as session, session.begin():
        await session.execute(
            text(
                "INSERT INTO idempotency_records"
                " (owner, key, fingerprint, status_code, body, created_at)"
                " SELECT 'key:' || min(id), :key, 'f', 201, '{}', now() - CAST(:age AS interval)"
                " FROM api_keys"
            ),
            {"key": key, "age": age},
        )


async def remaining(database: Database) -> set[str]:
    async with database.sessionmaker() as session:
        return set((await session.execute(text("SELECT key FROM idempotency_records"))).scalars())


async def test_expired_records_are_swept_whoever_made_them(
    database: Database, keys: object, settings: Settings
) -> None:
    await insert_record(database, "old", timedelta(hours=settings.idempotency_ttl_hours + 1))
    await insert_record(database, "fresh", timedelta(minutes=5))
    assert await sweep_expired(database.engine, timedelta(hours=settings.idempotency_ttl_hours)) == 1
    assert await remaining(database) == {"fresh"}


async def test_the_sweep_runs_on_a_schedule(database: Database, keys: object, settings: Settings) -> None:
    await insert_record(database, "old", timedelta(hours=settings.idempotency_ttl_hours + 1))
    app = create_app(settings.model_copy(update={"idempotency_sweep_minutes": 0.002}))
    async with LifespanManager(app):
        for _ in range(50):
            if "old" not in await remaining(database):
                break
            await asyncio.sleep(0.05)
    assert await remaining(database) == set()


async def test_an_expired_key_can_be_used_again(admin: httpx.AsyncClient, database: Database) -> None:
    headers = {"Idempotency-Key": "reused-after-expiry"}
    assert (await admin.post("/v1/clusters", json={"number": 83}, headers=headers)).status_code == 201
    async with database.sessionmaker() as session, session.begin():
        await session.execute(text("UPDATE idempotency_records SET created_at = now() - interval '30 days'"))
    fresh = await admin.post("/v1/clusters", json={"number": 84}, headers=headers)
    assert fresh.status_code == 201, fresh.text
    assert "idempotent-replayed" not in fresh.headers


async def test_a_key_expires_after_the_apps_own_ttl(
    database: Database, keys: object, settings: Settings
) -> None:
    """`IDEMPOTENCY_TTL_HOURS` of the app serving the request, the one its sweeper has too (it was
    read from the process's global settings: an app given 1 h still replayed for 24 h)."""
    app = create_app(settings.model_copy(update={"idempotency_ttl_hours": 1}))
    headers = {"Idempotency-Key": "expires-in-an-hour", **bearer(keys.admin)}  # type: ignore[attr-defined]
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        assert (await client.post("/v1/clusters", json={"number": 85}, headers=headers)).status_code == 201
        async with database.sessionmaker() as session, session.begin():
            await session.execute(
                text(
                    "UPDATE idempotency_records SET created_at = now() - interval '2 hours' "
                    "WHERE key = 'expires-in-an-hour'"
                )
            )
        fresh = await client.post("/v1/clusters", json={"number": 86}, headers=headers)
    assert fresh.status_code == 201, fresh.text
    assert "idempotent-replayed" not in fresh.headers
