"""Telling a call's agent what a supervisor did: a reliable data packet from the server
(RoomService.SendData) to the room's agent participants only, never to the caller. The
agent trusts this topic only from the server (a packet with no sending participant)."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
from livekit import api

from adapters.livekit.tokens import LiveKitSettings

CONTROL_TOPIC = "callcenter.supervisor"


class LiveKitUnavailable(Exception):
    """LiveKit did not answer; the act is recorded, its effect may not have happened."""


class AgentControl:
    def __init__(self, livekit: LiveKitSettings, *, timeout_s: float = 5.0) -> None:
        self.livekit = livekit
        self.timeout_s = timeout_s

    def _api(self) -> api.LiveKitAPI:
        return api.LiveKitAPI(self.livekit.http_url, self.livekit.api_key, self.livekit.api_secret)

    async def tell_agent(self, room_name: str, action: str, **fields: Any) -> int:
        """Send ``action`` (and ``fields``) to the room's agents; how many were there."""
        payload = {"action": action, **fields, "sent_at": time.time()}
        lk = self._api()
        try:
            listed = await lk.room.list_participants(api.ListParticipantsRequest(room=room_name))
            agents = [
                p.identity for p in listed.participants if p.kind == api.ParticipantInfo.Kind.AGENT
            ]
            if agents:
                await lk.room.send_data(
                    api.SendDataRequest(
                        room=room_name,
                        data=json.dumps(payload).encode(),
                        kind=api.DataPacket.Kind.RELIABLE,
                        destination_identities=agents,
                        topic=CONTROL_TOPIC,
                    )
                )
            return len(agents)
        except api.TwirpError as e:
            if e.code == "not_found":  # the room is gone: nobody to tell
                return 0
            raise LiveKitUnavailable(f"LiveKit refused: {e.message}") from None
        except (OSError, TimeoutError, aiohttp.ClientError) as e:
            raise LiveKitUnavailable(f"LiveKit is unreachable: {e}") from None
        finally:
            await lk.aclose()

    async def delete_room(self, room_name: str) -> None:
        lk = self._api()
        try:
            await lk.room.delete_room(api.DeleteRoomRequest(room=room_name))
        except api.TwirpError as e:
            if e.code != "not_found":
                raise LiveKitUnavailable(f"LiveKit refused: {e.message}") from None
        except (OSError, TimeoutError, aiohttp.ClientError) as e:
            raise LiveKitUnavailable(f"LiveKit is unreachable: {e}") from None
        finally:
            await lk.aclose()
