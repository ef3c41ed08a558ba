# One image for the worker (`cis worker`), the web app (`cis web`) and the one-shot `cis setup`.
FROM python:3.12.8-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY store ./store
COPY content ./content
COPY operations ./operations
COPY stack ./stack
COPY demo ./demo
COPY web ./web
COPY cli ./cli
COPY worker.py settings.py ./
RUN pip install . && useradd --create-home --uid 10001 cis

USER cis
ENTRYPOINT ["cis"]
CMD ["worker"]
