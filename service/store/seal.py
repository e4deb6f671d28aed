"""Sealing stored child data: JSON, encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from
the ``cryptography`` package) when a key is set, plain JSON when not. Each stored value says
which it is, so switching encryption on later leaves older rows readable."""

from __future__ import annotations

import hashlib
import json

from ..errors import SealError, SettingsError

PLAIN, SEALED = "j:", "f:"


class Sealer:
    def __init__(self, key: str | None) -> None:
        self._fernet = None
        self._chain_key = None
        if key:
            from cryptography.fernet import Fernet  # deferred: only needed when a key is set

            try:
                self._fernet = Fernet(key.encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                raise SettingsError("STEPDOWN_DATA_KEY is not a valid key (make one with `stepdown-forms new-key`)") from None
            self._chain_key = hashlib.sha256(b"stepdown-audit:" + key.encode("ascii")).digest()

    @property
    def encrypting(self) -> bool:
        return self._fernet is not None

    def dumps(self, value: object) -> str:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if self._fernet is None:
            return PLAIN + text
        return SEALED + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def loads(self, stored: str) -> object:
        if stored.startswith(PLAIN):
            return json.loads(stored[len(PLAIN):])
        if stored.startswith(SEALED):
            if self._fernet is None:
                raise SealError("Stored data is encrypted and no STEPDOWN_DATA_KEY is set.")
            from cryptography.fernet import InvalidToken  # deferred: only needed when a key is set

            try:
                return json.loads(self._fernet.decrypt(stored[len(SEALED):].encode("ascii")))
            except InvalidToken:
                raise SealError("Stored data cannot be decrypted with this STEPDOWN_DATA_KEY.") from None
        raise SealError("Stored data is in an unknown format.")

    def chain_key(self) -> bytes | None:
        """A key for the audit chain's HMAC, derived from the data key (None without one)."""
        return self._chain_key


def new_key() -> str:
    from cryptography.fernet import Fernet  # deferred: only needed when a key is made or set

    return Fernet.generate_key().decode("ascii")
