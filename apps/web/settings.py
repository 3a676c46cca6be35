"""Web settings from the environment. Secrets are never logged."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.livekit.tokens import LiveKitSettings
from adapters.passwords import hash_password
from adapters.postgres.login_throttle import ThrottlePolicy
from adapters.storage import S3Settings
from apps.usecases.retention import RetentionPolicy


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class WebSettings:
    admin_user: str
    admin_password_hash: str
    session_secret: str
    livekit: LiveKitSettings
    s3: S3Settings | None
    cors_origins: tuple[str, ...] = ()
    token_requests_per_minute: int = 30
    session_ttl_s: int = 12 * 3600
    secure_cookies: bool = False
    login_throttle: ThrottlePolicy = ThrottlePolicy()
    reconnect_ticket_ttl_s: int = 3600  # and refused at once when the call has ended
    body_timeout_s: float = 10.0  # a request body must arrive within this (slow-drip guard)
    retention: RetentionPolicy = RetentionPolicy(None, None)
    reveal_minutes: int = 15  # how long a reveal of one call's personal data lasts

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> tuple[WebSettings, str | None]:
        """Returns the settings and, when no admin password was configured, a generated one
        (for the caller to show the operator once, never to log)."""
        key, secret = env.get("LIVEKIT_API_KEY"), env.get("LIVEKIT_API_SECRET")
        if not key or not secret:
            raise ConfigError("LIVEKIT_API_KEY and LIVEKIT_API_SECRET must be set")
        generated = None
        password_hash = env.get("CALLCENTER_ADMIN_PASSWORD_HASH")
        if not password_hash:
            password = env.get("CALLCENTER_ADMIN_PASSWORD")
            if not password:
                password = generated = secrets.token_urlsafe(12)
            password_hash = hash_password(password)
        origins = tuple(
            o.strip() for o in env.get("CALLCENTER_CORS_ORIGINS", "").split(",") if o.strip()
        )
        if "*" in origins:
            raise ConfigError("CALLCENTER_CORS_ORIGINS may not be '*': list the allowed origins")
        rate = _whole(env, "CALLCENTER_TOKEN_RATE_PER_MINUTE", 30)
        policy = ThrottlePolicy(
            free_failures=_whole(env, "CALLCENTER_LOGIN_FREE_FAILURES", 5),
            max_lockout_s=_whole(env, "CALLCENTER_LOGIN_MAX_LOCKOUT_S", 900),
        )
        return (
            cls(
                admin_user=env.get("CALLCENTER_ADMIN_USER", "admin"),
                admin_password_hash=password_hash,
                session_secret=env.get("CALLCENTER_SESSION_SECRET") or secrets.token_urlsafe(32),
                livekit=LiveKitSettings(
                    url=env.get("LIVEKIT_URL", "ws://127.0.0.1:7880"),
                    api_key=key,
                    api_secret=secret,
                ),
                s3=S3Settings.from_env(env),
                cors_origins=origins,
                token_requests_per_minute=rate,
                login_throttle=policy,
                reconnect_ticket_ttl_s=_whole(env, "CALLCENTER_RECONNECT_TICKET_TTL_S", 3600),
                body_timeout_s=_whole(env, "CALLCENTER_BODY_TIMEOUT_S", 10),
                secure_cookies=env.get("CALLCENTER_SECURE_COOKIES", "").lower()
                in ("1", "true", "yes"),
                retention=_retention(env),
                reveal_minutes=_whole(env, "CALLCENTER_REVEAL_MINUTES", 15),
            ),
            generated,
        )


def _whole(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        value = int(env.get(name, str(default)))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1")
    return value


def _retention(env: Mapping[str, str]) -> RetentionPolicy:
    try:
        return RetentionPolicy.from_env(env)
    except ValueError as e:
        raise ConfigError(str(e)) from None
