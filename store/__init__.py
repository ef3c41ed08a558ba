"""The PostgreSQL event store and its projections: the only SQL in the project."""
