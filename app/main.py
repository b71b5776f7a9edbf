"""Assembles the application: settings, database, middleware, error handlers and routers."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from importlib import metadata

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.middleware import Middleware

from app.aliases.router import router as aliases_router
from app.auth.middleware import AuthMiddleware
from app.auth.router import router as auth_router
from app.auth.tokens import token_verifier
from app.awards.router import router as awards_router
from app.awards.router import types_router as award_types_router
from app.clusters.router import router as clusters_router
from app.conferences.router import router as conferences_router
from app.core.cache import CachedReadMiddleware, Listener, ReadCache, listener_dsn
from app.core.cache_control import CacheControlMiddleware
from app.core.compression import Gzip
from app.core.config import Settings, get_settings
from app.core.cors import ProblemCORSMiddleware
from app.core.database import Database, resolve_database_url
from app.core.deprecation import DeprecationMiddleware
from app.core.errors import install_error_handlers
from app.core.hardening import NoSniffMiddleware, RequestEncodingMiddleware
from app.core.head import HeadMiddleware
from app.core.i18n import N_, LanguageMiddleware, load_catalogs, set_process_locale
from app.core.idempotency import IdempotentReplay, replay_response, sweep_expired_forever
from app.core.limits import BodySizeLimitMiddleware
from app.core.metrics import MetricsMiddleware
from app.core.numbers import ExactNumberMiddleware
from app.core.openapi import DOCS_PATH, add_docs, build_openapi
from app.core.openapi_i18n import LanguageQueryMiddleware
from app.core.pagination import NextPageLinkMiddleware
from app.core.query import known_parameters
from app.core.ratelimit import RateLimitMiddleware
from app.core.representation import RepresentationMiddleware
from app.core.request_id import RequestIdMiddleware
from app.core.runtime import tune_interpreter
from app.covenants.router import router as covenants_router
from app.evaluation.router import router as evaluation_router
from app.figures.router import BATCH_PATH, unit_figures_router
from app.figures.router import router as figures_router
from app.health.router import UNLIMITED_PATHS
from app.health.router import router as health_router
from app.keys.router import router as keys_router
from app.leadership.router import router as leadership_router
from app.memberships.router import router as memberships_router
from app.metrics.router import router as metrics_router
from app.people.router import router as people_router
from app.pledges.router import router as pledges_router
from app.problems.router import router as problems_router
from app.proceedings.router import router as proceedings_router
from app.reported.router import router as reported_router
from app.rules.router import router as rules_router
from app.scoring.router import router as scoring_router
from app.sheets.router import router as sheets_router
from app.sheets.router import years_router as cluster_years_router
from app.successions.router import router as successions_router
from app.units.router import router as units_router
from app.votes.router import router as votes_router
from app.votes.seal import load_seal

_ABOUT = N_(
    'The emulation movement **"Vì an ninh Tổ quốc"** of the Ministry of Public Security: provincial '
    "police units and their 2025 lineage, emulation clusters (Cụm thi đua), versioned memberships, "
    "leadership rotation (Cụm trưởng, Cụm phó), the cluster-year sheet, the metric catalogue and the "
    "figures provincial systems push, the rule sets, the award catalogue, secret nomination votes and "
    "the awards register."
)
_OTHER_LANGUAGE = N_("This document in Vietnamese: [Tiếng Việt](/docs?lang=vi).")
_CONVENTIONS = (
    N_(
        "**Auth**: `Authorization: Bearer <api key>`. Reads need any key; writes need the role named "
        "in each operation (`admin`, `cluster`, `unit`, `reader`)."
    ),
    N_(
        "**Errors**: RFC 9457 `application/problem+json` with `type`, `title`, `status`, `detail`, "
        "`request_id`, and `errors` (field locations) for validation. Each `type` is a page "
        "(`/problems/<slug>`) saying what the problem means, which status carries it, which members "
        "it may add and what to do; [`/problems`](/problems?lang=en) lists them all. When the "
        "database is unavailable or too slow, 503 (`/problems/database-unavailable`) with "
        "`Retry-After`."
    ),
    N_(
        "**Rate limits**: each key has a budget of reads and one of writes by its role; requests "
        "without a valid key share one per client address. Over it, 429 (`/problems/rate-limited`) "
        'with `Retry-After`; every answer says the budgets (`RateLimit-Policy: "reads";q=600;w=60, '
        '…`) and what is left (`RateLimit: "reads";r=599;t=60`). `/healthz`, `/readyz` and '
        "`/metrics` are never limited."
    ),
    N_(
        "**Languages**: texts people read (problem `title`, `detail` and field `message`s, remarks, "
        "reasons, notes) are in Vietnamese, or in English with `Accept-Language: en`; every "
        "response says which (`Content-Language`, `Vary: Accept-Language`). Everything else "
        "(`type`, field names, enum values, ids) is the same in both. This document is in English "
        "(`?lang=en`); it is in Vietnamese by default (`/docs`, `/openapi.json`) or with `?lang=vi`: "
        "its description, tag descriptions and operation summaries. Operation and schema "
        "descriptions are in English in both; tag names and operation ids stay ASCII."
    ),
    N_(
        "**Request ids**: send `X-Request-ID` (1–128 of `A-Z a-z 0-9 . _ : -`) or get one; every "
        "response carries it, and the logs name it."
    ),
    N_("**Caching**: every GET has a strong `ETag`; send `If-None-Match` for a 304."),
    N_(
        "**Compression**: with `Accept-Encoding: gzip`, answers of 1 KiB or more (JSON, "
        "problem+json, CSV; never XLSX) come gzip-compressed (`Content-Encoding: gzip`), and every "
        "answer that could be says `Vary: Accept-Encoding`. A compressed answer is another "
        "representation with its own ETag (`…-gzip-vi`): `If-None-Match` matches it for that "
        "coding, `If-Match` accepts it as the other."
    ),
    N_(
        "**HEAD**: wherever a GET is served, so is HEAD: the GET's status and headers "
        "(`Content-Length`, `ETag`, …) without the body. Not listed as separate operations here."
    ),
    N_(
        "**Versioned records** (units, unit aliases, clusters, memberships, leaderships, covenants, "
        "reported figures, figure sets, scoring frameworks, score sheets, proceedings, awards): "
        "updates need `If-Match` (428 without, 412 when stale); every version stays readable under "
        "`/revisions` (an award's steps under `/transitions`). A write that changes nothing answers "
        "200 with the current version and ETag and writes nothing. A PUT that creates takes "
        "`If-None-Match: *` to create only (412 `/problems/record-exists` when the record exists)."
    ),
    N_(
        "**Bodies**: sent as they are: a `Content-Encoding` is 415 with `Accept-Encoding: "
        "identity`. Every answer says `X-Content-Type-Options: nosniff`."
    ),
    N_("**Retries**: creating POSTs take `Idempotency-Key`; a retry replays the first answer."),
    N_(
        "**Lists**: `limit` and an opaque `cursor`; the body carries `next_cursor`, and `Link: <…>; "
        'rel="next"` says where the next page is.'
    ),
    N_(
        "**Query parameters**: a filter has one name across the API (`unit`, `cluster`, `year`, …). "
        "A parameter the operation does not take is 400 (`/problems/unknown-parameter`, naming it). "
        "A renamed one keeps working under its old name until its sunset (at least six months and "
        "two minor versions after the release that deprecates it, and only in a major version), "
        "marked deprecated here and in the CHANGELOG; answers to a request using it carry "
        '`Deprecation`, `Sunset` and `Link` (`rel="deprecation"`).'
    ),
    N_(
        "**Exports**: the cluster-year sheet and the standings also come as CSV or XLSX, by "
        "`Accept` (`text/csv`, `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`) "
        "or `?format=csv|xlsx|json`, with `Content-Disposition` and `Vary: Accept`."
    ),
    N_("**Time**: `as_of=YYYY-MM-DD` reads the state on that day; `year=YYYY` everything overlapping it."),
)
DESCRIPTION = "\n\n".join([_ABOUT, _OTHER_LANGUAGE, "\n".join(f"* {line}" for line in _CONVENTIONS)])
"""The API's description: one message per line (`app.core.openapi_i18n` translates it line by line),
English here, Vietnamese in the served document by default."""

TAGS = [
    {
        "name": "units",
        "description": N_(
            "Provincial police units (Công an tỉnh/thành phố), their lineage, and the aliases they are "
            "found by."
        ),
    },
    {
        "name": "clusters",
        "description": N_("Emulation clusters (Cụm thi đua), their members and their year sheet."),
    },
    {"name": "memberships", "description": N_("Which unit is in which cluster when; versioned.")},
    {"name": "leadership", "description": N_("Leader (Cụm trưởng) and deputy (Cụm phó) rotation.")},
    {
        "name": "metrics",
        "description": N_("The metric catalogue: what figures and covenant targets are counted in."),
    },
    {
        "name": "covenants",
        "description": N_(
            "A cluster's yearly emulation covenant (giao ước thi đua): key contents and numeric targets."
        ),
    },
    {
        "name": "conferences",
        "description": N_(
            "A cluster-year's conferences (covenant signing, mid-year and nine-month reviews, year-end "
            "summary): their day or month, host, chairs, guests and source; the records decided there "
            "name them."
        ),
    },
    {
        "name": "reported-figures",
        "description": N_("Figures a conference reports for the whole cluster, with their qualifiers."),
    },
    {
        "name": "figures",
        "description": N_(
            "Figures of a unit for a period (its dates), pushed by provincial systems one set at a time "
            "or in bulk (JSON or CSV), versioned."
        ),
    },
    {
        "name": "evaluation",
        "description": N_(
            "How each member of a cluster stands against its covenant's targets over the cluster-year's "
            "reporting period (the covenant's own, else the statistical year) and its like period a year "
            "earlier."
        ),
    },
    {
        "name": "rules",
        "description": N_(
            "Rule sets: the dated rules votes and awards are judged by, each parameter with its basis and"
            " confidence (text, analogue, practice, unknown)."
        ),
    },
    {
        "name": "awards",
        "description": N_(
            "The award catalogue and the awards register: nominations checked against the year's rules, "
            "and explicit transitions (proposed, returned, granted, refused, revoked)."
        ),
    },
    {
        "name": "proceedings",
        "description": N_(
            "Disciplinary reviews, investigations, inspections and complaints that block a unit's "
            "nomination while open."
        ),
    },
    {
        "name": "scoring",
        "description": N_(
            "A cluster-year's scoring framework (criteria, classes, scorers), the scores each scorer "
            "gives each member, the standings (totals, ranks, classes), their freezes for the conference,"
            " and their exports (CSV, XLSX)."
        ),
    },
    {
        "name": "votes",
        "description": N_(
            "Secret nomination votes of a cluster: candidates checked against the year's rules, "
            "attendance and quorum, ballots cast by the voting units or entered from paper anonymously "
            "(who voted is public, what each voted is never stored), rounds and their published results, "
            "and the nominations they make."
        ),
    },
    {"name": "keys", "description": N_("API keys and their roles.")},
    {
        "name": "people",
        "description": N_(
            "The people register: people who sign in through the identity provider (by issuer and "
            "subject) and their grants, kept by an admin and used when OIDC_GRANTS_SOURCE is `register`; "
            "versioned."
        ),
    },
    {
        "name": "auth",
        "description": N_("Signing in: where the OpenID provider people sign in with is found."),
    },
    {"name": "operations", "description": N_("Liveness, readiness and metrics.")},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app, for `settings`; without them it is the process's own (`app` below, which uvicorn
    serves): the environment's settings, whose `DEFAULT_LOCALE` also becomes the language of work
    done outside requests."""
    if settings is None:
        settings = get_settings()
        set_process_locale(settings.default_locale)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = resolve_database_url(settings)
        app.state.cache = ReadCache(enabled=settings.cache_enabled, max_entries=settings.cache_max_entries)
        app.state.database = Database(url, settings, app.state.cache)
        app.state.ballot_seal = load_seal(settings)
        app.state.tokens = token_verifier(settings)  # None: no OIDC_ISSUERS, keys only
        listener = app.state.cache_listener = Listener(app.state.cache, listener_dsn(url), settings)
        if settings.cache_enabled:
            listener.start()
        sweep = asyncio.create_task(
            sweep_expired_forever(
                app.state.database.engine,
                timedelta(hours=settings.idempotency_ttl_hours),
                settings.idempotency_sweep_minutes * 60,
            )
        )
        tune_interpreter(settings)
        try:
            yield
        finally:
            sweep.cancel()
            with suppress(asyncio.CancelledError):
                await sweep
            await listener.stop()
            if app.state.tokens is not None:
                await app.state.tokens.aclose()
            await app.state.database.dispose()

    app = FastAPIOffline(
        title="thidua",
        telemetry={"tracing": False, "metrics": False, "logs": False},  # Prometheus, not OpenTelemetry
        version=metadata.version("thidua"),
        description=DESCRIPTION,
        openapi_tags=TAGS,
        license_info={
            "name": "Proprietary: Bộ Công an (Ministry of Public Security)",
            "identifier": "LicenseRef-Proprietary",
        },
        lifespan=lifespan,
        docs_url=None,  # served below: with the sign-in button when a docs client is configured
        redoc_url=None,
        dependencies=[Depends(known_parameters)],  # first on every operation: unknown query parameters
    )
    add_docs(app, DOCS_PATH, sign_in_client=settings.oidc_docs_client_id or None)
    app.state.settings = settings
    load_catalogs()
    install_error_handlers(app, retry_after=settings.retry_after_seconds)

    async def replay(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, IdempotentReplay)
        return replay_response(exc)

    app.add_exception_handler(IdempotentReplay, replay)

    # The probes first: Starlette tries the routes in order, and a probe should not pay for matching
    # every other path before its own.
    for router in (
        health_router,
        units_router,
        aliases_router,
        successions_router,
        clusters_router,
        memberships_router,
        leadership_router,
        sheets_router,
        cluster_years_router,
        metrics_router,
        covenants_router,
        pledges_router,
        conferences_router,
        reported_router,
        unit_figures_router,
        figures_router,
        evaluation_router,
        rules_router,
        award_types_router,
        awards_router,
        proceedings_router,
        scoring_router,
        votes_router,
        keys_router,
        people_router,
        auth_router,
        problems_router,
    ):
        app.include_router(router)

    app.state.gzip = gzip = Gzip.from_settings(settings)
    locale, docs, document = settings.default_locale, DOCS_PATH, app.openapi_url
    origins, max_age = settings.cors_origins, settings.cors_max_age_seconds
    max_bytes, larger = settings.max_request_bytes, {BATCH_PATH: settings.max_batch_bytes}
    limited, exempt = settings.rate_limit_enabled, UNLIMITED_PATHS
    # The request path, outermost first: a request meets them top to bottom, its answer bottom to top.
    # This list is the one place their order is said; each docstring says what its middleware does.
    middleware = [
        Middleware(RequestIdMiddleware),  # outermost: every answer and every log line carries the id
        Middleware(NoSniffMiddleware),  # `nosniff` on every answer, 401s and 404s included
        Middleware(CacheControlMiddleware, max_age=settings.reference_max_age_seconds),  # hits too
        Middleware(LanguageQueryMiddleware, docs=docs, document=document, prefixes=("/problems",)),  # ?lang=
        Middleware(LanguageMiddleware, default=locale),  # before anything answers
        Middleware(ProblemCORSMiddleware, origins=origins, max_age=max_age) if origins else None,  # 429s too
        Middleware(MetricsMiddleware),  # sees the HEAD; counts every answer (cache hits, 429s) by route
        Middleware(HeadMiddleware),  # HEAD runs as GET inside (cache hits too), bodiless outside
        Middleware(AuthMiddleware),  # the bearer credential read once: the identity the next ones read
        Middleware(RateLimitMiddleware, settings=settings, exempt=exempt) if limited else None,  # hits too
        Middleware(DeprecationMiddleware),  # outside the cache: its hits say a name is deprecated too
        Middleware(RequestEncodingMiddleware),  # a coded body is refused before anything reads it
        Middleware(BodySizeLimitMiddleware, max_bytes=max_bytes, larger=larger),  # 413 before a body is read
        Middleware(CachedReadMiddleware),  # hits before routing, as stored (compressed once; their 304s)
        Middleware(RepresentationMiddleware, gzip=gzip),  # gzip, ETag, 304, Vary: all the rest
        Middleware(ExactNumberMiddleware),  # everything outside sees exact numbers
        Middleware(NextPageLinkMiddleware),  # innermost: a page's `Link` from its route and its JSON
    ]
    app.user_middleware = [m for m in middleware if m is not None]
    app.openapi = lambda: build_openapi(  # type: ignore[method-assign]
        app, unlimited=UNLIMITED_PATHS, sign_in=bool(settings.oidc_issuers)
    )
    return app


app = create_app()
