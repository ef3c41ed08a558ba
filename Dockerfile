# One image for the worker (`cis worker`, the default), the web app (`cis web --host 0.0.0.0 --port 8000`)
# and the one-shot `cis setup` (migrations, Cis* search attributes). Configured only by CIS_* variables.
#   docker build -t cis .

# The web app's stylesheet and scripts: GOV.UK Frontend compiled with sass, as `make` does on a developer's machine.
FROM node:20.18.1-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
COPY web/assets ./web/assets
RUN npm run --silent build

FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint renders the school's report as PDF (in the web app, and in the worker for the report email) with
# pango; fonts-liberation gives it Arial's metrics.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation \
    && rm -rf /var/lib/apt/lists/*

# The packages and modules listed in pyproject.toml ([tool.setuptools]); tests/test_compose.py keeps them in step.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY charts ./charts
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY store ./store
COPY content ./content
COPY operations ./operations
COPY stack ./stack
COPY demo ./demo
COPY web ./web
COPY --from=assets /assets/web/static ./web/static
COPY cli ./cli
COPY charts ./charts
COPY worker.py settings.py ./
RUN pip install --no-cache-dir . \
    && rm -rf /src/build /src/*.egg-info \
    && useradd --create-home --uid 10001 --user-group cis

# Run from the user's home: a relative CIS_DATA_DIR (default .cis) is then writable.
USER cis
WORKDIR /home/cis
EXPOSE 8000
ENTRYPOINT ["cis"]
CMD ["worker"]
