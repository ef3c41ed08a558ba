"""The web app (FastAPI): reads projections, changes state only through workflow Updates."""
