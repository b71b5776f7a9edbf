"""Identity in one place: who calls (API keys today, people next), resolved once per request.

- `roles`: what a credential may be (`Role`);
- `models`: the `api_keys` table; `hashing`: a new key and its stored form;
- `principal`: the caller a valid credential resolves to (`Principal`) and its lookup;
- `middleware`: `AuthMiddleware`, which reads the bearer credential once per request and leaves
  the request's `Identity` (`app.core.identity`) in the scope for the rate limiter, the cached
  read path and the dependencies;
- `dependencies`: `CurrentKey`, `AdminKey`, `ClusterWriterKey`, `ensure_cluster_writer`.

The keys' own endpoints (`/v1/keys`) live in `app.keys`, above the units and clusters a key may be
scoped to: `app.auth` imports no feature, so that every feature may import it.
"""
