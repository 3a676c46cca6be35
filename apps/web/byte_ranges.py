"""HTTP range requests (RFC 9110 §14) for streaming a stored object: what part of it a
request asks for, and the response that streams that part from object storage."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from adapters.storage import ObjectReader, RecordingStore, StorageUnavailable, StoredObject
from apps.web.errors import ApiError

#: Read from object storage and written to the client this much at a time.
CHUNK_BYTES = 64 * 1024
_RANGE = re.compile(r"bytes=(\d{0,19})-(\d{0,19})")


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for in `header` of an object of `size` bytes, clipped to it;
    None for the whole object. ApiError 400 when malformed (or several ranges), 416 when
    no byte of it exists."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None:
        reason = (
            "only one byte range per request is supported"
            if "," in header
            else "Range must be bytes=START-END, bytes=START- or bytes=-SUFFIX"
        )
        raise ApiError(400, "invalid_range", reason)
    first, last = match.groups()
    if not first and not last:
        raise ApiError(400, "invalid_range", "a byte range needs a start or a suffix length")
    if first and last and int(last) < int(first):
        raise ApiError(400, "invalid_range", "the range ends before it starts")
    if not first:  # bytes=-N: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if start >= size:
        raise _unsatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end)


def _unsatisfiable(size: int) -> ApiError:
    return ApiError(
        416,
        "range_not_satisfiable",
        f"the range lies outside the {size} bytes stored",
        headers={"Content-Range": f"bytes */{size}"},
        size_bytes=size,
    )


async def stream_object(
    request: Request,
    store: RecordingStore,
    bucket: str,
    key: str,
    stored: StoredObject,
    *,
    content_type: str,
    filename: str,
) -> Response:
    """200 with the whole object, or 206 with the one range asked for; HEAD answers the
    headers alone. An If-Range naming another version gets the whole object."""
    wanted = request.headers.get("range")
    if_range = request.headers.get("if-range")
    if wanted is not None and if_range is not None and if_range.strip('"') != stored.etag:
        wanted = None
    part = parse_range(wanted, stored.size)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Type": content_type,
        "Content-Disposition": f'inline; filename="{filename}"',
        # a call's recording is personal data: kept in no shared cache
        "Cache-Control": "private, no-store",
    }
    if stored.etag:
        headers["ETag"] = f'"{stored.etag}"'
    if stored.last_modified is not None:
        headers["Last-Modified"] = format_datetime(stored.last_modified, usegmt=True)
    offset, length = (0, stored.size) if part is None else (part.start, part.length)
    headers["Content-Length"] = str(length)
    status = 200
    if part is not None:
        status = 206
        headers["Content-Range"] = part.content_range(stored.size)
    if request.method == "HEAD" or length == 0:
        return Response(status_code=status, headers=headers)
    # opened before the status line goes out, so that a storage failure is still an error
    try:
        reader = await asyncio.to_thread(store.open_range, bucket, key, offset, length)
    except StorageUnavailable as e:
        raise ApiError(503, "storage_unavailable", f"the recording could not be read: {e}") from e
    return StreamingResponse(_chunks(reader), status_code=status, headers=headers)


async def _chunks(reader: ObjectReader) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(reader.read, CHUNK_BYTES):
            yield chunk
    finally:
        reader.close()  # also when the player hangs up mid-range, as it does on a seek
