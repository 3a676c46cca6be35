"""Password hashes: argon2id (argon2-cffi) for every new hash; PBKDF2-SHA256 hashes from
before accounts existed (or given in CALLCENTER_ADMIN_PASSWORD_HASH) still verify, and are
replaced by argon2id at the next sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PBKDF2_ITERATIONS = 210_000
_ARGON2 = PasswordHasher()  # the library's defaults: RFC 9106's low-memory profile
# verified against when no account has the name, so a wrong name costs what a wrong
# password costs
_UNKNOWN = _ARGON2.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _ARGON2.hash(password)


def pbkdf2_hash(
    password: str, *, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS
) -> str:
    """The pre-accounts scheme, kept for hashes configured or stored before."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"pbkdf2_sha256${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    if encoded.startswith("$argon2"):
        try:
            return _ARGON2.verify(encoded, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        scheme, iterations, salt, expected = encoded.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), base64.b64decode(salt), int(iterations)
        )
        return hmac.compare_digest(digest, base64.b64decode(expected))
    except ValueError:  # not a hash this module wrote
        return False


def needs_rehash(encoded: str) -> bool:
    """True for a PBKDF2 hash, or an argon2id hash under weaker parameters than today's."""
    if not encoded.startswith("$argon2"):
        return True
    try:
        return _ARGON2.check_needs_rehash(encoded)
    except InvalidHashError:
        return True


def waste_a_verification(password: str) -> None:
    """What checking a password costs, for a name that has no account."""
    verify_password(password, _UNKNOWN)
