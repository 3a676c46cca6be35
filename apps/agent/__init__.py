"""The CME Auto Sales voice agent: a livekit-agents worker; every fact becomes an event."""
