"""The OpenAPI document: FastAPI's, finished with what FastAPI does not say by itself, so that
every endpoint follows the same contract without repeating it in each router.

- Error responses are problem+json only.
- Examples are the models' own: FastAPI drops every `null` from the document, which left
  examples without their required nullable fields.
- `servers`; bearer security for every operation, `security: []` on the public ones.
- Headers: `X-Request-ID`, `Content-Language` and `Vary` on every answer; `ETag` (and a 304)
  on GETs; `ETag` on answers to PUT/PATCH; `Location` and `ETag` on a 201 whose resource can be
  read back; `Idempotent-Replayed` on answers to a POST that takes `Idempotency-Key`;
  `WWW-Authenticate` on 401.
- Rate limits: on every operation but the probes and the metrics, a 429 with `Retry-After`, and
  the `RateLimit` and `RateLimit-Policy` fields on every answer.
- A 400 on every operation for a query parameter it does not take (`app.core.query`); where a
  parameter is deprecated (`app.core.deprecation`), the 400 for it beside its new name, and the
  `Deprecation`, `Sunset` and `Link` fields on every answer.
- `If-None-Match` on every GET; `If-Match` required on every PATCH (the server answers 428
  without it).
- A request field or parameter that the server defaults is optional for every generator: its
  default moves into the description (generators such as openapi-typescript make any property
  with a `default` required).
- A request body that is a union (`oneOf` with a discriminator) is a component with a name
  (`UNION_BODIES`): FastAPI leaves it inline, titled `Body`, and generators call it `Body`,
  `Body1`, …
- Nullable values keep Pydantic's OpenAPI 3.1 form, `anyOf: [{…}, {"type": "null"}]`:
  openapi-typescript, @hey-api/openapi-ts, openapi-python-client and openapi-generator (Kotlin,
  Swift) read it as a nullable type (`Citation | null`, `Citation?`, `kotlin.String?`). orval
  writes one alias file per nullable property (`AliasConflictDetail = string | null`) whether it
  is this form or 3.1's `"type": ["string", "null"]` (orval 7.9: 490 files either way, 40 of
  them nullable references, which have no other 3.1 form); the 3.0 form (`nullable` beside
  `allOf`) is not valid 3.1.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from starlette.requests import Request

from app.core.deprecation import CONFLICTING_PARAMETERS, DEPRECATION_HEADERS
from app.core.errors import PROBLEM_MEDIA_TYPE, TITLES, problem_examples
from app.core.i18n import current_locale
from app.core.openapi_i18n import localized
from app.core.query import UNKNOWN_PARAMETER_DESCRIPTION, UNKNOWN_PARAMETER_EXAMPLE

SERVERS = [{"url": "/", "description": "The server that serves this document"}]
"""Relative (RFC 3986 reference `/`): "Try it out" calls the server that served the page, whatever its
host, port or proxy; a generated client takes its base URL from its caller."""
SECURITY_SCHEME = "HTTPBearer"
SIGN_IN_SCHEME = "OpenIdConnect"
SIGN_IN = {
    "type": "openIdConnect",
    "openIdConnectUrl": "/v1/auth/openid-configuration",
    "description": "A person signed in through the Ministry's OpenID provider (authorization "
    "code with PKCE), or a machine's client-credentials token: `Authorization: Bearer <access "
    "token>`, a JWT access token (RFC 9068) for this API's audience. The URL redirects to the "
    "configured provider's discovery document (404 when sign-in is not configured).",
}
"""Beside the API key: the same `Authorization: Bearer` header carries either."""

HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (yours when well-formed, else a new one): quote it when "
        "reporting a problem.",
        "schema": {"type": "string", "maxLength": 128},
    },
    "ETag": {
        "description": "The representation's strong validator: send it back in `If-None-Match` "
        "(304 when unchanged) or, for a versioned record, in `If-Match` to change it.",
        "schema": {"type": "string"},
    },
    "Location": {"description": "Where the created resource is read.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this is the replay of the first answer to the same "
        "`Idempotency-Key`; absent on the first answer.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "PageLink": {
        "description": 'On a page that has a next one: `<…>; rel="next"` (RFC 8288), this request\'s '
        "URI with the next page's `cursor` (a reference relative to it); absent on the last page. "
        'On answers to a request that used a deprecated parameter, also `rel="deprecation"` '
        "(RFC 9745), as a field of its own.",
        "schema": {"type": "string"},
        "example": '</v1/units?limit=50&cursor=5a3c96f3>; rel="next"',
    },
    "WWW-Authenticate": {"description": '`Bearer realm="thidua"`.', "schema": {"type": "string"}},
    "Content-Language": {
        "description": "The language of the text people read in this answer (`vi` unless the "
        "request's `Accept-Language` asks for `en`).",
        "schema": {"type": "string", "enum": ["vi", "en"]},
    },
    "Vary": {
        "description": "`Accept-Language`, `Accept-Encoding` on answers that may be compressed "
        "(and `Accept` on exports, `Origin` where CORS applies): caches keep one answer per variant.",
        "schema": {"type": "string"},
    },
    "RateLimit-Policy": {
        "description": "The caller's budgets (IETF httpapi draft, a structured-field list): "
        '`"reads";q=600;w=60, "writes";q=60;w=60` is 600 reads and 60 writes per 60 s for this key; '
        '`"anonymous";q=60;w=60` is the budget of requests without a valid key, per client address. '
        "Counted per instance; absent where the operator turned rate limits off.",
        "schema": {"type": "string"},
        "example": '"reads";q=600;w=60, "writes";q=60;w=60',
    },
    "RateLimit": {
        "description": "What is left of the budget this request counted against: `r` requests "
        'within the next `t` seconds (`"reads";r=599;t=60`). Absent where the operator turned rate '
        "limits off.",
        "schema": {"type": "string"},
        "example": '"reads";r=599;t=60',
    },
    "Retry-After": {
        "description": "Whole seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    },
}
RATE_LIMITED: dict[str, Any] = {
    "description": f"{TITLES[429]}: over the key's budget (without a valid key, the client "
    "address's); retry after `Retry-After` seconds",
    "content": {
        PROBLEM_MEDIA_TYPE: {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "examples": {"problem": {"$ref": "#/components/examples/Problem429"}},
        }
    },
}
PARAMETERS: dict[str, dict[str, Any]] = {
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "The ETag you hold: 304 with no body when the representation is unchanged.",
        "schema": {"type": "string"},
    }
}
_METHODS = ("get", "put", "post", "patch", "delete")


_REQUEST_MODELS: list[type[BaseModel]] = []


def register_request_model(model: type[BaseModel]) -> None:
    """A request body model an operation names by `$ref` in its `openapi_extra` (a body the handler
    reads itself, such as JSON or CSV), added to the components."""
    _REQUEST_MODELS.append(model)


def _add_request_models(schemas: dict[str, Any]) -> None:
    for model in _REQUEST_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)


@localized  # the document in the request's language (`app.core.openapi_i18n`)
def build_openapi(app: FastAPI, *, unlimited: tuple[str, ...] = (), sign_in: bool = False) -> dict[str, Any]:
    """The document `/openapi.json` serves and `openapi/openapi.json` commits; the paths in
    `unlimited` are never rate-limited. With `sign_in` (`OIDC_ISSUERS` set) the operations that
    take a credential also take a signed-in person's token (`openIdConnect`); without, the scheme
    is not declared, since its discovery URL would lead nowhere (the committed document is the
    default server's: keys only)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=SERVERS,
        license_info=app.license_info,
    )
    components = document.setdefault("components", {})
    components["headers"] = {**HEADERS, **DEPRECATION_HEADERS}
    components["parameters"] = dict(PARAMETERS)
    components["examples"] = {
        **problem_examples(),
        "UnknownParameter": {
            "summary": UNKNOWN_PARAMETER_EXAMPLE["type"],
            "value": UNKNOWN_PARAMETER_EXAMPLE,
        },
    }
    _add_request_models(components.setdefault("schemas", {}))
    document["security"] = [{SECURITY_SCHEME: []}]
    if sign_in:
        components.setdefault("securitySchemes", {})[SIGN_IN_SCHEME] = SIGN_IN
        document["security"].append({SIGN_IN_SCHEME: []})
    _restore_examples(components.get("schemas", {}))
    document = _rename_generics(document)
    _name_union_bodies(document)
    _revision_examples(document["components"].get("schemas", {}))
    for path, method, operation in _operations(document):
        _query_problems(operation)
        _finish_operation(document, path, method, operation, sign_in=sign_in)
        _deprecation_headers(operation)
        if path not in unlimited:
            _rate_limited(operation)
    _optional_defaults(document)
    app.openapi_schema = document
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                yield path, method, item[method]


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _finish_operation(
    document: dict[str, Any], path: str, method: str, operation: dict[str, Any], *, sign_in: bool
) -> None:
    security = operation.setdefault("security", [])
    if sign_in and {SECURITY_SCHEME: []} in security and {SIGN_IN_SCHEME: []} not in security:
        security.append({SIGN_IN_SCHEME: []})  # a signed-in person's token, or a key
    parameters = operation.setdefault("parameters", [])
    names = {p.get("name", "").lower() for p in parameters}
    if method == "get":
        parameters.append({"$ref": "#/components/parameters/IfNoneMatch"})
    if method == "patch":
        for parameter in parameters:
            if parameter.get("name", "").lower() == "if-match":
                parameter["required"] = True
    readable_item = any(
        p.startswith(path + "/{") and p.count("/") == path.count("/") + 1 and "get" in item
        for p, item in document["paths"].items()
    )
    responses = operation["responses"]
    for status, response in responses.items():
        content = response.get("content", {})
        if PROBLEM_MEDIA_TYPE in content:
            content.pop("application/json", None)
        headers = response.setdefault("headers", {})
        headers["X-Request-ID"] = _header("X-Request-ID")
        headers["Content-Language"] = _header("Content-Language")
        headers["Vary"] = _header("Vary")
        ok = status.startswith("2")
        if ok and (method in ("get", "put", "patch") or (status == "201" and readable_item)):
            headers["ETag"] = _header("ETag")
        if status == "201" and readable_item:
            headers["Location"] = _header("Location")
        if ok and method == "post" and "idempotency-key" in names:
            headers["Idempotent-Replayed"] = _header("Idempotent-Replayed")
        if status == "401":
            headers["WWW-Authenticate"] = _header("WWW-Authenticate")
        if status == "200" and _is_page(response):
            headers["Link"] = _header("PageLink")
    if method == "get" and "200" in responses:
        responses["304"] = {
            "description": "Not modified: the `If-None-Match` ETag is the current one (no body).",
            "headers": {"ETag": _header("ETag"), "X-Request-ID": _header("X-Request-ID")},
        }


def _is_page(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).endswith("Page")


def _deprecated_query(operation: dict[str, Any]) -> bool:
    return any(p.get("in") == "query" and p.get("deprecated") for p in operation.get("parameters", []))


def _query_problems(operation: dict[str, Any]) -> None:
    """Every operation refuses a query parameter it does not take (`app.core.query`), and one with
    a deprecated parameter also refuses it beside its new name with another value
    (`app.core.deprecation`): both 400, added to the 400 of an undecodable body if there is one."""
    said = [UNKNOWN_PARAMETER_DESCRIPTION]
    if _deprecated_query(operation):
        said.append(
            "a deprecated query parameter and the one replacing it given different values "
            f"(`/problems/{CONFLICTING_PARAMETERS}`, naming both in `parameters`)"
        )
    responses = operation["responses"]
    if "400" in responses:
        responses["400"]["description"] = "; or ".join([responses["400"]["description"], *said])
    else:
        joined = "; or ".join(said)
        responses["400"] = {
            "description": joined[0].upper() + joined[1:],
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {"problem": {"$ref": "#/components/examples/UnknownParameter"}},
                }
            },
        }


def _deprecation_headers(operation: dict[str, Any]) -> None:
    """`Deprecation`, `Sunset` and `Link` on every answer of an operation with a deprecated query
    parameter: they come when a request uses it."""
    if not _deprecated_query(operation):
        return
    for response in operation["responses"].values():
        headers = response.setdefault("headers", {})
        for name in DEPRECATION_HEADERS:
            headers.setdefault(name, _header(name))  # a page's `Link` says both


def _rate_limited(operation: dict[str, Any]) -> None:
    """A 429, and the `RateLimit` fields on every answer."""
    responses = operation["responses"]
    responses["429"] = json.loads(json.dumps(RATE_LIMITED))
    responses["429"]["headers"] = {
        name: _header(name) for name in ("Retry-After", "X-Request-ID", "Content-Language", "Vary")
    }
    for response in responses.values():
        headers = response.setdefault("headers", {})
        headers["RateLimit-Policy"] = _header("RateLimit-Policy")
        headers["RateLimit"] = _header("RateLimit")


_GENERIC = re.compile(r"^(Page|RevisionOut)_(\w+?)_$")


def _rename_generics(document: dict[str, Any]) -> dict[str, Any]:
    """`Page_UnitOut_` → `UnitPage`, `RevisionOut_UnitOut_` → `UnitRevision`: names that read
    well in generated clients (Pydantic names generic models after their parameters)."""

    def nice(name: str) -> str:
        match = _GENERIC.match(name)
        if match is None:
            return name
        kind, argument = match.groups()
        return nice(argument).removesuffix("Out") + ("Page" if kind == "Page" else "Revision")

    schemas = document["components"].get("schemas", {})
    renames = {name: nice(name) for name in schemas if nice(name) != name}
    if not renames:
        return document
    text = json.dumps(document, ensure_ascii=False)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed: dict[str, Any] = json.loads(text)
    renamed["components"]["schemas"] = {
        renames.get(name, name): {**schema, "title": renames[name]} if name in renames else schema
        for name, schema in renamed["components"]["schemas"].items()
    }
    return renamed


UNION_BODIES = {"recordSuccession": "SuccessionCreate", "createKey": "KeyCreate"}
"""The component naming each operation's union request body, as its schemas module names the
union (`app.successions.schemas.SuccessionCreate`, `app.keys.schemas.KeyCreate`)."""


def _name_union_bodies(document: dict[str, Any]) -> None:
    """Each union request body becomes `#/components/schemas/<UNION_BODIES[operationId]>`; an
    operation with such a body and no name there is an error, so none reaches clients unnamed."""
    schemas = document["components"].setdefault("schemas", {})
    for path, method, operation in _operations(document):
        for content in operation.get("requestBody", {}).get("content", {}).values():
            schema = content.get("schema", {})
            if "oneOf" not in schema and "anyOf" not in schema:
                continue
            name = UNION_BODIES.get(operation.get("operationId", ""))
            if name is None:
                raise ValueError(f"{method.upper()} {path}: name its union request body in UNION_BODIES")
            variants = schema.get("oneOf") or schema.get("anyOf") or []
            members = [str(v.get("$ref", v.get("title", "?"))).rsplit("/", 1)[-1] for v in variants]
            by = schema.get("discriminator", {}).get("propertyName")
            said = f"One of {', '.join(f'`{m}`' for m in members)}" + (f", by `{by}`." if by else ".")
            schemas.setdefault(name, {**schema, "title": name, "description": said})
            content["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _revision_examples(schemas: dict[str, Any]) -> None:
    """A revision's example is the example of the record it keeps, as its first version."""
    for schema in schemas.values():
        data = schema.get("properties", {}).get("data", {})
        ref = data.get("$ref", "")
        if "example" in schema or not {"version", "recorded_by", "recorded_at"} <= set(
            schema.get("properties", {})
        ):
            continue
        record = schemas.get(ref.rsplit("/", 1)[-1], {}).get("example")
        if record is not None:
            schema["example"] = {
                "version": record.get("version", 1),
                "data": record,
                "recorded_by": "key:1:Cục Công tác chính trị",
                "recorded_at": "2026-11-25T08:00:00Z",
            }


def _app_models() -> dict[str, type[BaseModel]]:
    """Every Pydantic model of this application, by class name."""
    found: dict[str, type[BaseModel]] = {}
    stack: list[type[BaseModel]] = [BaseModel]
    while stack:
        for model in stack.pop().__subclasses__():
            stack.append(model)
            if model.__module__.startswith("app."):
                found.setdefault(model.__name__, model)
    return found


def _restore_examples(schemas: dict[str, Any]) -> None:
    models = _app_models()
    for name, schema in schemas.items():
        model = models.get(name.removesuffix("-Input").removesuffix("-Output"))
        extra = model.model_config.get("json_schema_extra") if model else None
        if isinstance(extra, dict) and "example" in extra:
            schema["example"] = json.loads(json.dumps(extra["example"], default=str))


def _request_schemas(document: dict[str, Any]) -> set[str]:
    """The component schemas a request body can contain, transitively."""
    schemas = document["components"].get("schemas", {})
    pending = [
        content["schema"]
        for _, _, operation in _operations(document)
        for content in operation.get("requestBody", {}).get("content", {}).values()
    ]
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in seen:
                    seen.add(name)
                    pending.append(schemas[name])
            pending.extend(v for v in node.values() if isinstance(v, dict | list))
    return seen


def _move_default(schema: dict[str, Any], holder: dict[str, Any]) -> None:
    """Say the server's default in `holder`'s description instead of a `default` keyword."""
    default = schema.pop("default")
    said = f"Default: `{json.dumps(default, ensure_ascii=False)}`."
    holder["description"] = f"{holder['description']} {said}" if holder.get("description") else said


def _optional_defaults(document: dict[str, Any]) -> None:
    schemas = document["components"].get("schemas", {})
    for name in _request_schemas(document):
        for prop in schemas[name].get("properties", {}).values():
            if "default" in prop:
                _move_default(prop, prop)
    for _, _, operation in _operations(document):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if "default" in schema:
                _move_default(schema, parameter)
            _without_null(parameter)


def _without_null(parameter: dict[str, Any]) -> None:
    """A parameter is sent or left out; it is never `null`. `int | None` in a signature means
    optional, which `required: false` already says."""
    schema = parameter.get("schema", {})
    variants = [v for v in schema.get("anyOf", []) if v.get("type") != "null"]
    if len(variants) == 1 and len(schema["anyOf"]) == 2:
        schema.pop("anyOf")
        schema.update(variants[0])


DOCS_PATH = "/docs"
STATIC_DOCS = "/static-offline-docs"
"""Swagger UI's own files, served by `fastapi-offline` (no CDN)."""


def add_docs(app: FastAPI, path: str, *, sign_in_client: str | None) -> None:
    """The interactive docs at `path`, from this server's own copy of Swagger UI. With
    `sign_in_client` (`OIDC_DOCS_CLIENT_ID`), "Authorize" also signs a person in through the
    OpenID provider, with the authorization-code flow and PKCE (no client secret), and comes back
    to `path + "/oauth2-redirect"`."""
    redirect = f"{path}/oauth2-redirect"
    init_oauth = (
        {"clientId": sign_in_client, "usePkceWithAuthorizationCodeGrant": True, "scopes": "openid profile"}
        if sign_in_client
        else None
    )

    @app.get(path, include_in_schema=False)
    async def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}?lang={current_locale()}",  # the page's language
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{redirect}",
            swagger_js_url=f"{root}{STATIC_DOCS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_DOCS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_DOCS}/favicon.png",
            init_oauth=init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redirect, include_in_schema=False)
    async def docs_sign_in_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
