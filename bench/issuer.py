"""A minimal OpenID issuer for the bench: a discovery document and a JWKS on 127.0.0.1, and
access tokens signed with its key, so that `make bench` measures a signed-in person's reads
against hello-world in the same run (the service checks the token once, then its verified-token
cache answers)."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

AUDIENCE = "urn:thidua:bench"


class Issuer:
    """Serves `/.well-known/openid-configuration` and `/jwks` until `close()`."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwks = json.dumps({"keys": [{**public, "kid": self.kid, "use": "sig", "alg": "RS256"}]}).encode()
        issuer: dict[str, str] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/.well-known/openid-configuration":
                    body = json.dumps({"issuer": issuer["url"], "jwks_uri": issuer["url"] + "/jwks"}).encode()
                elif self.path == "/jwks":
                    body = jwks
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = issuer["url"] = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, subject: str, roles: list[str], lifetime: int = 3600) -> str:
        """A person's access token for the bench audience."""
        now = int(time.time())
        claims = {
            "iss": self.url,
            "sub": subject,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + lifetime,
            "client_id": "bench-app",
            "name": subject,
            "realm_access": {"roles": roles},
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, "typ": "at+jwt"})

    def settings(self) -> dict[str, str]:
        """The server's environment for trusting this issuer."""
        return {"OIDC_ISSUERS": self.url, "OIDC_AUDIENCE": AUDIENCE}

    def close(self) -> None:
        self.server.shutdown()
