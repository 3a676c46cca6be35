"""LiveKit access tokens: customers join one room briefly; supervisors listen hidden, or
speak in one call when they barge in or take it over."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from livekit import api

AGENT_NAME = "cme-auto-sales"


@dataclass(frozen=True)
class LiveKitSettings:
    url: str
    api_key: str
    api_secret: str
    agent_name: str = AGENT_NAME
    customer_token_ttl: timedelta = timedelta(minutes=10)
    monitor_token_ttl: timedelta = timedelta(minutes=30)

    @property
    def http_url(self) -> str:
        return self.url.replace("wss://", "https://").replace("ws://", "http://")


def customer_token(s: LiveKitSettings, room_name: str, identity: str, name: str) -> str:
    """Join, publish and subscribe in this room only; the agent is dispatched to it."""
    return (
        api.AccessToken(s.api_key, s.api_secret)
        .with_identity(identity)
        .with_name(name)
        .with_ttl(s.customer_token_ttl)
        .with_metadata(json.dumps({"role": "customer"}))
        .with_attributes({"role": "customer"})
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room_name,
                can_publish=True,
                can_subscribe=True,
                can_publish_data=True,
                can_publish_sources=["microphone"],
                hidden=False,
            )
        )
        .with_room_config(
            api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name=s.agent_name)])
        )
        .to_jwt()
    )


def monitor_token(s: LiveKitSettings, room_name: str, identity: str, supervisor: str) -> str:
    """Hidden and listen-only: no publishing of media or data."""
    return (
        api.AccessToken(s.api_key, s.api_secret)
        .with_identity(identity)
        .with_name(f"Supervisor {supervisor}")
        .with_ttl(s.monitor_token_ttl)
        .with_metadata(json.dumps({"role": "supervisor", "supervisor": supervisor}))
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room_name,
                can_publish=False,
                can_publish_data=False,
                can_subscribe=True,
                hidden=True,
            )
        )
        .to_jwt()
    )


def speaking_token(s: LiveKitSettings, room_name: str, identity: str, supervisor: str) -> str:
    """A supervisor's microphone in this one call: seen and heard by the caller and the
    agent, publishing audio only (no camera, no screen, no data)."""
    return (
        api.AccessToken(s.api_key, s.api_secret)
        .with_identity(identity)
        .with_name(f"Supervisor {supervisor}")
        .with_ttl(s.monitor_token_ttl)
        .with_metadata(json.dumps({"role": "supervisor", "supervisor": supervisor}))
        .with_attributes({"role": "supervisor"})
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room_name,
                can_publish=True,
                can_publish_sources=["microphone"],
                can_publish_data=False,
                can_subscribe=True,
                hidden=False,
            )
        )
        .to_jwt()
    )
