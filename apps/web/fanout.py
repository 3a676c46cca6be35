"""Server-Sent Event fan-out: one LISTEN connection per web process feeds every client.

The broadcaster follows the conversations projection: when it commits up to position P,
the events up to P are read from the log once, rendered once, and put on each interested
client's bounded queue. A client whose queue fills is told to resync instead of silently
losing messages. Reconnecting clients get what they missed from the log itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper
from psycopg.sql import SQL, Identifier

from adapters.postgres.codec import column_decoder
from adapters.postgres.event_log import EventLog
from apps.web.messages import Message, call_message, complete, dashboard_message
from projections.queries import ReadModelQueries
from projections.tracking import PROJECTIONS_CHANNEL

log = logging.getLogger(__name__)

DRIVING_PROJECTION = "conversations"
RESYNC = Message(
    0, "resync", UUID(int=0), {"reason": "the client fell behind; reload and reconnect"}
)


class Subscriber:
    def __init__(self, conversation_id: UUID | None, start_position: int, maxsize: int) -> None:
        self.conversation_id = conversation_id
        self.start_position = start_position
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize)
        self.overflowed = False

    def offer(self, message: Message) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            # Never drop silently: replace what is queued with one resync order.
            self.overflowed = True
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class Broadcaster:
    def __init__(
        self,
        conninfo: str,
        events_table: str,
        mapper: Mapper[Any],
        queries: ReadModelQueries,
        *,
        queue_size: int = 2000,
        backlog_limit: int = 20_000,
        chunk: int = 1000,
    ) -> None:
        self.conninfo = conninfo
        self.mapper = mapper
        self.queries = queries
        self.queue_size = queue_size
        self.backlog_limit = backlog_limit
        self.chunk = chunk
        self.position = 0
        self._dashboard: set[Subscriber] = set()
        self._calls: dict[UUID, set[Subscriber]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.log = EventLog(events_table)
        self._epoch = 0  # moves on every subscription
        # Where the round being published will leave `position` once its rows are read:
        # a client subscribing meanwhile starts there (its messages in the round were
        # not chosen for it), so nothing after its start is ever skipped.
        self._round_end: int | None = None

    @property
    def client_count(self) -> int:
        return len(self._dashboard) + sum(len(s) for s in self._calls.values())

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        self.position = (await self.queries.projection_positions()).get(DRIVING_PROJECTION, 0)
        self._task = asyncio.create_task(self._run(), name="sse-broadcaster")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # --- subscribers ---------------------------------------------------------------------

    def subscribe(self, conversation_id: UUID | None) -> Subscriber:
        self._epoch += 1
        start = self.position if self._round_end is None else self._round_end
        sub = Subscriber(conversation_id, start, self.queue_size)
        if conversation_id is None:
            self._dashboard.add(sub)
        else:
            self._calls[conversation_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        if sub.conversation_id is None:
            self._dashboard.discard(sub)
        else:
            subs = self._calls.get(sub.conversation_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._calls[sub.conversation_id]

    async def backlog(
        self, conversation_id: UUID | None, after: int, upto: int
    ) -> list[Message] | None:
        """Messages a reconnecting client missed, from the log; None if too many to replay."""
        if upto - after > self.backlog_limit and conversation_id is None:
            return None
        out: list[Message] = []
        cursor = after
        while cursor < upto:
            rows = await self._read(conversation_id, cursor, upto)
            if not rows:
                break
            out.extend(await self._render(rows, dashboard=conversation_id is None))
            cursor = rows[-1][0]
            if len(out) > self.backlog_limit:
                return None
        return out

    # --- following the projection --------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(SQL("LISTEN {}").format(Identifier(PROJECTIONS_CHANNEL)))
                    delay = 0.5
                    while True:
                        await self._catch_up()
                        # Wake on a notification, or every second to be safe.
                        async for n in conn.notifies(timeout=1.0, stop_after=1):
                            if not n.payload.startswith(DRIVING_PROJECTION + ":"):
                                continue
            except asyncio.CancelledError:
                raise
            except Exception as e:  # database restarts: keep the clients, reconnect
                log.warning("SSE broadcaster lost the database (%s); retrying in %.1fs", e, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _catch_up(self) -> None:
        target = (await self.queries.projection_positions()).get(DRIVING_PROJECTION, 0)
        while self.position < target:
            if not self._dashboard and not self._calls:
                self.position = target  # nobody is listening: nothing to read or send
                break
            # Without dashboard clients only the followed calls' events are read (every
            # event up to `target` is committed, so a short read covers the whole range).
            epoch = self._epoch
            watched = None if self._dashboard else list(self._calls)
            rows = await self._read_range(watched, self.position, target)
            if watched is not None and self._epoch != epoch:  # someone subscribed meanwhile
                watched = None
                rows = await self._read_range(None, self.position, target)
            if not rows:
                if watched is not None:
                    self.position = target
                break
            end = target if watched is not None and len(rows) < self.chunk else rows[-1][0]
            wanted = [r for r in rows if self._dashboard or r[1] in self._calls]
            self._round_end = end
            try:
                rendered = await self._render(wanted, dashboard=bool(self._dashboard), calls=True)
            finally:
                self._round_end = None
            for message in rendered:
                self._publish(message)
            self.position = end

    async def _read_range(
        self, watched: list[UUID] | None, after: int, upto: int
    ) -> list[tuple[Any, ...]]:
        """Events in (after, upto]: all of them, or only the watched calls'."""
        async with (
            self.queries.pool.connection() as conn,
            conn.cursor(row_factory=psycopg.rows.tuple_row) as cur,
        ):
            return await self.log.range_async(cur, after, upto, self.chunk, watched)

    async def _read(
        self, conversation_id: UUID | None, after: int, upto: int
    ) -> list[tuple[Any, ...]]:
        """One call's events in (after, upto], or everyone's."""
        if conversation_id is None:
            return await self._read_range(None, after, upto)
        async with (
            self.queries.pool.connection() as conn,
            conn.cursor(row_factory=psycopg.rows.tuple_row) as cur,
        ):
            return await self.log.conversation_range_async(
                cur, conversation_id, after, upto, self.chunk
            )

    async def _render(
        self, rows: list[tuple[Any, ...]], *, dashboard: bool, calls: bool | None = None
    ) -> list[Message]:
        calls = (not dashboard) if calls is None else calls
        messages: list[Message] = []
        decode = column_decoder(self.mapper)
        for position, oid, version, topic, state in rows:
            try:
                event = decode(oid, version, topic, bytes(state))
                rendered = [call_message(position, event)] if calls else []
                if dashboard:
                    d = dashboard_message(position, event)
                    if d is not None:
                        d.dashboard = True
                    rendered.append(d)
            except Exception:  # one unreadable event must not stall every stream behind it
                log.exception("cannot render event at log position %d; skipped", position)
                continue
            messages.extend(m for m in rendered if m is not None)
        needing = list({m.conversation_id for m in messages if m.needs_row})
        rows_by_id = await self.queries.conversations(needing)
        return [complete(m, rows_by_id.get(m.conversation_id)) for m in messages]

    def _publish(self, message: Message) -> None:
        targets = (
            self._dashboard if message.dashboard else self._calls.get(message.conversation_id, ())
        )
        for sub in list(targets):
            sub.offer(message)
