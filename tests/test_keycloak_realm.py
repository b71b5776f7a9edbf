"""deploy/keycloak/thidua-realm.json, the development provider's realm that compose.yaml imports
(profile `sign-in`), checked for its structure: Keycloak is on none of the package registries
here, so it is not run. What the API relies on: the roles it reads (`OIDC_ROLE_PREFIX`), public
clients with PKCE S256 and no secret, an audience mapper on every client so that access tokens
name this API, the /docs redirect; and compose.yaml wiring it as the README says."""

import json
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from app.auth.signed_in import parse_grant
from app.core.config import PROJECT_ROOT, Settings

REALM_FILE = PROJECT_ROOT / "deploy" / "keycloak" / "thidua-realm.json"
REALM: dict[str, Any] = json.loads(REALM_FILE.read_text(encoding="utf-8"))
CLIENTS: dict[str, dict[str, Any]] = {c["clientId"]: c for c in REALM["clients"]}
COMPOSE: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "compose.yaml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
PREFIX = Settings(_env_file=None).oidc_role_prefix  # type: ignore[call-arg]
AUDIENCE = SERVICES["api-signed-in"]["environment"]["OIDC_AUDIENCE"]
DOCS_REDIRECT = "http://127.0.0.1:8000/docs/oauth2-redirect"


def audience_mappers(client: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in client.get("protocolMappers", []) if m["protocolMapper"] == "oidc-audience-mapper"]


def test_the_realm_holds_the_ministry_s_roles_as_the_api_reads_them() -> None:
    roles = {role["name"] for role in REALM["roles"]["realm"]}
    assert {"thidua:admin", "thidua:reader", "thidua:cluster:5", "thidua:unit:12"} <= roles
    for role in roles:
        assert role.startswith(PREFIX), role
        assert parse_grant(role.removeprefix(PREFIX)) is not None, f"{role}: not a grant the API reads"
    assert REALM["realm"] == "thidua"
    assert REALM["enabled"] is True
    assert REALM["accessTokenLifespan"] <= 300, "short-lived tokens: signing out takes effect by expiry"


@pytest.mark.parametrize("client_id", ["thidua-docs", "thidua-mobile"])
def test_front_ends_are_public_clients_with_pkce_s256(client_id: str) -> None:
    client = CLIENTS[client_id]
    assert client["publicClient"] is True
    assert "secret" not in client
    assert client["standardFlowEnabled"] is True
    assert client["implicitFlowEnabled"] is False
    assert client["directAccessGrantsEnabled"] is False, "no password grant"
    assert client["serviceAccountsEnabled"] is False
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    for uri in client["redirectUris"]:
        assert "*" not in uri, f"{client_id}: exact redirect URIs only ({uri})"


def test_the_docs_client_redirects_to_docs_and_is_the_one_compose_configures() -> None:
    docs = CLIENTS["thidua-docs"]
    assert DOCS_REDIRECT in docs["redirectUris"], "`make run` serves /docs on 127.0.0.1:8000"
    for uri in docs["redirectUris"]:
        assert urlsplit(uri).path == "/docs/oauth2-redirect", uri
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(uri))
        assert origin in docs["webOrigins"], f"the code exchange from {origin} is a CORS request"
    assert SERVICES["api-signed-in"]["environment"]["OIDC_DOCS_CLIENT_ID"] == "thidua-docs"
    published = [p.split(":") for p in SERVICES["keycloak"]["ports"]]
    assert ["127.0.0.1", "8001", "8000"] in published, "api-signed-in's /docs, in the second redirect URI"
    assert "http://127.0.0.1:8001/docs/oauth2-redirect" in docs["redirectUris"]


def test_the_mobile_client_redirects_to_the_app_rfc_8252() -> None:
    kinds = set()
    for uri in CLIENTS["thidua-mobile"]["redirectUris"]:
        parts = urlsplit(uri)
        if parts.scheme == "http":
            assert parts.hostname == "127.0.0.1", "the loopback IP literal (§7.3, §8.3)"
            assert parts.port is None, "no port: Keycloak then allows any (§7.3)"
            kinds.add("loopback")
        else:
            assert re.fullmatch(r"[a-z][a-z0-9]*(\.[a-z0-9]+)+", parts.scheme), "a reverse-DNS scheme (§7.1)"
            kinds.add("claimed scheme")
    assert kinds == {"loopback", "claimed scheme"}


def test_a_provincial_system_is_a_confidential_client_by_client_credentials() -> None:
    machine = CLIENTS["thidua-provincial-01"]
    assert machine["publicClient"] is False
    assert machine["serviceAccountsEnabled"] is True
    assert machine["standardFlowEnabled"] is False
    assert machine["directAccessGrantsEnabled"] is False
    [account] = [u for u in REALM["users"] if u.get("serviceAccountClientId") == "thidua-provincial-01"]
    assert account["realmRoles"] == ["thidua:unit:12"], "its grant, read from realm_access.roles"


def test_every_client_s_access_tokens_name_the_api_as_their_audience() -> None:
    assert AUDIENCE
    assert AUDIENCE not in CLIENTS, "the API's audience, never a client's id"
    for client_id, client in CLIENTS.items():
        [mapper] = audience_mappers(client)
        config = mapper["config"]
        assert config["included.custom.audience"] == AUDIENCE, client_id
        assert config["access.token.claim"] == "true", client_id
        assert config.get("id.token.claim", "false") == "false", client_id


def test_people_of_the_realm_hold_one_known_role_each() -> None:
    roles = {role["name"] for role in REALM["roles"]["realm"]}
    people = [u for u in REALM["users"] if "serviceAccountClientId" not in u]
    assert {role for person in people for role in person["realmRoles"]} == roles
    for person in people:
        assert all(c["temporary"] is False for c in person.get("credentials", []))


def test_compose_runs_keycloak_only_in_the_sign_in_profile_with_the_realm_imported() -> None:
    keycloak = SERVICES["keycloak"]
    assert keycloak["profiles"] == ["sign-in"]
    assert re.fullmatch(r"quay\.io/keycloak/keycloak:\d+\.\d+\.\d+", keycloak["image"]), "a pinned version"
    assert keycloak["command"][:1] == ["start-dev"]
    assert "--import-realm" in keycloak["command"]
    source, target = keycloak["volumes"][0].split(":")[:2]
    assert (PROJECT_ROOT / source).resolve() == REALM_FILE
    assert target.startswith("/opt/keycloak/data/import/")
    assert target.endswith(".json")
    for port in keycloak["ports"]:
        assert port.startswith("127.0.0.1:"), "published on the loopback interface only"
    for name, service in SERVICES.items():
        if name not in ("keycloak", "api-signed-in"):
            assert "profiles" not in service, f"{name} runs by default"
            assert "OIDC_ISSUERS" not in service.get("environment", {}), "keys only without the profile"


def test_the_signed_in_api_trusts_keycloak_over_loopback() -> None:
    """The API takes an http issuer only on the loopback interface (`OIDC_ISSUERS`): the instance
    that trusts Keycloak shares its network namespace, where 127.0.0.1:8080 is Keycloak, and the
    issuer Keycloak writes in its tokens (KC_HOSTNAME) is that same URL."""
    api = SERVICES["api-signed-in"]
    assert api["profiles"] == ["sign-in"]
    assert api["network_mode"] == "service:keycloak"
    assert "ports" not in api
    environment = api["environment"]
    hostname = SERVICES["keycloak"]["environment"]["KC_HOSTNAME"]
    assert environment["OIDC_ISSUERS"] == f"{hostname}/realms/{REALM['realm']}"
    published = {p.split(":")[2] for p in SERVICES["keycloak"]["ports"]}
    assert str(urlsplit(hostname).port) in published
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        oidc_issuers=environment["OIDC_ISSUERS"],
        oidc_audience=environment["OIDC_AUDIENCE"],
        oidc_docs_client_id=environment["OIDC_DOCS_CLIENT_ID"],
        oidc_grants_source=environment["OIDC_GRANTS_SOURCE"],
        oidc_roles_claim=environment["OIDC_ROLES_CLAIM"],
    )
    assert settings.oidc_issuers == ["http://127.0.0.1:8080/realms/thidua"]
    assert environment["DATABASE_URL"] == SERVICES["api"]["environment"]["DATABASE_URL"]
    assert environment["BALLOT_SEAL_KEY"] == SERVICES["api"]["environment"]["BALLOT_SEAL_KEY"]
