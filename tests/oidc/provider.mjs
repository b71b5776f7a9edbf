// A real OpenID provider for the test suite: oidc-provider (a certified implementation), configured
// by tests/oidc_provider.py, one process per pytest worker.
//
//   OIDC_CONFIG=/path/config.json [OIDC_PORT=0] node tests/oidc/provider.mjs
//
// It listens on 127.0.0.1 (OIDC_PORT, or a free port when 0 or unset) and prints its issuer URL,
// http://127.0.0.1:<port>, as the first line on stdout once it answers. The JSON file (see
// tests/oidc_provider.py) holds the signing keys, the API's resource indicators, the clients, the
// accounts and the lifetimes. `POST /__harness/reload` (with the file's control token) reads the
// file again and swaps in a provider built from it on the same port, keeping the sessions and
// grants (oidc-provider's in-memory store is shared by the process): that is how a test rotates
// keys or changes an account without a restart.
//
// oidc-provider 9 prints "Unsupported runtime" on Node.js 20 (its 9.0.0 release dropped 20.x from
// the supported versions; the package declares no `engines`); it runs there, which the harness
// test checks from end to end.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';

const CONFIG_PATH = process.env.OIDC_CONFIG;
if (!CONFIG_PATH) {
  console.error('OIDC_CONFIG must name the JSON configuration file');
  process.exit(2);
}
const RELOAD_PATH = '/__harness/reload';

function build(issuer, config) {
  const accounts = config.accounts; // subject -> claims (name, preferred_username, realm_access, …)
  const resources = config.resources; // resource indicator (= the token's `aud`) -> its scopes

  const provider = new Provider(issuer, {
    // The fixture's private keys (JWK Set): the first key of a kind signs, all are published at
    // jwks_uri. A rotation puts the new key first and keeps the old one after it for a while.
    jwks: config.jwks,

    // Static clients, as oidc-provider's client metadata: a public client (PKCE, no secret,
    // `token_endpoint_auth_method: 'none'`) and a confidential one for client_credentials.
    clients: config.clients,

    // Any user name on the dev sign-in page is a subject; only the configured ones are accounts
    // (an unknown one cannot finish signing in). The ID token and userinfo carry the standard
    // profile claims when `profile` is asked for; the access token gets the account's claims below.
    async findAccount(ctx, sub) {
      if (!Object.hasOwn(accounts, sub)) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) };
    },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },

    // RFC 9068 access tokens carry who the person is and their roles, as Keycloak puts them
    // (name, preferred_username, realm_access.roles, …): the API needs no userinfo call. A machine's
    // token (client_credentials) has no account and gets none: it is known by its client_id.
    async extraTokenClaims(ctx, token) {
      return token.accountId ? accounts[token.accountId] : undefined;
    },

    features: {
      // The provider's own sign-in (any password) and consent pages, which the browser drives.
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      // Without a resource indicator, oidc-provider issues opaque tokens meant for its userinfo
      // endpoint. With one, the token is a JWT for that API: `aud` is the indicator, its scopes
      // are the ones the API defines, signed RS256 with the first RSA key.
      resourceIndicators: {
        enabled: true,
        // A client that names no resource (a front-end that knows nothing of RFC 8707, such as
        // Swagger UI) gets a token for the API all the same, as it would from Keycloak's
        // audience mapper...
        defaultResource: async () => config.default_resource,
        // ... also at the token endpoint when the code was granted with `openid`.
        useGrantedResource: async () => true,
        async getResourceServerInfo(ctx, indicator) {
          if (!Object.hasOwn(resources, indicator)) throw new errors.InvalidTarget();
          return { scope: resources[indicator], accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },

    // PKCE (S256, the only method oidc-provider 9 knows) for every authorization-code request,
    // confidential clients included.
    pkce: { required: () => true },

    // A browser app served from any loopback port (a test server's /docs) may call the token
    // endpoint with a public client; the default only allows the registered redirect URIs' origins.
    clientBasedCORS(ctx, origin, client) {
      return client.clientAuthMethod === 'none' && /^http:\/\/127\.0\.0\.1(:\d+)?$/.test(origin);
    },

    // Short lifetimes (seconds), from the file: a test never waits for them, it forges an expired
    // token; they only keep the in-memory store small.
    ttl: config.ttl,

    // Signs the provider's interaction cookies; a fresh secret per configuration is enough here.
    cookies: { keys: [config.control_token] },
  });

  // Errors that oidc-provider answers with 500 go to stderr (the fixture's log) with their stack.
  provider.on('server_error', (ctx, error) => console.error('server_error', error));
  return provider;
}

function readConfig() {
  return JSON.parse(readFileSync(CONFIG_PATH, 'utf8'));
}

function isControl(request, token) {
  const given = Buffer.from(request.headers.authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let config = readConfig();
let issuer; // known once listening: http://127.0.0.1:<port>
let handle; // the current provider's request handler
const server = createServer((request, response) => {
  if (request.url === RELOAD_PATH && request.method === 'POST') {
    if (!isControl(request, config.control_token)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const next = readConfig();
      handle = build(issuer, next).callback();
      config = next;
      response.writeHead(204).end();
    } catch (error) {
      console.error('reload failed', error);
      response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    }
    return;
  }
  handle(request, response);
});

server.listen(Number(process.env.OIDC_PORT || 0), '127.0.0.1', () => {
  issuer = `http://127.0.0.1:${server.address().port}`;
  handle = build(issuer, config).callback();
  console.log(issuer);
});

// The fixture ends the process with SIGTERM; exit at once (no request is worth finishing then).
process.on('SIGTERM', () => process.exit(0));
// And should the pytest worker die without its teardown, the provider goes with it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
