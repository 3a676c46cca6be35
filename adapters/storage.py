"""Recordings in S3-compatible object storage (MinIO), through the `minio` client."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, Filter
from minio.error import S3Error
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

log = logging.getLogger(__name__)

RECORDINGS_PREFIX = "conversations/"
#: How long recordings are kept unless `CALLCENTER_RECORDING_RETENTION_DAYS` says otherwise.
RETENTION_DAYS = 365
DEFAULT_BUCKET = "call-recordings"


@dataclass(frozen=True)
class S3Settings:
    endpoint: str  # host:port
    access_key: str
    secret_key: str
    bucket: str = DEFAULT_BUCKET
    secure: bool = False
    region: str = "us-east-1"
    #: The bucket's lifecycle rule expires recordings this many days old (None: never).
    retention_days: int | None = RETENTION_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> S3Settings | None:
        """None when storage is not configured: credentials are never hard-coded."""
        access, secret = env.get("CALLCENTER_S3_ACCESS_KEY"), env.get("CALLCENTER_S3_SECRET_KEY")
        if not access or not secret:
            return None
        return cls(
            endpoint=env.get("CALLCENTER_S3_ENDPOINT", "127.0.0.1:9000"),
            access_key=access,
            secret_key=secret,
            bucket=env.get("CALLCENTER_S3_BUCKET", DEFAULT_BUCKET),
            secure=env.get("CALLCENTER_S3_SECURE", "").lower() in ("1", "true", "yes"),
            region=env.get("CALLCENTER_S3_REGION", "us-east-1"),
            retention_days=recording_retention_days(env),
        )

    @property
    def origin(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"


def recording_retention_days(env: Mapping[str, str]) -> int | None:
    """`CALLCENTER_RECORDING_RETENTION_DAYS`: a whole number of days, or "never"."""
    raw = (env.get("CALLCENTER_RECORDING_RETENTION_DAYS") or "").strip().lower()
    if not raw:
        return RETENTION_DAYS
    if raw == "never":
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(
            f"CALLCENTER_RECORDING_RETENTION_DAYS must be a whole number of days >= 1 or "
            f"'never', not {raw!r}"
        )
    return int(raw)


def conversation_prefix(conversation_id: str) -> str:
    """Where every object of one conversation is stored."""
    return f"{RECORDINGS_PREFIX}{conversation_id}/"


def object_key(conversation_id: str, recording_id: str, extension: str) -> str:
    return f"{RECORDINGS_PREFIX}{conversation_id}/{recording_id}.{extension.lstrip('.')}"


class RecordingStore:
    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        # Our own retry loop decides how long to wait; keep the client's short.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=3.0, read=60.0),
            retries=urllib3.Retry(
                total=1, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
            ),
        )
        self.client = Minio(
            settings.endpoint,
            access_key=settings.access_key,
            secret_key=settings.secret_key,
            secure=settings.secure,
            region=settings.region,
            http_client=http,
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if missing, with the recordings' expiry as its lifecycle rule
        (the retention run deletes them first, audited; the rule is the backstop)."""
        bucket = self.settings.bucket
        if not self.client.bucket_exists(bucket):
            self.client.make_bucket(bucket)
            log.info("created bucket %s", bucket)
        days = self.settings.retention_days
        if days is None:
            self.client.delete_bucket_lifecycle(bucket)
            return
        self.client.set_bucket_lifecycle(
            bucket,
            LifecycleConfig(
                [
                    Rule(
                        ENABLED,
                        rule_filter=Filter(prefix=RECORDINGS_PREFIX),
                        rule_id="expire-recordings",
                        expiration=Expiration(days=days),
                    )
                ]
            ),
        )

    def lifecycle_days(self) -> int | None:
        """The expiry the bucket's lifecycle rule gives recordings now (None: no rule)."""
        config = self.client.get_bucket_lifecycle(self.settings.bucket)
        for rule in config.rules if config is not None else []:
            if rule.rule_id == "expire-recordings" and rule.expiration is not None:
                return rule.expiration.days
        return None

    def delete_conversation(self, conversation_id: str) -> int:
        """Delete every object of one conversation, each of its versions too; returns how
        many objects (not versions) there were. Deleting nothing is not an error."""
        bucket = self.settings.bucket
        try:
            if not self.client.bucket_exists(bucket):
                return 0
            found = list(
                self.client.list_objects(
                    bucket,
                    prefix=conversation_prefix(conversation_id),
                    recursive=True,
                    include_version=True,
                )
            )
            for o in found:
                assert o.object_name is not None
                self.client.remove_object(bucket, o.object_name, version_id=o.version_id)
        except (S3Error, OSError, ValueError, urllib3.exceptions.HTTPError) as e:
            raise StorageUnavailable(str(e)) from e
        return len({o.object_name for o in found})

    def upload(
        self,
        path: Path,
        key: str,
        *,
        content_type: str,
        metadata: Mapping[str, str],
        attempts: int = 6,
        base_delay_s: float = 0.5,
    ) -> int:
        """Upload with bounded retries and exponential backoff; returns the size stored."""
        last: Exception | None = None
        for attempt in range(1, attempts + 1):
            try:
                self.ensure_bucket()
                self.client.fput_object(
                    self.settings.bucket,
                    key,
                    str(path),
                    content_type=content_type,
                    metadata=dict(metadata),
                )
                return int(self.client.stat_object(self.settings.bucket, key).size or 0)
            except (S3Error, OSError, ValueError, urllib3.exceptions.HTTPError) as e:
                last = e
                if attempt == attempts:
                    break
                delay = base_delay_s * 2 ** (attempt - 1)
                log.warning(
                    "upload of %s failed (attempt %d/%d): %s; retrying in %.1fs",
                    key,
                    attempt,
                    attempts,
                    e,
                    delay,
                )
                time.sleep(delay)
        raise UploadFailed(f"upload of {key} failed after {attempts} attempts: {last}")

    def presigned_url(self, bucket: str, key: str, ttl: timedelta = timedelta(minutes=5)) -> str:
        return self.client.presigned_get_object(bucket, key, expires=ttl)

    def stat(self, bucket: str, key: str) -> StoredObject | None:
        """The object's size and headers; None when it is not (or no longer) stored."""
        try:
            found = self.client.stat_object(bucket, key)
        except S3Error as e:
            if e.code in ("NoSuchKey", "NoSuchBucket", "NoSuchObject"):
                return None
            raise StorageUnavailable(str(e)) from e
        except (OSError, ValueError, urllib3.exceptions.HTTPError) as e:
            raise StorageUnavailable(str(e)) from e
        return StoredObject(
            size=int(found.size or 0),
            content_type=found.content_type,
            etag=found.etag,
            last_modified=found.last_modified,
        )

    def open_range(self, bucket: str, key: str, offset: int, length: int) -> ObjectReader:
        """An open GET of `length` bytes from `offset`, to be read in chunks: a recording
        is streamed, never held in memory whole."""
        try:
            response = self.client.get_object(bucket, key, offset=offset, length=length)
        except (S3Error, OSError, ValueError, urllib3.exceptions.HTTPError) as e:
            raise StorageUnavailable(str(e)) from e
        return ObjectReader(response)


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str | None
    etag: str | None
    last_modified: datetime | None


class ObjectReader:
    """The body of one GET from object storage; `close` gives its connection back."""

    def __init__(self, response: urllib3.BaseHTTPResponse) -> None:
        self._response = response

    def read(self, size: int) -> bytes:
        return self._response.read(size)

    def close(self) -> None:
        self._response.close()
        self._response.release_conn()


class UploadFailed(Exception):
    pass


class StorageUnavailable(Exception):
    """Object storage did not answer, or answered with an error."""


def endpoint_from_url(url: str) -> str:
    """'http://127.0.0.1:9000' -> '127.0.0.1:9000'."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    return parts.netloc
