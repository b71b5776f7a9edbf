"""A new API key and its stored form (only the hash is kept)."""

import secrets

from app.core.identity import key_hash

KEY_PREFIX = "thd_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(raw: str) -> str:
    """Keys are 256-bit random tokens, so a plain SHA-256 is a safe stored form (and the key
    cache's name for the key: `app.core.identity.key_hash`)."""
    return key_hash(raw)
