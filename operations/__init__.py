"""What people do to cycles, shared by the CLI and the web app: Temporal client calls, no SQL."""
