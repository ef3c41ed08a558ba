"""Every side effect of the engine: appending events (and with them the prompt outbox)."""
