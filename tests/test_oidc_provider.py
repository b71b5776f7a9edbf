"""The OpenID provider the suite runs (`tests/oidc_provider.py`) does what the sign-in tests rely
on: RFC 9068 JWT access tokens for the API, signed with the fixture's keys and published at its
`jwks_uri`, for a machine (client credentials) and for a person (authorization code with PKCE,
through the provider's own pages in headless Chromium); a wrong PKCE verifier refused; keys
rotated in place; forged tokens shaped as real ones."""

import time
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidSignature

from tests.oidc_provider import (  # noqa: F401 (oidc_provider_fixture: the fixture oidc_provider)
    OTHER_AUDIENCE,
    OidcProvider,
    jwt_parts,
    new_signing_key,
    oidc_provider_fixture,
    pkce_pair,
    public_jwks,
    verify_jwt,
)


def published_jwks(provider: OidcProvider) -> dict[str, Any]:
    response = httpx.get(provider.jwks_uri)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def assert_api_token(provider: OidcProvider, token: str, client_id: str) -> dict[str, Any]:
    """A JWT access token for the API (RFC 9068), signed by the fixture's current signing key,
    which the provider publishes; its claims."""
    header, _ = jwt_parts(token)
    assert header["typ"] == "at+jwt", header
    assert header["alg"] == "RS256", header
    assert header["kid"] == provider.signing_key["kid"], header
    claims = verify_jwt(token, public_jwks(provider.jwks))
    assert verify_jwt(token, published_jwks(provider)) == claims
    assert claims["iss"] == provider.issuer
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert provider.audience in audience, claims
    assert claims["client_id"] == client_id
    assert provider.scope in claims["scope"].split(), claims
    now = time.time()
    assert claims["iat"] <= now + 5 < claims["exp"], claims
    return claims


def test_the_provider_publishes_the_fixtures_public_keys(oidc_provider: OidcProvider) -> None:
    published = published_jwks(oidc_provider)
    expected = public_jwks(oidc_provider.jwks)
    assert [key["kid"] for key in published["keys"]] == [key["kid"] for key in expected["keys"]]
    for key, mine in zip(published["keys"], expected["keys"], strict=True):
        assert (key["kty"], key["n"], key["e"]) == (mine["kty"], mine["n"], mine["e"])
        assert "d" not in key


def test_a_machine_gets_a_jwt_for_the_api_by_client_credentials(oidc_provider: OidcProvider) -> None:
    client = oidc_provider.machine_client
    claims = assert_api_token(oidc_provider, oidc_provider.client_credentials_token(), client.client_id)
    assert claims["sub"] == client.client_id
    assert "realm_access" not in claims
    assert "name" not in claims
    assert claims.keys() == oidc_provider.claims().keys(), "forged machine tokens differ from real ones"


def test_another_resource_gets_a_token_with_its_own_audience(oidc_provider: OidcProvider) -> None:
    token = oidc_provider.client_credentials_token(resource=OTHER_AUDIENCE, scope="other")
    claims = verify_jwt(token, public_jwks(oidc_provider.jwks))
    assert claims["aud"] == OTHER_AUDIENCE
    assert claims["scope"] == "other"


def test_a_person_signs_in_with_pkce_in_chromium(oidc_provider: OidcProvider) -> None:
    account = oidc_provider.accounts["an.nguyen"]
    token = oidc_provider.sign_in_with_pkce("an.nguyen")
    claims = assert_api_token(oidc_provider, token, oidc_provider.public_client.client_id)
    assert claims["sub"] == "an.nguyen"
    assert claims["name"] == account["name"] == "Nguyễn Văn An"
    assert claims["preferred_username"] == "an.nguyen"
    assert claims["realm_access"] == {"roles": ["admin"]}
    assert claims.keys() == oidc_provider.claims("an.nguyen").keys(), "forged tokens differ from real ones"


def test_a_code_with_a_wrong_pkce_verifier_is_refused(oidc_provider: OidcProvider) -> None:
    _, challenge = pkce_pair()
    wrong_verifier, _ = pkce_pair()
    code = oidc_provider.authorize("binh.tran", code_challenge=challenge)
    response = oidc_provider.exchange_code(code, wrong_verifier)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_grant"
    assert "access_token" not in response.json()


def test_keys_rotate_in_place_and_come_back(oidc_provider: OidcProvider) -> None:
    old = oidc_provider.signing_key
    new = new_signing_key()
    issuer = oidc_provider.issuer
    with oidc_provider.reconfigured(jwks={"keys": [new, old]}):
        assert [key["kid"] for key in published_jwks(oidc_provider)["keys"]] == [new["kid"], old["kid"]]
        token = oidc_provider.client_credentials_token()
        assert jwt_parts(token)[0]["kid"] == new["kid"]
        verify_jwt(token, public_jwks({"keys": [new]}))
        with pytest.raises(InvalidSignature):  # the old key, under the new key's kid
            verify_jwt(token, {"keys": [{**public_jwks({"keys": [old]})["keys"][0], "kid": new["kid"]}]})
    assert oidc_provider.issuer == issuer
    assert [key["kid"] for key in published_jwks(oidc_provider)["keys"]] == [old["kid"]]
    assert jwt_parts(oidc_provider.client_credentials_token())[0]["kid"] == old["kid"]


def test_forged_tokens_verify_with_the_key_they_name(oidc_provider: OidcProvider) -> None:
    stranger = new_signing_key()
    assert verify_jwt(oidc_provider.forge(), public_jwks(oidc_provider.jwks))["iss"] == oidc_provider.issuer
    forged = oidc_provider.forge("chi.le", key=stranger, header={"kid": oidc_provider.signing_key["kid"]})
    with pytest.raises(InvalidSignature):
        verify_jwt(forged, public_jwks(oidc_provider.jwks))
    header, claims = jwt_parts(oidc_provider.forge(alg="none", exp=None))
    assert header["alg"] == "none"
    assert "exp" not in claims
