"""The local stack behind `callcenter up`: PostgreSQL, LiveKit, MinIO, web app, agent."""
