"""A real OpenID provider for the tests: `oidc-provider` (npm, installed under `tests/oidc` by
`make oidc-provider`, which `make test` runs), started by `tests/oidc/provider.mjs` once per pytest
worker, on a free loopback port, and stopped at the end.

Import the fixture where it is used (`tests/conftest.py` does not); its function has another name
than the fixture, so that the test's parameter does not shadow the import (ruff's F811):

    from tests.oidc_provider import OidcProvider, oidc_provider_fixture  # noqa: F401

    def test_something(oidc_provider: OidcProvider) -> None:
        token = oidc_provider.client_credentials_token()              # a machine
        token = oidc_provider.sign_in_with_pkce("an.nguyen")          # a person, in Chromium

The keys are made here (`new_signing_key`), so a test can also forge tokens (`forge`, `sign_jwt`)
and check signatures (`verify_jwt`) without any JWT library. `reconfigure` / `reconfigured` change
the keys, accounts, resources, clients or lifetimes of the running provider in place (same issuer,
same port, sessions kept): a key rotation is `reconfigured(jwks=...)`, restored afterwards.

Access tokens are RFC 9068 JWTs (RS256) for `API_AUDIENCE`, as Keycloak's would be with an audience
mapper: `iss`, `sub`, `aud`, `client_id`, `scope`, `iat`, `exp`, `jti`, and for a person the
account's claims (`name`, `preferred_username`, `realm_access.roles`). A machine's token has
`sub` = `client_id` and no account claims.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import selectors
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.test_docs_browser import CHROMEDRIVER, CHROMIUM, CHROMIUM_ARGUMENTS

PROVIDER_DIR = Path(__file__).parent / "oidc"
READY_WITHIN_SECONDS = 20.0
SIGN_IN_WITHIN_SECONDS = 20.0
RELOAD_PATH = "/__harness/reload"

API_AUDIENCE = "urn:thidua:api"
"""The API's resource indicator (RFC 8707), which is its tokens' `aud`."""
API_SCOPE = "thidua"
"""The scope the API defines; tokens for it carry only its scopes."""
OTHER_AUDIENCE = "urn:thidua:test:another-api"
"""Another API the provider issues tokens for: a real token with the wrong audience."""

PUBLIC_CLIENT_ID = "thidua-app"
MACHINE_CLIENT_ID = "thidua-machine"
REDIRECT_PATH = "/callback"

DEFAULT_ACCOUNTS: dict[str, dict[str, Any]] = {
    "an.nguyen": {
        "name": "Nguyễn Văn An",
        "preferred_username": "an.nguyen",
        "realm_access": {"roles": ["admin"]},
    },
    "binh.tran": {
        "name": "Trần Thị Bình",
        "preferred_username": "binh.tran",
        "realm_access": {"roles": ["reader"]},
    },
    "chi.le": {"name": "Lê Minh Chí", "preferred_username": "chi.le", "realm_access": {"roles": []}},
}
"""Subject (the user name typed on the provider's sign-in page) -> the claims its tokens carry;
the role names are placeholders a test replaces (`reconfigured(accounts=...)`) with the format the
service reads."""

DEFAULT_TTL = {
    "AccessToken": 300,
    "ClientCredentials": 300,
    "AuthorizationCode": 60,
    "IdToken": 300,
    "RefreshToken": 600,
    "Interaction": 300,
    "Session": 600,
    "Grant": 600,
}
"""Seconds. Short: nothing here lives longer than a run, and expiry is tested with forged tokens."""


# --- keys and JWS, with `cryptography` only -------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_b64(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _b64_int(text: str) -> int:
    return int.from_bytes(b64url_decode(text), "big")


def new_signing_key(kid: str | None = None) -> dict[str, str]:
    """A new private RSA key (2048 bits) as a JWK for RS256, its `kid` its RFC 7638 thumbprint
    unless given."""
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_numbers()
    public = numbers.public_numbers
    thumbprint_input = json.dumps(
        {"e": _int_b64(public.e), "kty": "RSA", "n": _int_b64(public.n)}, separators=(",", ":")
    )
    return {
        "kty": "RSA",
        "kid": kid or b64url(hashlib.sha256(thumbprint_input.encode()).digest()),
        "use": "sig",
        "alg": "RS256",
        "n": _int_b64(public.n),
        "e": _int_b64(public.e),
        "d": _int_b64(numbers.d),
        "p": _int_b64(numbers.p),
        "q": _int_b64(numbers.q),
        "dp": _int_b64(numbers.dmp1),
        "dq": _int_b64(numbers.dmq1),
        "qi": _int_b64(numbers.iqmp),
    }


PUBLIC_MEMBERS = ("kty", "kid", "use", "alg", "n", "e")


def public_jwk(jwk: Mapping[str, str]) -> dict[str, str]:
    return {name: jwk[name] for name in PUBLIC_MEMBERS if name in jwk}


def public_jwks(jwks: Mapping[str, Any]) -> dict[str, Any]:
    """The JWK Set without its private members, as a provider publishes it."""
    return {"keys": [public_jwk(key) for key in jwks["keys"]]}


def private_key(jwk: Mapping[str, str]) -> rsa.RSAPrivateKey:
    public = rsa.RSAPublicNumbers(_b64_int(jwk["e"]), _b64_int(jwk["n"]))
    return rsa.RSAPrivateNumbers(
        p=_b64_int(jwk["p"]),
        q=_b64_int(jwk["q"]),
        d=_b64_int(jwk["d"]),
        dmp1=_b64_int(jwk["dp"]),
        dmq1=_b64_int(jwk["dq"]),
        iqmp=_b64_int(jwk["qi"]),
        public_numbers=public,
    ).private_key()


def public_key(jwk: Mapping[str, str]) -> rsa.RSAPublicKey:
    return rsa.RSAPublicNumbers(_b64_int(jwk["e"]), _b64_int(jwk["n"])).public_key()


def public_key_pem(jwk: Mapping[str, str]) -> bytes:
    """The public key in PEM: what an attacker signs an HS256 token with, hoping the verifier
    uses it as the HMAC secret."""
    return public_key(jwk).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _json_b64(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def sign_jwt(
    claims: Mapping[str, Any],
    key: Mapping[str, str] | bytes | None,
    *,
    alg: str = "RS256",
    header: Mapping[str, Any] | None = None,
) -> str:
    """A compact JWS of `claims`: RS256 with a private JWK (its `kid` in the header), HS256 with a
    secret (bytes), or `alg: none` (no key, empty signature). `header` adds or replaces members."""
    head: dict[str, Any] = {"typ": "at+jwt", "alg": alg}
    if isinstance(key, Mapping) and "kid" in key:
        head["kid"] = key["kid"]
    head.update(header or {})
    signing_input = f"{_json_b64(head)}.{_json_b64(claims)}".encode()
    if alg == "RS256" and isinstance(key, Mapping):
        signature = private_key(key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "HS256" and isinstance(key, bytes):
        signature = hmac.digest(key, signing_input, "sha256")
    elif alg == "none" and key is None:
        signature = b""
    else:
        raise ValueError(f"cannot sign {alg} with {type(key).__name__}")
    return f"{signing_input.decode()}.{b64url(signature)}"


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a compact JWS, NOT verified."""
    header, payload, _ = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload))


def verify_jwt(token: str, jwks: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of an RS256 JWS whose signature one of `jwks`' keys (by `kid`) verifies; raises
    ValueError otherwise (cryptography's InvalidSignature for a bad signature). Checks nothing
    else: the claims are the caller's to check."""
    header, claims = jwt_parts(token)
    if header.get("alg") != "RS256":
        raise ValueError(f"not RS256: {header}")
    keys = [key for key in jwks["keys"] if key.get("kid") == header.get("kid")]
    if len(keys) != 1:
        raise ValueError(f"no single key with kid {header.get('kid')!r} in the JWK Set")
    signing_input, _, signature = token.rpartition(".")
    public_key(keys[0]).verify(
        b64url_decode(signature), signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return claims


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier (RFC 7636: 43-128 unreserved characters) and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


ANSWER_PROMPT_JS = """
const [username, answered] = arguments;
const prompt = document.querySelector('form[method=post] input[name=prompt]');
if (!prompt || !['login', 'consent'].includes(prompt.value)) return [location.href, null];
const page = `${prompt.value} ${location.href}`;
if (answered.includes(page)) return [location.href, null];
if (prompt.value === 'login') {
  prompt.form.elements.login.value = username;
  prompt.form.elements.password.value = 'any password';
}
prompt.form.querySelector('button[type=submit]').click();
return [location.href, page];
"""
"""One look at the page, and one answer: the URL; on the provider's sign-in page (user name, any
password) or consent page not answered yet, the form filled and its button pressed, and which page
that was. One WebDriver command per look: the sign-in costs page loads, not round trips."""


# --- the provider ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None = None
    """None for a public client (PKCE, `token_endpoint_auth_method: none`)."""


class OidcProvider:
    """A running provider: `issuer`, `audience`, the private `jwks`, its clients (`public_client`,
    `machine_client`) and `accounts`, and the flows that get tokens from it."""

    def __init__(
        self, process: subprocess.Popen[bytes], issuer: str, directory: Path, config: dict[str, Any]
    ):
        self.process = process
        self.issuer = issuer
        self.audience = API_AUDIENCE
        self.scope = API_SCOPE
        self.redirect_uri = f"{issuer}{REDIRECT_PATH}"
        """Where the browser is sent back with the code: registered as the loopback URI
        `http://127.0.0.1/callback` of a native client (RFC 8252: any port), here on the
        provider's own port, whose page (a 404) loads at once and is never read."""
        self.directory = directory
        self.config = config
        self.http = httpx.Client(timeout=10)
        self.discovery: dict[str, Any] = {}
        self._browser: WebDriver | None = None

    # What the provider is running with.

    @property
    def jwks(self) -> dict[str, Any]:
        """The private JWK Set in use: the first key signs."""
        return deepcopy(self.config["jwks"])

    @property
    def signing_key(self) -> dict[str, str]:
        return dict(self.config["jwks"]["keys"][0])

    @property
    def public_client(self) -> Client:
        return self.client(PUBLIC_CLIENT_ID)

    @property
    def machine_client(self) -> Client:
        return self.client(MACHINE_CLIENT_ID)

    def client(self, client_id: str) -> Client:
        """A configured client, with its secret if it has one."""
        (metadata,) = (c for c in self.config["clients"] if c["client_id"] == client_id)
        return Client(client_id, metadata.get("client_secret"))

    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        return deepcopy(self.config["accounts"])

    @property
    def token_endpoint(self) -> str:
        return str(self.discovery["token_endpoint"])

    @property
    def jwks_uri(self) -> str:
        return str(self.discovery["jwks_uri"])

    @property
    def log(self) -> str:
        """What the provider wrote on stderr (warnings, server errors)."""
        return (self.directory / "provider.log").read_text(errors="replace")

    def reconfigure(self, **changes: Any) -> None:
        """Replace parts of the configuration (`jwks`, `accounts`, `resources`, `default_resource`,
        `clients`, `ttl`) in the running provider: same issuer, sessions and grants kept; the
        published JWK Set changes at once."""
        unknown = changes.keys() - self.config.keys()
        if unknown:
            raise ValueError(f"not a configuration member: {sorted(unknown)}")
        config = {**self.config, **deepcopy(changes)}
        _write_config(self.directory, config)
        response = self.http.post(
            f"{self.issuer}{RELOAD_PATH}", headers={"Authorization": f"Bearer {config['control_token']}"}
        )
        if response.status_code != 204:
            _write_config(self.directory, self.config)
            raise RuntimeError(f"the provider refused the configuration: {response.text}\n{self.log}")
        self.config = config

    @contextmanager
    def reconfigured(self, **changes: Any) -> Iterator["OidcProvider"]:
        """`reconfigure` for the block, then the configuration as it was."""
        before = {name: deepcopy(self.config[name]) for name in changes}
        self.reconfigure(**changes)
        try:
            yield self
        finally:
            self.reconfigure(**before)

    # Tokens: a machine's.

    def client_credentials_token(
        self, client: Client | None = None, *, resource: str = API_AUDIENCE, scope: str = API_SCOPE
    ) -> str:
        """An access token for `client` (the machine client by default) by client credentials
        (RFC 6749 §4.4), for `resource` (RFC 8707)."""
        client = client or self.machine_client
        assert client.secret is not None, f"{client.client_id} is a public client"
        response = self.http.post(
            self.token_endpoint,
            data={"grant_type": "client_credentials", "resource": resource, "scope": scope},
            auth=(client.client_id, client.secret),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    # Tokens: a person's, through the provider's pages in headless Chromium.

    def sign_in_with_pkce(
        self,
        username: str,
        *,
        redirect_uri: str | None = None,
        scope: str = f"openid profile {API_SCOPE}",
        resource: str | None = None,
    ) -> str:
        """The access token a public client gets for `username` (an account's subject): the
        authorization-code flow with PKCE S256, signed in and consented in the browser, then the
        code exchanged with the verifier."""
        verifier, challenge = pkce_pair()
        redirect_uri = redirect_uri or self.redirect_uri
        code = self.authorize(
            username, code_challenge=challenge, redirect_uri=redirect_uri, scope=scope, resource=resource
        )
        response = self.exchange_code(code, verifier, redirect_uri=redirect_uri)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer", body
        return str(body["access_token"])

    def authorize(
        self,
        username: str,
        *,
        code_challenge: str,
        redirect_uri: str | None = None,
        scope: str = f"openid profile {API_SCOPE}",
        resource: str | None = None,
    ) -> str:
        """Drive the browser from the authorization endpoint through the provider's sign-in page
        (user name `username`, any password) and consent page, as a fresh visitor (no cookies),
        back to `redirect_uri`; the authorization code there. `resource` None asks for none, as
        a client unaware of RFC 8707 would: the provider defaults to the API."""
        if username not in self.config["accounts"]:
            raise ValueError(
                f"{username!r} is not one of the provider's accounts: {sorted(self.config['accounts'])}"
            )
        redirect_uri = redirect_uri or self.redirect_uri
        state = secrets.token_urlsafe(16)
        params = {
            "client_id": self.public_client.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": scope,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            **({"resource": resource} if resource else {}),
        }
        browser = self.browser()
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
        browser.get(f"{self.discovery['authorization_endpoint']}?{urlencode(params)}")
        answered: set[str] = set()

        def step(driver: WebDriver) -> str | Literal[False]:
            url, acted = driver.execute_script(ANSWER_PROMPT_JS, username, sorted(answered))
            if url.startswith("chrome-error:"):  # the redirect URI's page did not load
                url = driver.current_url
            if url.startswith(redirect_uri):
                return str(url)
            if acted:
                answered.add(acted)
            return False

        try:
            back = WebDriverWait(browser, SIGN_IN_WITHIN_SECONDS, poll_frequency=0.05).until(step)
        except TimeoutException:
            page = browser.find_element(By.TAG_NAME, "body").text[:1000]
            raise AssertionError(
                f"not back at {redirect_uri} within {SIGN_IN_WITHIN_SECONDS:g} s; at {browser.current_url}:\n"
                f"{page}\n{self.log}"
            ) from None
        query = parse_qs(urlsplit(back).query)
        assert query.get("state") == [state], back
        assert "code" in query, f"the provider answered {back}"
        return query["code"][0]

    def exchange_code(
        self, code: str, code_verifier: str, *, redirect_uri: str | None = None, client: Client | None = None
    ) -> httpx.Response:
        """The token endpoint's answer to an authorization code and its PKCE verifier."""
        client = client or self.public_client
        return self.http.post(
            self.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "redirect_uri": redirect_uri or self.redirect_uri,
                "client_id": client.client_id,
            },
        )

    # Forged tokens, for the refusals.

    def claims(self, username: str | None = None, **overrides: Any) -> dict[str, Any]:
        """The claims of an access token as this provider issues them: a person's (`username`)
        or the machine client's, for the API, valid now for five minutes; `overrides` replace
        claims, and a None removes one."""
        now = int(time.time())
        subject = username or self.machine_client.client_id
        client_id = self.public_client.client_id if username else self.machine_client.client_id
        claims: dict[str, Any] = {
            **(self.config["accounts"][username] if username else {}),
            "jti": secrets.token_urlsafe(16),
            "sub": subject,
            "iat": now,
            "exp": now + 300,
            "scope": API_SCOPE,
            "client_id": client_id,
            "iss": self.issuer,
            "aud": self.audience,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def forge(
        self,
        username: str | None = None,
        *,
        key: Mapping[str, str] | bytes | None = None,
        alg: str = "RS256",
        header: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> str:
        """`claims(username, **overrides)` signed (`sign_jwt`) with `key`, by default the
        provider's own signing key: a token the provider could have issued."""
        if key is None and alg == "RS256":
            key = self.signing_key
        return sign_jwt(self.claims(username, **overrides), key, alg=alg, header=header)

    # The browser: one headless Chromium per worker, started by the first sign-in.

    def browser(self) -> WebDriver:
        if self._browser is None:
            self._browser = _start_chromium()
        return self._browser

    def close(self) -> None:
        if self._browser is not None:
            with suppress(WebDriverException):
                self._browser.quit()
            self._browser = None
        self.http.close()


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    """Fails under CI, where everything must be there; skips elsewhere, saying why."""
    if _in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def _start_chromium() -> WebDriver:
    """Debian's Chromium and ChromeDriver, as `tests/test_docs_browser.py` runs them (the same
    flags: nothing but 127.0.0.1 resolves)."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        _unavailable(
            f"{' and '.join(missing)} not found: `make browser` installs chromium and chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(SIGN_IN_WITHIN_SECONDS)
    return driver


def default_config() -> dict[str, Any]:
    """What `provider.mjs` reads (see its comments): one signing key, the API and another
    resource, a public PKCE client and a confidential client-credentials client, the accounts,
    the lifetimes, and the secret of the reload endpoint (also the cookie key)."""
    return {
        "jwks": {"keys": [new_signing_key()]},
        "resources": {API_AUDIENCE: API_SCOPE, OTHER_AUDIENCE: "other"},
        "default_resource": API_AUDIENCE,
        "clients": [
            {
                "client_id": PUBLIC_CLIENT_ID,
                "application_type": "native",
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "redirect_uris": [
                    f"http://127.0.0.1{REDIRECT_PATH}",
                    "http://127.0.0.1/docs/oauth2-redirect",
                ],
            },
            {
                "client_id": MACHINE_CLIENT_ID,
                "client_secret": secrets.token_urlsafe(32),
                "grant_types": ["client_credentials"],
                "response_types": [],
                "redirect_uris": [],
            },
        ],
        "accounts": deepcopy(DEFAULT_ACCOUNTS),
        "ttl": dict(DEFAULT_TTL),
        "control_token": secrets.token_urlsafe(32),
    }


def _write_config(directory: Path, config: Mapping[str, Any]) -> None:
    """Written whole, then renamed: the provider never reads half a file."""
    partial = directory / "config.json.partial"
    partial.write_text(json.dumps(config, ensure_ascii=False))
    partial.replace(directory / "config.json")


def _read_issuer(process: subprocess.Popen[bytes], within: float) -> str:
    """The first line the provider prints: its issuer, once it listens."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=within):
            raise RuntimeError(f"the OpenID provider printed no issuer within {within:g} s")
    line = process.stdout.readline().decode().strip()
    if not line.startswith("http://127.0.0.1:"):
        raise RuntimeError(f"the OpenID provider exited ({process.wait(timeout=5)}) before listening")
    return line


@contextmanager
def running_provider(config: dict[str, Any] | None = None) -> Iterator[OidcProvider]:
    """`provider.mjs` with `config` (`default_config()` by default) for the block, answering its
    discovery document; stopped afterwards."""
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        _unavailable(
            "node or tests/oidc/node_modules missing: `make oidc-provider` installs the OpenID provider"
        )
    config = config or default_config()
    directory = Path(tempfile.mkdtemp(prefix="thidua-oidc-"))
    _write_config(directory, config)
    with (directory / "provider.log").open("wb") as log:
        process = subprocess.Popen(
            [str(node), "provider.mjs"],
            cwd=PROVIDER_DIR,
            env={**os.environ, "OIDC_CONFIG": str(directory / "config.json"), "OIDC_PORT": "0"},
            stdout=subprocess.PIPE,
            stderr=log,
        )
    provider: OidcProvider | None = None
    try:
        try:
            issuer = _read_issuer(process, READY_WITHIN_SECONDS)
        except RuntimeError as error:
            raise RuntimeError(
                f"{error}:\n{(directory / 'provider.log').read_text(errors='replace')}"
            ) from None
        provider = OidcProvider(process, issuer, directory, config)
        discovery = provider.http.get(f"{issuer}/.well-known/openid-configuration")
        assert discovery.status_code == 200, discovery.text
        provider.discovery = discovery.json()
        assert provider.discovery["issuer"] == issuer, provider.discovery
        yield provider
    finally:
        if provider is not None:
            provider.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session", name="oidc_provider")
def oidc_provider_fixture() -> Iterator[OidcProvider]:
    """The worker's OpenID provider (each xdist worker has its own process and port), started at
    its first use, with its browser started at the first sign-in; both stopped at the end."""
    with running_provider() as provider:
        yield provider
