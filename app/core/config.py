"""Settings, read from the environment (and an optional `.env` file)."""

import base64
import ipaddress
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends
from limits import parse_many
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from starlette.requests import HTTPConnection

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DOCUMENT_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)
"""A dossier's documents: PDF, scans (PNG, JPEG), and the office files the Ministry exchanges (Word
and Excel, both formats; OpenDocument text and spreadsheet)."""
ACTIVE_CONTENT_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/xml",
        "application/xml",
    }
)
"""Types a browser renders as a page or runs: never a document's."""
OIDC_ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""The JWS algorithms OIDC_ALGORITHMS may name: signatures with a public key. `none` and the HMAC
family (HS256…) never: with HMAC the verifier's key is the secret, and a published key is not."""
_GZIP_MIN_BYTES_CEILING = 1_048_576
"""Above this, nearly no answer is compressed: a GZIP_MIN_BYTES meant to turn gzip off."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL 15+ URL. Unset: start the embedded server under data_dir.",
    )
    data_dir: Path = PROJECT_ROOT / ".data"
    ballot_seal_key: SecretStr | None = Field(
        default=None,
        description="The key that seals ballots until their round closes: 32 random bytes in "
        "base64 (`python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'`). "
        "The same on every instance, kept outside the database. Unset: a key file under data_dir, "
        "made once (one instance only).",
    )
    ballot_seal_previous_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Keys that sealed ballots before BALLOT_SEAL_KEY replaced them, comma-separated: "
        "rounds still open when the key was rotated open with them. Drop one once every round it "
        "sealed has closed.",
    )
    embedded_database: str = "thidua"
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_pre_ping: bool = True
    db_pool_ping_idle_seconds: float = Field(
        default=1.0,
        ge=0,
        description="Pre-ping only a pooled connection idle this long (0: every checkout); one "
        "whose socket is closed is always replaced.",
    )
    db_connect_timeout_seconds: float = 2.0
    db_pool_timeout_seconds: float = 2.0
    db_statement_timeout_seconds: float = 5.0
    readiness_timeout_seconds: float = 1.0
    retry_after_seconds: int = 5
    page_default_limit: int = 50
    page_max_limit: int = 200
    max_request_bytes: int = 1_048_576
    max_batch_bytes: int = Field(
        default=16_777_216, gt=0, description="Largest body of `POST /v1/figures:batch`, in bytes."
    )
    reference_max_age_seconds: int = Field(
        default=3600,
        ge=0,
        description="How long a client may use reference data (the metric catalogue, the rule sets, "
        "the award catalogue) and the public pages without asking again (`Cache-Control: max-age`).",
    )
    max_xlsx_inflated_bytes: int = Field(
        default=16_777_216,
        gt=0,
        description="Most bytes an XLSX figures batch's parts may unpack to, together (413 "
        "`payload-too-large` past it, refused before anything is inflated).",
    )
    figures_batch_max_rows: int = Field(
        default=10_000,
        gt=0,
        le=1_000_000,
        description="Most rows of one `POST /v1/figures:batch` (413 `too-many-rows` past it).",
    )
    figures_batch_listed_problems: int = Field(
        default=100,
        gt=0,
        le=10_000,
        description="Problems a refused batch lists in full; the rest are counted per column and kind.",
    )
    thread_switch_interval_ms: float = Field(
        default=0.5,
        gt=0,
        le=100,
        description="How long a thread may hold the interpreter before another may run "
        "(`sys.setswitchinterval`; Python's default is 5 ms). A figures batch is read off the "
        "event loop in a thread; with 5 ms each of a read's steps may wait that long for it.",
    )
    idempotency_ttl_hours: int = Field(default=24, gt=0)
    idempotency_sweep_minutes: float = Field(default=10, gt=0)
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh",
        description="The zone whose calendar says what `today` is: every default `as_of`, "
        "every current answer and every deadline.",
    )
    name_similarity_threshold: float = Field(
        default=0.3,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="pg_trgm similarity (0 < x ≤ 1) from which a name is a `similar` match of a query.",
    )
    default_locale: Literal["vi", "en"] = Field(
        default="vi",
        description="The language of every text people read (problems, remarks, reasons, notes) "
        "when a request asks for none we speak (`Accept-Language`), and of the CLI.",
    )
    reference_dir: Path = PROJECT_ROOT / "data" / "reference"
    history_file: Path = PROJECT_ROOT / "data" / "history" / "seed_history.yaml"
    load_history_on_serve: bool = True
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (scheme://host[:port]) whose web apps may call the API; none by default.",
    )
    cors_max_age_seconds: int = Field(default=600, ge=0)
    cache_enabled: bool = Field(
        default=True, description="Serve hot reads from the in-process cache (invalidated by NOTIFY)."
    )
    cache_channel: str = Field(
        default="thidua_cache",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="The PostgreSQL channel invalidations are notified on (the same for every instance).",
    )
    cache_max_entries: int = Field(default=10_000, gt=0, description="Rendered entries kept (LRU).")
    cache_keepalive_seconds: float = Field(
        default=1.0,
        gt=0,
        description="The heartbeat interval: how often the listening connection proves itself live "
        "(a SELECT 1 round trip on it); less than CACHE_STALENESS_BOUND_SECONDS.",
    )
    cache_staleness_bound_seconds: float = Field(
        default=3.0,
        gt=0,
        description="The most a cached answer (or a cached API key) may lag the database: an "
        "instance answers from its cache only while a heartbeat on its listening connection sent "
        "at most this many seconds ago has come back; past it, it reads through to the database "
        "(and checks every key there) until one does, then drops its cache and caches again.",
    )

    @field_validator("cache_staleness_bound_seconds")
    @classmethod
    def _bound_exceeds_heartbeat(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("cache_keepalive_seconds")
        if interval is not None and value <= interval:
            raise ValueError(
                f"CACHE_STALENESS_BOUND_SECONDS ({value:g}) must exceed CACHE_KEEPALIVE_SECONDS "
                f"({interval:g}), the heartbeat interval"
            )
        return value

    cache_reconnect_min_seconds: float = Field(default=0.1, gt=0, description="First reconnect delay.")
    cache_reconnect_max_seconds: float = Field(default=5.0, gt=0, description="Longest reconnect delay.")
    rate_limit_enabled: bool = Field(
        default=True, description="Limit each API key's requests (429 beyond), per instance."
    )
    rate_limit_admin_reads: str = Field(default="1200/minute", description="An admin key's reads.")
    rate_limit_admin_writes: str = Field(default="300/minute", description="An admin key's writes.")
    rate_limit_cluster_reads: str = Field(default="600/minute", description="A cluster key's reads.")
    rate_limit_cluster_writes: str = Field(default="120/minute", description="A cluster key's writes.")
    rate_limit_unit_reads: str = Field(default="600/minute", description="A unit key's reads.")
    rate_limit_unit_writes: str = Field(
        default="60/minute", description="A unit key's writes: a provincial system's pushes."
    )
    rate_limit_reader: str = Field(default="1200/minute", description="A reader key's requests.")
    rate_limit_anonymous: str = Field(
        default="60/minute",
        description="Requests without a valid key (none, unknown, revoked), per client address.",
    )
    gzip_enabled: bool = Field(
        default=True, description="Compress answers with gzip for clients that accept it (`Accept-Encoding`)."
    )
    gzip_min_bytes: int = Field(
        default=1024,
        ge=0,
        description="Smallest body compressed, in bytes: below it gzip's framing and the CPU cost "
        "outweigh the bytes saved.",
    )
    gzip_level: int = Field(
        default=6, ge=1, le=9, description="zlib compression level, 1 (fastest) to 9 (smallest)."
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="The proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed, "
        "comma-separated IP addresses or CIDR networks (`*`: any peer, only where nothing but the "
        "proxy reaches the instance). None by default: the client's address is the connection's.",
    )
    document_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_DOCUMENT_TYPES),
        description="The media types an award's dossier document may have, comma-separated "
        "(415 for any other).",
    )
    # --- Sign-in: bearer access tokens (JWT, RFC 9068) from OpenID Connect issuers -------------
    oidc_issuers: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="The OpenID Connect issuers whose JWT access tokens are accepted, comma-separated, "
        "each exactly as its tokens' `iss` and its discovery document say it (https; http only on "
        "the loopback interface). None by default: sign-in is off, API keys only.",
    )
    oidc_audience: str | None = Field(
        default=None,
        description="This API's audience: a token's `aud` must hold it. Required with OIDC_ISSUERS.",
    )
    oidc_algorithms: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["RS256", "PS256", "ES256"],
        description="The signature algorithms accepted, comma-separated: asymmetric ones only "
        f"({', '.join(OIDC_ASYMMETRIC_ALGORITHMS)}); never `none`, never HMAC.",
    )
    oidc_clock_skew_seconds: float = Field(
        default=60,
        ge=0,
        le=600,
        allow_inf_nan=False,
        description="How far the issuer's clock and ours may differ, in seconds: a token is "
        "accepted up to this long after its `exp`, and this long before its `nbf` or `iat`.",
    )
    oidc_required_scopes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Scopes every token must hold (`scope`, or `scp`), space-separated; none by default.",
    )
    oidc_require_at_jwt_typ: bool = Field(
        default=False,
        description="Refuse a token whose header `typ` is not `at+jwt` (RFC 9068). Off by default: "
        "Keycloak's access tokens say `JWT`.",
    )
    oidc_name_claim: str = Field(
        default="name",
        min_length=1,
        description="The claim holding a person's display name (else `preferred_username`).",
    )
    oidc_jwks_refresh_min_seconds: float = Field(
        default=10,
        gt=0,
        allow_inf_nan=False,
        description="An unknown `kid` fetches the issuer's keys again at most once in this many "
        "seconds (a key rotation is seen at once; a flood of made-up kids costs one fetch).",
    )
    oidc_jwks_max_age_seconds: float = Field(
        default=300,
        gt=0,
        allow_inf_nan=False,
        description="Keys older than this are fetched again when next needed, so that a key the "
        "provider removed stops verifying (while the provider is down, held keys keep verifying).",
    )
    oidc_http_timeout_seconds: float = Field(
        default=3,
        gt=0,
        allow_inf_nan=False,
        description="The most one fetch of an issuer's keys (discovery and JWKS) may take; past "
        "it a token whose key is not held is 503.",
    )
    oidc_token_cache_size: int = Field(
        default=10_000,
        ge=0,
        description="Verified tokens kept per process (least recently used dropped first; 0: none).",
    )
    oidc_token_cache_ttl_seconds: float = Field(
        default=60,
        ge=0,
        allow_inf_nan=False,
        description="How long a verified token is believed without checking it again (never past "
        "its `exp`; 0: checked on every request).",
    )
    oidc_roles_claim: str = Field(
        default="realm_access.roles",
        pattern=r"^[^.\s]+(\.[^.\s]+)*$",
        description="Where a token's roles are, a dotted path into its claims (Keycloak: "
        "`realm_access.roles`), read when OIDC_GRANTS_SOURCE is `claims`.",
    )
    oidc_role_prefix: str = Field(
        default="thidua:",
        max_length=40,
        description="The prefix of this service's roles among a token's roles: `thidua:admin`, "
        "`thidua:reader`, `thidua:cluster:<cluster number>`, `thidua:unit:<unit id>`; other roles "
        "are ignored.",
    )
    oidc_client_grants: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="What a machine's own token (client credentials) may do, by client id: "
        "`provincial-01=unit:12,statistics=reader` (the roles without the prefix).",
    )
    oidc_grants_source: Literal["claims", "register"] = Field(
        default="claims",
        description="What a signed-in person may do: the roles in their token (`claims`, at "
        "OIDC_ROLES_CLAIM), or the grants an admin keeps in the people register (`register`: "
        "`/v1/people`, by the token's issuer and subject). A machine's token maps through "
        "OIDC_CLIENT_GRANTS either way.",
    )
    oidc_ungranted: Literal["read", "none"] = Field(
        default="none",
        description="What a signed-in person with no grant may do: read, or nothing.",
    )
    oidc_docs_client_id: str = Field(
        default="",
        description="The public client (authorization code with PKCE) the Authorize button of "
        "/docs signs in with; empty: no sign-in button.",
    )
    public_reads: bool = Field(
        default=False,
        description="Let the published results (the year sheet, frozen standings, granted awards) "
        "be read without signing in, limited per client address (RATE_LIMIT_ANONYMOUS; so it needs "
        "RATE_LIMIT_ENABLED). Off: nothing is readable without a key or a token.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "Settings":
        """Settings that only make sense together; each failure names every setting involved."""
        failures = [
            f"{message} ({', '.join(f'{name}={_said(value)}' for name, value in values)})"
            for failed, message, values in (
                (
                    self.page_default_limit < 1 or self.page_default_limit > self.page_max_limit,
                    "PAGE_DEFAULT_LIMIT must be from 1 to PAGE_MAX_LIMIT",
                    (
                        ("PAGE_DEFAULT_LIMIT", self.page_default_limit),
                        ("PAGE_MAX_LIMIT", self.page_max_limit),
                    ),
                ),
                (
                    self.max_request_bytes < 1 or self.max_request_bytes > self.max_batch_bytes,
                    "MAX_REQUEST_BYTES must be from 1 to MAX_BATCH_BYTES (the batch's larger limit)",
                    (
                        ("MAX_REQUEST_BYTES", self.max_request_bytes),
                        ("MAX_BATCH_BYTES", self.max_batch_bytes),
                    ),
                ),
                (
                    self.cache_reconnect_min_seconds > self.cache_reconnect_max_seconds,
                    "CACHE_RECONNECT_MIN_SECONDS must not exceed CACHE_RECONNECT_MAX_SECONDS",
                    (
                        ("CACHE_RECONNECT_MIN_SECONDS", self.cache_reconnect_min_seconds),
                        ("CACHE_RECONNECT_MAX_SECONDS", self.cache_reconnect_max_seconds),
                    ),
                ),
                (
                    self.gzip_enabled and self.gzip_min_bytes > _GZIP_MIN_BYTES_CEILING,
                    "GZIP_MIN_BYTES above 1 MiB compresses almost nothing: lower it, or set "
                    "GZIP_ENABLED=false",
                    (("GZIP_MIN_BYTES", self.gzip_min_bytes),),
                ),
                (
                    self.db_pool_size < 1 or self.db_max_overflow < 0,
                    "DB_POOL_SIZE must be at least 1 and DB_MAX_OVERFLOW at least 0",
                    (("DB_POOL_SIZE", self.db_pool_size), ("DB_MAX_OVERFLOW", self.db_max_overflow)),
                ),
                (
                    self.readiness_timeout_seconds
                    > self.db_connect_timeout_seconds + self.db_statement_timeout_seconds,
                    "READINESS_TIMEOUT_SECONDS must not exceed DB_CONNECT_TIMEOUT_SECONDS + "
                    "DB_STATEMENT_TIMEOUT_SECONDS (the readiness check would never time out first)",
                    (
                        ("READINESS_TIMEOUT_SECONDS", self.readiness_timeout_seconds),
                        ("DB_CONNECT_TIMEOUT_SECONDS", self.db_connect_timeout_seconds),
                        ("DB_STATEMENT_TIMEOUT_SECONDS", self.db_statement_timeout_seconds),
                    ),
                ),
                (
                    self.idempotency_sweep_minutes > self.idempotency_ttl_hours * 60,
                    "IDEMPOTENCY_SWEEP_MINUTES must not exceed IDEMPOTENCY_TTL_HOURS (in minutes): "
                    "expired keys would pile up between sweeps",
                    (
                        ("IDEMPOTENCY_SWEEP_MINUTES", self.idempotency_sweep_minutes),
                        ("IDEMPOTENCY_TTL_HOURS", self.idempotency_ttl_hours),
                    ),
                ),
                (
                    bool(self.oidc_issuers) and not self.oidc_audience,
                    "OIDC_AUDIENCE is required with OIDC_ISSUERS: a token's `aud` must name this API, "
                    "else a token the issuer made for another service would be accepted here",
                    (
                        ("OIDC_ISSUERS", ",".join(self.oidc_issuers)),
                        ("OIDC_AUDIENCE", self.oidc_audience or ""),
                    ),
                ),
                (
                    self.oidc_jwks_max_age_seconds < self.oidc_jwks_refresh_min_seconds,
                    "OIDC_JWKS_MAX_AGE_SECONDS must not be less than OIDC_JWKS_REFRESH_MIN_SECONDS",
                    (
                        ("OIDC_JWKS_MAX_AGE_SECONDS", self.oidc_jwks_max_age_seconds),
                        ("OIDC_JWKS_REFRESH_MIN_SECONDS", self.oidc_jwks_refresh_min_seconds),
                    ),
                ),
                (
                    bool(self.oidc_docs_client_id) and not self.oidc_issuers,
                    "OIDC_DOCS_CLIENT_ID needs OIDC_ISSUERS (the provider /docs signs in with)",
                    (("OIDC_DOCS_CLIENT_ID", self.oidc_docs_client_id), ("OIDC_ISSUERS", "")),
                ),
                (
                    self.public_reads and not self.rate_limit_enabled,
                    "PUBLIC_READS needs RATE_LIMIT_ENABLED: reads without a credential are limited "
                    "per client address (RATE_LIMIT_ANONYMOUS), never unlimited",
                    (("PUBLIC_READS", "true"), ("RATE_LIMIT_ENABLED", "false")),
                ),
            )
            if failed
        ]
        if failures:
            raise ValueError("; ".join(failures))
        return self

    @field_validator("trusted_proxies", "document_types", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for proxy in value:
            if proxy == "*":
                continue
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"TRUSTED_PROXIES: {proxy!r} is not an IP address or network such as 10.0.0.5 or "
                    "172.16.0.0/12 (nor *)"
                ) from None
        return value

    @field_validator("document_types")
    @classmethod
    def _media_types(cls, value: list[str]) -> list[str]:
        types = [t.lower() for t in value]
        for media in types:
            if not re.fullmatch(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", media):
                raise ValueError(f"DOCUMENT_TYPES: {media!r} is not a media type such as application/pdf")
            if media in ACTIVE_CONTENT_TYPES:
                raise ValueError(f"DOCUMENT_TYPES: {media} is content a browser runs; it cannot be allowed")
        if not types:
            raise ValueError("DOCUMENT_TYPES: name at least one media type")
        return types

    @field_validator("oidc_issuers", "oidc_algorithms", mode="before")
    @classmethod
    def _oidc_comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("oidc_client_grants", mode="before")
    @classmethod
    def _client_grants(cls, value: object) -> object:
        """`OIDC_CLIENT_GRANTS=provincial-01=unit:12,statistics=reader`."""
        if not isinstance(value, str):
            return value
        grants: dict[str, str] = {}
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            client, sep, grant = item.partition("=")
            if not sep or not client.strip() or not grant.strip():
                raise ValueError(f"OIDC_CLIENT_GRANTS: {item!r} is not client=role (e.g. statistics=reader)")
            grants[client.strip()] = grant.strip()
        return grants

    @field_validator("oidc_required_scopes", mode="before")
    @classmethod
    def _space_list(cls, value: object) -> object:
        """`OIDC_REQUIRED_SCOPES=thidua openid` (space-separated, as OAuth writes scopes)."""
        return value.split() if isinstance(value, str) else value

    @field_validator("oidc_audience", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("oidc_required_scopes")
    @classmethod
    def _scope_tokens(cls, value: list[str]) -> list[str]:
        for scope in value:
            if not re.fullmatch(r"[\x21\x23-\x5b\x5d-\x7e]+", scope):
                raise ValueError(f"OIDC_REQUIRED_SCOPES: {scope!r} is not a scope (RFC 6749 §3.3)")
        return value

    @field_validator("oidc_issuers")
    @classmethod
    def _issuer_urls(cls, value: list[str]) -> list[str]:
        for issuer in value:
            if not _secure_issuer(issuer):
                raise ValueError(
                    f"OIDC_ISSUERS: {issuer!r} is not an issuer URL such as "
                    "https://id.example/realms/bocongan (https, no query or fragment; http only on "
                    "localhost or a loopback address)"
                )
        if len(set(value)) != len(value):
            raise ValueError("OIDC_ISSUERS: an issuer is named twice")
        return value

    @field_validator("oidc_algorithms")
    @classmethod
    def _asymmetric(cls, value: list[str]) -> list[str]:
        for alg in value:
            if alg not in OIDC_ASYMMETRIC_ALGORITHMS:
                why = (
                    "an unsigned token is no proof"
                    if alg.lower() == "none"
                    else "HMAC takes a shared secret, and a provider's published key is none"
                    if alg.upper().startswith("HS")
                    else "not a signature algorithm we check"
                )
                raise ValueError(
                    f"OIDC_ALGORITHMS: {alg!r} cannot be allowed ({why}); choose among "
                    f"{', '.join(OIDC_ASYMMETRIC_ALGORITHMS)}"
                )
        if not value:
            raise ValueError("OIDC_ALGORITHMS: name at least one algorithm")
        return list(dict.fromkeys(value))

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """`CORS_ORIGINS=https://a.example,https://b.example` (commas, spaces ignored)."""
        if isinstance(value, str):
            return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: list[str]) -> list[str]:
        for origin in value:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"CORS_ORIGINS: {origin!r} is not an origin such as https://app.example")
        return value

    @field_validator(
        "db_connect_timeout_seconds",
        "db_pool_timeout_seconds",
        "db_statement_timeout_seconds",
        "readiness_timeout_seconds",
        "retry_after_seconds",
    )
    @classmethod
    def _positive(cls, value: float, info: ValidationInfo) -> float:
        if not (value > 0 and math.isfinite(value)):
            name = (info.field_name or "").upper()
            raise ValueError(f"{name} must be a positive number of seconds, not {value}")
        return value

    @field_validator(
        "rate_limit_admin_reads",
        "rate_limit_admin_writes",
        "rate_limit_cluster_reads",
        "rate_limit_cluster_writes",
        "rate_limit_unit_reads",
        "rate_limit_unit_writes",
        "rate_limit_reader",
        "rate_limit_anonymous",
    )
    @classmethod
    def _one_rate(cls, value: str, info: ValidationInfo) -> str:
        """One rate in the `limits` notation: `60/minute`, `1000 per hour`, `10/5 seconds`."""
        name = (info.field_name or "").upper()
        try:
            rates = parse_many(value)
        except ValueError:
            rates = []
        if len(rates) != 1 or rates[0].amount < 1:
            raise ValueError(f"{name}: {value!r} is not one rate such as 60/minute or 1000/hour")
        return value

    @field_validator("ballot_seal_key")
    @classmethod
    def _seal_key_is_32_bytes(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            _seal_key(value)
        return value

    @field_validator("ballot_seal_previous_keys", mode="before")
    @classmethod
    def _split_previous_keys(cls, value: object) -> object:
        return [k for k in value.split(",") if k.strip()] if isinstance(value, str) else value

    @field_validator("ballot_seal_previous_keys")
    @classmethod
    def _previous_keys_are_32_bytes(cls, value: list[SecretStr]) -> list[SecretStr]:
        for key in value:
            _seal_key(key)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Ho_Chi_Minh)") from exc
        return value


def _said(value: float | str) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _secure_issuer(url: str) -> bool:
    """An issuer identifier (OpenID Connect Discovery §2): https, a host, no query or fragment;
    http only on the loopback interface (a provider on the same host, as in the tests), since
    keys fetched in clear over a network could be swapped by anyone on it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host or parts.query or parts.fragment or "?" in url or "#" in url or parts.username:
        return False
    if parts.scheme == "https":
        return True
    if parts.scheme != "http":
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _seal_key(value: SecretStr) -> None:
    try:
        raw = base64.b64decode(value.get_secret_value().strip(), validate=True)
    except ValueError as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 32:
        raise ValueError("32 bytes in base64 are needed")


@lru_cache
def get_settings() -> Settings:
    """The settings of the environment: read only at a process's entry (`python -m app`, the
    module-level app of `app.main`); everything else is passed them (`SettingsDep`)."""
    return Settings()


def app_settings(connection: HTTPConnection) -> Settings:
    """The settings of the app serving the request (`app.state.settings`, set by `create_app`)."""
    settings: Settings = connection.app.state.settings
    return settings


async def _settings(connection: HTTPConnection) -> Settings:
    """`app_settings` as a dependency: `async`, as every dependency is (FastAPI runs a plain `def`
    one in its thread pool, a hop per request)."""
    return app_settings(connection)


SettingsDep = Annotated[Settings, Depends(_settings)]
"""The app's settings, as a dependency."""
