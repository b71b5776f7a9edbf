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
    """A ballot was sealed with another key than this instance's (or was altered)."""


class BallotSeal:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the ballot seal key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"thidua ballot seal key id\0" + key).digest()[:KEY_ID_BYTES]

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
        """The candidates a sealed ballot approves; `SealKeyMismatch` if this key did not seal it
        for this round."""
        if len(sealed) != SEALED_BYTES or sealed[:KEY_ID_BYTES] != self.key_id:
            raise SealKeyMismatch(sealed[:KEY_ID_BYTES].hex())
        nonce = sealed[KEY_ID_BYTES : KEY_ID_BYTES + NONCE_BYTES]
        try:
            plain = self._aead.decrypt(nonce, sealed[KEY_ID_BYTES + NONCE_BYTES :], _bound(vote_id, number))
        except InvalidTag as exc:
            raise SealKeyMismatch(self.key_id.hex()) from exc
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
    """`BALLOT_SEAL_KEY`, or the key file under DATA_DIR (made once, readable by its owner only)."""
    if settings.ballot_seal_key is not None:
        return BallotSeal(base64.b64decode(settings.ballot_seal_key.get_secret_value(), validate=True))
    path: Path = settings.data_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
                f.write(new_key() + "\n")
        except FileExistsError:
            pass  # another process made it meanwhile
    return BallotSeal(base64.b64decode(path.read_text().strip(), validate=True))
