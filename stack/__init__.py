"""The embedded stack: Temporal's dev server and PostgreSQL as local processes, no Docker."""
