"""Sealed ballots: what a ballot approves, unreadable in the database until its round closes.

A ballot is stored once, in the same transaction as its caster's participation, as a fixed-size
blob: the seal key's id, a random nonce, and AES-256-GCM over a fixed-size bitmap of the round's
candidates (in unit-id order), bound to its vote and round. Every ballot of a round is the same
number of bytes whatever it approves, and two equal ballots share no byte but the key id: the
pages and the WAL hold no +1 or +0, no tally that moves with each ballot, nothing a reader
without the key can tell apart. Closing the round opens the ballots, adds them to the round's
sums once and deletes them.

The key lives outside the database (`BALLOT_SEAL_KEY`, or a key file under DATA_DIR made once):
whoever holds both the key and the database's pages, WAL or a backup taken while the round was
open can link a participation to its ballot (they are written together). The README's threat
model says exactly who, with what, for how long.
"""

import base64
import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.config import Settings

KEY_BYTES = 32
KEY_ID_BYTES = 8
NONCE_BYTES = 12
MAX_CANDIDATES = 64
"""A bitmap of this many candidates (the API allows 50 per vote): every ballot the same size."""
_VERSION = b"\x01"
_BITMAP_BYTES = MAX_CANDIDATES // 8
_TAG_BYTES = 16
SEALED_BYTES = KEY_ID_BYTES + NONCE_BYTES + len(_VERSION) + _BITMAP_BYTES + _TAG_BYTES
KEY_FILE = "ballot-seal.key"


class SealKeyMismatch(Exception):
    """A ballot was sealed with a key this instance does not hold (its id is the message)."""


class SealBroken(Exception):
    """A ballot's blob does not open under the key it names: it was altered."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"thidua ballot seal key id\0" + key).digest()[:KEY_ID_BYTES]


class BallotSeal:
    """Seals with `key`; opens what `key` or any of `previous` sealed (a rotation while a round
    is open leaves its ballots under two keys, and the round must still close)."""

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        for one in (key, *previous):
            if len(one) != KEY_BYTES:
                raise ValueError(f"a ballot seal key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = key_id(key)
        self._openers = {key_id(one): AESGCM(one) for one in (*previous, key)}

    def seal(self, vote_id: int, number: int, candidates: Sequence[int], approvals: Sequence[int]) -> bytes:
        """`approvals` (a subset of `candidates`) as a sealed blob of `SEALED_BYTES`."""
        order = sorted(candidates)
        bits = 0
        for unit in approvals:
            bits |= 1 << order.index(unit)
        plain = _VERSION + bits.to_bytes(_BITMAP_BYTES, "little")
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self.key_id + nonce + self._aead.encrypt(nonce, plain, _bound(vote_id, number))
        assert len(sealed) == SEALED_BYTES
        return sealed

    def open(self, vote_id: int, number: int, candidates: Sequence[int], sealed: bytes) -> list[int]:
        """The candidates a sealed ballot approves. `SealKeyMismatch` if no key held here sealed
        it; `SealBroken` if it does not open under its key for this round (altered)."""
        opener = self._openers.get(sealed[:KEY_ID_BYTES])
        if opener is None:
            raise SealKeyMismatch(sealed[:KEY_ID_BYTES].hex())
        nonce = sealed[KEY_ID_BYTES : KEY_ID_BYTES + NONCE_BYTES]
        try:
            if len(sealed) != SEALED_BYTES:
                raise InvalidTag
            plain = opener.decrypt(nonce, sealed[KEY_ID_BYTES + NONCE_BYTES :], _bound(vote_id, number))
        except InvalidTag as exc:
            raise SealBroken(sealed[:KEY_ID_BYTES].hex()) from exc
        bits = int.from_bytes(plain[len(_VERSION) :], "little")
        order = sorted(candidates)
        return [unit for position, unit in enumerate(order) if bits >> position & 1]


def _bound(vote_id: int, number: int) -> bytes:
    """The associated data: a ballot opens only in the round it was cast in."""
    return f"thidua ballot {vote_id}:{number}".encode()


def new_key() -> str:
    """A new key, as `BALLOT_SEAL_KEY` takes it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def load_seal(settings: Settings) -> BallotSeal:
    """`BALLOT_SEAL_KEY` (and `BALLOT_SEAL_PREVIOUS_KEYS`), or the key file under DATA_DIR: made
    once, whole or not at all (written aside, then linked into place), readable by its owner."""
    previous = [base64.b64decode(k.get_secret_value()) for k in settings.ballot_seal_previous_keys]
    if settings.ballot_seal_key is not None:
        return BallotSeal(base64.b64decode(settings.ballot_seal_key.get_secret_value()), previous)
    path: Path = settings.data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        with os.fdopen(os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(new_key() + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process made it meanwhile: theirs is the key
        finally:
            aside.unlink()
    return BallotSeal(base64.b64decode(path.read_text().strip(), validate=True), previous)
