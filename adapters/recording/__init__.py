"""Durable recording of the agent's commands on their way to the event store."""
