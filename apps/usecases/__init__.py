"""The use cases every entry point calls (the web app, the agent's tools, the CLI): each
parses nothing and answers nothing, it decides and records.

- `dealership`: vehicle lookup, inventory search, test-drive and callback bookings.
- `calls`: who gets into a call (a caller's token, their reconnect), and supervisors'
  listen-ins.
"""
