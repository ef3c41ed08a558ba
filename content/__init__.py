"""Content the engine ships as data: maturity models and school calendars, and their loaders (file I/O)."""
