"""PUBLIC_READS (issue 20): the published results (the year sheet, frozen standings, granted
awards) read without a credential, counted per client address; everything else, and everything
when the setting is off (the default), still needs a key or a token.

Each test runs an instance of its own (`create_app` with the setting on) over the worker's
database, its read cache in use, and writes through it with an admin key, so that its cache is
the one the anonymous reads meet."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import ValidationError

from app.core.cache import ReadCache
from app.core.config import Settings
from app.core.database import Database
from app.core.identity import without_people
from app.main import create_app
from tests.awards_helpers import cluster5_2024, frozen_standings, held_vote, nominate, step
from tests.helpers import Keys, bearer, problem
from tests.oidc_provider import OidcProvider, oidc_provider_fixture  # noqa: F401 (the fixture oidc_provider)
from tests.queries import counting

SHEET = "/v1/clusters/5/years/2024"
STANDINGS = f"{SHEET}/standings"
SOURCE = {
    "title": "Cụm thi đua số 5 tổng kết phong trào thi đua “Vì an ninh Tổ quốc” năm 2024",
    "url": "https://congan.hanam.gov.vn/",
    "published": "2024-11-26",
    "facts": {
        "nomination": "stated",
        "rank": "not_stated",
        "scores": "not_stated",
        "vote_counts": "not_stated",
    },
}

Client = Callable[..., httpx.AsyncClient]


@asynccontextmanager
async def running(settings: Settings, **updates: Any) -> AsyncIterator[FastAPI]:
    """An instance with `updates` over `settings`, its cache listening (so that it is used)."""
    application = create_app(settings.model_copy(update=updates))
    async with LifespanManager(application):
        cache: ReadCache = application.state.cache
        for _ in range(10_000):
            if cache.listening:
                break
            await asyncio.sleep(0.001)
        assert cache.listening
        yield application


def clients_of(application: FastAPI) -> tuple[Client, list[httpx.AsyncClient]]:
    """`make(key=None, address=…)`: a client of `application` from a client address, in English."""
    opened: list[httpx.AsyncClient] = []

    def make(key: str | None = None, address: str = "203.0.113.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=application, client=(address, 40_000))
        headers = {"Accept-Language": "en", **(bearer(key) if key else {})}
        client = httpx.AsyncClient(transport=transport, base_url="http://thidua.test", headers=headers)
        opened.append(client)
        return client

    return make, opened


@pytest.fixture
async def public(settings: Settings) -> AsyncIterator[FastAPI]:
    async with running(settings, public_reads=True) as application:
        yield application


@pytest.fixture
async def client_of(public: FastAPI) -> AsyncIterator[Client]:
    make, opened = clients_of(public)
    yield make
    for client in opened:
        await client.aclose()


async def published_results(admin: httpx.AsyncClient) -> dict[str, int]:
    """Cluster 5's 2024 (seed 002) with frozen standings (Hải Dương first), a closed vote that
    nominated Hải Dương for the Government flag, that award granted, and an attested nomination
    of Nam Định for the Ministry flag left nominated. Returns the award ids and the version."""
    units = await cluster5_2024(admin)
    await frozen_standings(admin, 5, [units["Hải Dương"], units["Nam Định"]])
    vote = await held_vote(admin, 5, "government_flag", units["Hải Dương"], approved=True)
    [granted] = vote["rounds"][0]["result"]["nominations"]
    dossier = [{"title": "Tờ trình", "reference": "Tờ trình số 15/TTr-BCA"}]
    proposed = await step(admin, granted, {"to": "proposed", "decided_on": "2024-12-01", "dossier": dossier})
    assert proposed.status_code == 200, proposed.text
    decision = {"decision_number": "1234/QĐ-TTg", "authority": "Thủ tướng Chính phủ"}
    done = await step(admin, granted, {"to": "granted", "decided_on": "2025-09-10", **decision})
    assert done.status_code == 200, done.text
    nominated = await nominate(admin, units["Nam Định"], "ministry_flag", attested=True, source=SOURCE)
    assert nominated.status_code == 201, nominated.text
    version = (await admin.get(STANDINGS)).json()["version"]
    return {"granted": granted, "nominated": nominated.json()["id"], "vote": vote["id"], "version": version}


# --- off (the default) ----------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
async def test_off_by_default_nothing_is_read_without_a_credential(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    """The session's app runs with the default settings: PUBLIC_READS off."""
    for path in (
        SHEET,
        f"{SHEET}?format=csv",
        STANDINGS,
        f"{STANDINGS}/versions/1",
        "/v1/awards",
        "/v1/awards/1",
    ):
        body = problem(await client.get(path), 401, "unauthorized")
        assert "required" in body["detail"], body
    sheet = await client.get(SHEET, headers=bearer(keys.reader))
    assert sheet.status_code == 200, sheet.text


def test_public_reads_need_the_rate_limiter() -> None:
    with pytest.raises(ValidationError, match="PUBLIC_READS needs RATE_LIMIT_ENABLED"):
        Settings(_env_file=None, public_reads=True, rate_limit_enabled=False)  # type: ignore[call-arg]
    assert Settings(_env_file=None).public_reads is False  # type: ignore[call-arg]


async def test_the_document_says_which_operations_public_reads_opens(client: httpx.AsyncClient) -> None:
    """The committed document is the default one (off): the public operations keep their security
    and say in their description what PUBLIC_READS opens; no other operation mentions it."""
    document = (await client.get("/openapi.json")).json()
    mentioned = {
        operation["operationId"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "PUBLIC_READS" in operation.get("description", "")
    }
    assert mentioned == {
        "getClusterYear",
        "getClusterYearSummary",
        "listClusterYears",
        "getStandings",
        "getStandingsVersion",
        "listAwards",
        "getAward",
    }
    sheet = document["paths"]["/v1/clusters/{number}/years/{year}"]["get"]
    assert sheet["security"] == [{"HTTPBearer": []}]  # keys only: sign-in is not configured here
    assert "401" in sheet["responses"]


# --- on ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded_without_awards")
async def test_the_published_results_are_read_anonymously(client_of: Client, keys: Keys) -> None:
    admin = client_of(keys.admin, address="198.51.100.7")
    ids = await published_results(admin)
    anonymous = client_of()

    sheet = await anonymous.get(SHEET)
    assert sheet.status_code == 200, sheet.text
    assert "ratelimit" in sheet.headers
    body = sheet.json()
    assert body["standings"]["frozen"] is True
    assert [a["id"] for a in body["awards"]] == [ids["granted"]]
    assert body["votes"] == []
    full = (await admin.get(SHEET)).json()
    assert sorted(a["id"] for a in full["awards"]) == sorted([ids["granted"], ids["nominated"]])
    assert [v["id"] for v in full["votes"]] == [ids["vote"]]
    assert {k: v for k, v in body.items() if k not in ("awards", "votes")} == without_people(
        {k: v for k, v in full.items() if k not in ("awards", "votes")}
    )
    assert "key:" not in sheet.text  # who recorded it: its kind only
    assert "person:" not in sheet.text
    summary = (await anonymous.get(f"{SHEET}/summary")).json()
    assert [a["unit_name"] for a in summary["awards"]] == [a["unit"]["name"] for a in body["awards"]]
    years = (await anonymous.get("/v1/clusters/5/years")).json()["items"]
    assert next(y for y in years if y["year"] == 2024)["etag"] == sheet.headers["etag"]
    for export in ("csv", "xlsx"):
        exported = await anonymous.get(SHEET, params={"format": export})
        assert exported.status_code == 200, exported.text
        assert "attachment" in exported.headers["content-disposition"]

    standings = await anonymous.get(STANDINGS)
    assert standings.status_code == 200, standings.text
    assert standings.json() == (await admin.get(STANDINGS)).json()
    assert standings.json()["frozen"] is True
    at_version = await anonymous.get(f"{STANDINGS}/versions/{ids['version']}", params={"format": "csv"})
    assert at_version.status_code == 200, at_version.text

    listed = await anonymous.get("/v1/awards", params={"year": "2024"})
    assert [a["id"] for a in listed.json()["items"]] == [ids["granted"]]
    assert [a["status"] for a in listed.json()["items"]] == ["granted"]
    assert (await anonymous.get("/v1/awards", params={"status": "nominated"})).json() == {
        "items": [],
        "next_cursor": None,
    }
    award = await anonymous.get(f"/v1/awards/{ids['granted']}")
    assert award.status_code == 200, award.text
    recorded = (await admin.get(f"/v1/awards/{ids['granted']}")).json()
    assert recorded["recorded_by"].startswith("key:")
    assert award.json() == without_people(recorded)
    assert award.json()["recorded_by"] == "key"
    # Not granted: as if it did not exist, in the same words.
    hidden = problem(await anonymous.get(f"/v1/awards/{ids['nominated']}"), 404, "not-found")
    missing = problem(await anonymous.get("/v1/awards/999999"), 404, "not-found")
    assert hidden["detail"] == missing["detail"].replace("999999", str(ids["nominated"]))
    assert (await admin.get(f"/v1/awards/{ids['nominated']}")).status_code == 200

    # Everything else stays private.
    private = (
        f"{SHEET}/covenant",
        f"{SHEET}/reported-figures",
        f"{SHEET}/evaluation",
        f"{SHEET}/leadership",
        f"{SHEET}/scoring-framework",
        f"{STANDINGS}/freezes",
        f"{STANDINGS}/freezes/1",
        "/v1/clusters/5/members",
        "/v1/clusters/5",
        "/v1/units",
        "/v1/votes",
        f"/v1/votes/{ids['vote']}",
        f"/v1/awards/{ids['granted']}/transitions",
        "/v1/award-types",
        "/v1/figures",
        "/v1/keys",
    )
    for path in private:
        problem(await anonymous.get(path), 401, "unauthorized")
    problem(await anonymous.post("/v1/clusters", json={"number": 61}), 401, "unauthorized")


@pytest.mark.usefixtures("seeded_without_awards")
async def test_standings_are_public_only_while_frozen(client_of: Client, keys: Keys) -> None:
    admin = client_of(keys.admin, address="198.51.100.7")
    anonymous = client_of()
    units = await cluster5_2024(admin)
    await frozen_standings(admin, 5, [units["Hải Dương"]])
    frozen = (await admin.get(STANDINGS)).json()
    assert (await anonymous.get(STANDINGS)).status_code == 200
    assert (await anonymous.get(SHEET)).json()["standings"]["frozen"] is True

    thawed = await admin.post(f"{STANDINGS}/freezes/1/thaw", json={"reason": "Điều chỉnh điểm"})
    assert thawed.status_code == 200, thawed.text
    # The thaw drops what the anonymous caller had cached: live standings are not published, and
    # neither is the snapshot the thaw withdrew.
    body = problem(await anonymous.get(STANDINGS), 401, "unauthorized")
    assert body["detail"] == "Without a credential, only frozen standings can be read."
    assert 'Bearer realm="thidua"' in (await anonymous.get(STANDINGS)).headers["www-authenticate"]
    problem(await anonymous.get(f"{STANDINGS}/versions/{frozen['version']}"), 401, "unauthorized")
    problem(await anonymous.get(STANDINGS, params={"format": "xlsx"}), 401, "unauthorized")
    assert (await anonymous.get(SHEET)).json()["standings"] is None
    assert (await admin.get(SHEET)).json()["standings"]["frozen"] is False
    assert (await admin.get(STANDINGS)).status_code == 200

    assert (await admin.post(f"{STANDINGS}/freezes")).status_code == 201
    assert (await anonymous.get(STANDINGS)).json()["freeze"]["number"] == 2


@pytest.mark.usefixtures("seeded_without_awards")
async def test_a_cached_answer_read_with_a_credential_never_reaches_an_anonymous_caller(
    public: FastAPI, client_of: Client, keys: Keys
) -> None:
    admin = client_of(keys.admin, address="198.51.100.7")
    ids = await published_results(admin)
    anonymous = client_of()
    database: Database = public.state.database

    # Read with a key: the whole sheet is cached (the second read costs no SQL: the fast path).
    full = await admin.get(SHEET)
    with counting(database) as statements:
        again = await admin.get(SHEET)
    assert statements == []
    assert again.headers["etag"] == full.headers["etag"]
    members = await admin.get("/v1/clusters/5/members")
    assert members.status_code == 200

    # The same URLs without a credential: the published sheet, never the cached one.
    sheet = await anonymous.get(SHEET)
    assert sheet.status_code == 200
    assert sheet.headers["etag"] != full.headers["etag"]
    assert ids["nominated"] not in [a["id"] for a in sheet.json()["awards"]]
    assert sheet.json()["votes"] == []
    conditional = await anonymous.get(SHEET, headers={"If-None-Match": full.headers["etag"]})
    assert conditional.status_code == 200, "the ETag of the whole sheet is not the anonymous one's"
    assert ids["nominated"] not in [a["id"] for a in conditional.json()["awards"]]
    problem(await anonymous.get("/v1/clusters/5/members"), 401, "unauthorized")
    problem(
        await anonymous.get("/v1/clusters/5/members", headers={"Authorization": "Bearer "}),
        401,
        "unauthorized",
    )

    # The published sheet is cached too, apart: its repeat costs no SQL either, and 304s.
    with counting(database) as statements:
        repeat = await anonymous.get(SHEET)
    assert statements == []
    assert repeat.headers["etag"] == sheet.headers["etag"]
    assert (await anonymous.get(SHEET, headers={"If-None-Match": sheet.headers["etag"]})).status_code == 304
    # ...and never answers a key's read.
    assert (await admin.get(SHEET)).headers["etag"] == full.headers["etag"]


@pytest.mark.usefixtures("seeded_without_awards")
async def test_a_credential_that_is_sent_is_checked_as_always(client_of: Client, keys: Keys) -> None:
    anonymous = client_of()
    for token in ("thd_not-a-key", keys.reader + "x"):
        refused = await client_of(token).get(SHEET)
        problem(refused, 401, "unauthorized")
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert (await client_of(keys.reader).get(SHEET)).status_code == 200
    assert (await client_of(keys.unit).get(SHEET)).status_code == 200
    assert (await anonymous.get(SHEET)).status_code == 200


@pytest.mark.usefixtures("seeded_without_awards")
async def test_anonymous_reads_spend_their_address_s_budget(settings: Settings, keys: Keys) -> None:
    async with running(settings, public_reads=True, rate_limit_anonymous="3/day") as application:
        make, opened = clients_of(application)
        try:
            here, there = make(address="203.0.113.10"), make(address="203.0.113.11")
            key = make(keys.reader, address="203.0.113.10")
            read = await key.get(SHEET)  # counted against the address, then given back: its own budget
            assert read.status_code == 200, read.text
            assert read.headers["ratelimit"].startswith('"reads";')
            for remaining in (2, 1, 0):
                read = await here.get(SHEET)
                assert read.status_code == 200, read.text
                assert read.headers["ratelimit"].startswith(f'"anonymous";r={remaining};')
                assert read.headers["ratelimit-policy"] == '"anonymous";q=3;w=86400'
            over = problem(await here.get(SHEET), 429, "rate-limited")
            assert "`anonymous`" in over["detail"]
            problem(await here.get("/v1/awards"), 429, "rate-limited")  # one budget for every public read
            assert (await there.get(SHEET)).status_code == 200, "another address, its own budget"
            read = await key.get(SHEET)
            assert read.status_code == 200, "a key (known now) spends its own budget, not its address's"
            assert read.headers["ratelimit"].startswith('"reads";')
        finally:
            for client in opened:
                await client.aclose()


# --- signed in ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("seeded_without_awards")
async def test_a_person_without_a_grant_reads_what_is_published(
    settings: Settings, oidc_provider: OidcProvider, keys: Keys
) -> None:
    """A valid token whose caller holds no grant here (`OIDC_UNGRANTED=none`) reads the published
    results as anyone may (the limiter counted it by address, as an anonymous request) and nothing
    else (403); a token that is not valid is 401 `invalid_token`, even where no credential is
    needed."""
    updates = {
        "public_reads": True,
        "oidc_issuers": [oidc_provider.issuer],
        "oidc_audience": oidc_provider.audience,
        "oidc_client_grants": {},
        "oidc_ungranted": "none",
        "oidc_jwks_refresh_min_seconds": 0.0,
    }
    async with running(settings, **updates) as application:
        make, opened = clients_of(application)
        try:
            ungranted = make(oidc_provider.forge())  # the machine client, whose id has no grant
            sheet = await ungranted.get(SHEET)
            assert sheet.status_code == 200, sheet.text
            assert sheet.headers["ratelimit"].startswith('"anonymous";')
            assert sheet.json()["votes"] == []
            problem(await ungranted.get(f"{SHEET}/covenant"), 403, "forbidden")
            expired = make(oidc_provider.forge(exp=1_000_000_000, iat=999_999_000))
            refused = await expired.get(SHEET)
            problem(refused, 401, "unauthorized")
            assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        finally:
            for client in opened:
                await client.aclose()
