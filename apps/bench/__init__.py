"""`callcenter bench`: measured figures, each beside a baseline from the same run.

Every bench runs against the configured PostgreSQL server (the embedded one, or
CALLCENTER_DATABASE_URL) in throw-away databases of its own, so the application's data
is never touched. See BENCHMARKS.md for the figures and the machine they came from.
"""
