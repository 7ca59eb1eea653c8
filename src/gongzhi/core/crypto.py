"""Personal numbers at rest: AES-GCM encryption plus a keyed blind index (DESIGN.md §3).

* ``encrypt`` / ``decrypt``: AES-256-GCM with a random 96-bit nonce; token ``v1:<base64>``.
  The key version prefix lets operators rotate keys later.
* ``blind_index``: HMAC-SHA256 of the normalised number under a separate key, so an exact
  lookup ("find the applicant by ID number") works without decrypting every row, and a leaked
  database does not reveal numbers by a dictionary of hashes.

Keys come from the environment (``GONGZHI_PII_KEY``, ``GONGZHI_PII_INDEX_KEY``, base64 of 32
bytes). In development mode only, they are generated once into ``var/dev-keys.json``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from gongzhi.core.files import private_dir, private_file


@lru_cache(maxsize=1)
def _keys() -> tuple[bytes, bytes]:
    enc, idx = settings.PII_ENCRYPTION_KEY, settings.PII_INDEX_KEY
    if not (enc and idx):
        if settings.PRODUCTION:
            raise ImproperlyConfigured("GONGZHI_PII_KEY and GONGZHI_PII_INDEX_KEY must be set")
        path = settings.VAR_DIR / "dev-keys.json"
        if path.exists():
            private_file(path)  # a file left by an older version may still be 0644
            data = json.loads(path.read_text())
        else:
            private_dir(settings.VAR_DIR)
            data = {
                "GONGZHI_PII_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                "GONGZHI_PII_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            }
            # Create with 0600 so the dev keys are not world-readable.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
        enc, idx = enc or data["GONGZHI_PII_KEY"], idx or data["GONGZHI_PII_INDEX_KEY"]
    enc_key, idx_key = base64.b64decode(enc), base64.b64decode(idx)
    if len(enc_key) != 32 or len(idx_key) < 32:
        raise ImproperlyConfigured("PII keys must be base64 of 32 random bytes")
    return enc_key, idx_key


def encrypt(plaintext: str) -> str:
    enc_key, _ = _keys()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(enc_key).encrypt(nonce, plaintext.encode("utf-8"), b"gongzhi-pii")
    return "v1:" + base64.b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    enc_key, _ = _keys()
    version, _, body = token.partition(":")
    if version != "v1":
        raise ValueError(f"unknown PII key version {version!r}")
    raw = base64.b64decode(body)
    return AESGCM(enc_key).decrypt(raw[:12], raw[12:], b"gongzhi-pii").decode("utf-8")


def blind_index(value: str, *, purpose: str = "id") -> str:
    """Keyed hash for exact lookup; ``purpose`` separates ID numbers from phone numbers."""
    _, idx_key = _keys()
    normal = "".join(value.split()).upper()
    return hmac.new(idx_key, f"{purpose}:{normal}".encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
