"""Channel secrets encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Key material, in order:
- `SAMPHAN_ENCRYPTION_KEY` (environment or setting): one key, or several
  separated by commas. The first encrypts; every one of them decrypts
  (MultiFernet), which is how a key is rotated: put the new key first, run
  `samphan channels rotate-secrets`, then drop the old key.
- otherwise Django's SECRET_KEY.

Each entry is used as is when it already is a Fernet key (32 url-safe base64
bytes), otherwise a key is derived from it with HKDF-SHA256.

Limits: changing SECRET_KEY without first setting the old value in
SAMPHAN_ENCRYPTION_KEY makes every stored channel secret unreadable (the
webhooks of those accounts then answer 503 and say so in the log; re-enter the
secrets). Rotation re-encrypts rows in the database only — backups keep the
old ciphertext and need the old key.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from samphan.core.errors import SamphanError


class SecretsUnavailable(SamphanError):
    code = "secrets_unavailable"
    status = 503


def _key_material() -> tuple[str, ...]:
    raw = os.environ.get("SAMPHAN_ENCRYPTION_KEY") or getattr(settings, "SAMPHAN_ENCRYPTION_KEY", "") or ""
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    return keys or (settings.SECRET_KEY,)


def _as_fernet_key(material: str) -> bytes:
    try:
        if len(base64.urlsafe_b64decode(material.encode())) == 32:
            return material.encode()
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"samphan.channels.secrets",
                   info=b"fernet-v1").derive(material.encode())
    return base64.urlsafe_b64encode(derived)


@lru_cache(maxsize=4)
def _fernet_for(material: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_as_fernet_key(m)) for m in material])


def _fernet() -> MultiFernet:
    return _fernet_for(_key_material())


def secrets_encrypt(data: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()


@lru_cache(maxsize=1024)
def _decrypt_cached(material: tuple[str, ...], token: str) -> str:
    return _fernet_for(material).decrypt(token.encode()).decode()


def secrets_decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        # Cached by ciphertext: a webhook burst decrypts once per account, not per request.
        return json.loads(_decrypt_cached(_key_material(), token))
    except InvalidToken:
        raise SecretsUnavailable(
            "the channel's secrets cannot be decrypted with the configured key "
            "(SECRET_KEY or SAMPHAN_ENCRYPTION_KEY changed?)") from None


def secrets_rotate(token: str) -> str:
    """Re-encrypt under the first key (MultiFernet.rotate)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnavailable("the channel's secrets cannot be decrypted with any configured key") from None


def mask(value: str) -> str:
    """What may be shown of a secret: its length and last 4 characters at most."""
    if not value:
        return ""
    return "•" * 4 + value[-4:] if len(value) > 12 else "•" * 4
