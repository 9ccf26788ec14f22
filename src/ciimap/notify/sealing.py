"""Channel secrets at rest: sealed with Fernet (``cryptography``) under ``CIIMAP_SECRET_KEY``.

ciimap had no key mechanism before notifications; this is the one place that uses the key. Without a
key values are stored as given (prefix ``plain:``) and the docs say so; a value sealed under a key
cannot be read without it (a one-line error, never the wrong secret).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from ciimap.config import get_settings
from ciimap.core.errors import Invalid

_SEALED, _PLAIN = "fernet:", "plain:"


def _fernet() -> Fernet | None:
    key = get_settings().secret_key
    if not key:
        return None
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def seal(value: str) -> str:
    f = _fernet()
    return _SEALED + f.encrypt(value.encode()).decode() if f else _PLAIN + value


def unseal(stored: str) -> str:
    if stored.startswith(_PLAIN):
        return stored[len(_PLAIN) :]
    f = _fernet()
    if f is None:
        raise Invalid("channel secrets are sealed: set CIIMAP_SECRET_KEY to the key they were sealed with")
    try:
        return f.decrypt(stored[len(_SEALED) :].encode()).decode()
    except InvalidToken:
        raise Invalid(
            "channel secret cannot be unsealed: CIIMAP_SECRET_KEY differs from the sealing key"
        ) from None
