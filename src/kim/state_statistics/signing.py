"""Signing an extract: HMAC-SHA256 over its canonical JSON with a secret per district.

The district's installation makes the secret once (`kim statistics make-key`); the Land
registers it (`kim statistics register`). A shared secret needs no library beyond Python's
own `hmac`; whoever holds it can sign, so it travels like a password (docs/statistik-schnittstelle.md)."""

import hashlib
import hmac
import json
import secrets

ALGORITHM = "HMAC-SHA256"


def canonical(extract: dict) -> bytes:
    """The bytes that are signed: keys sorted, no spaces, UTF-8. The same extract gives the
    same bytes whatever the file's layout."""
    return json.dumps(extract, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def new_secret() -> str:
    return secrets.token_hex(32)


def key_id(secret: str) -> str:
    """A short name of the secret that tells which key signed, and reveals nothing of it."""
    return hashlib.sha256(b"kim-statistik-key:" + secret.encode("ascii")).hexdigest()[:16]


def signature(extract: dict, secret: str) -> str:
    return hmac.new(bytes.fromhex(secret), canonical(extract), hashlib.sha256).hexdigest()


def is_valid(extract: dict, value: str, secret: str) -> bool:
    return hmac.compare_digest(signature(extract, secret), str(value))


def digest(extract: dict) -> str:
    return hashlib.sha256(canonical(extract)).hexdigest()
