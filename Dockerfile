# ldn-kb: the knowledge-base service as a container image.
#   docker build -t ldn-kb .
#   docker run -p 8000:8000 -v ldn-kb-data:/data ldn-kb                       # SQLite on the volume
#   docker run -p 8000:8000 -e LDNKB_DATABASE_URL=postgresql+psycopg://... ldn-kb   # PostgreSQL
# The start migrates the store and loads the curated dataset when it is empty (under an advisory lock
# on PostgreSQL, so replicas may start together).
# BASE is any image with Python 3.11+ and its venv module on PATH as `python`; the default is the official
# slim image. The test suite builds on a Debian base made with debootstrap (tests/ops/test_image.py).
ARG BASE=python:3.11-slim

FROM ${BASE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
# Dependencies first, in a layer of their own: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && pip install --no-cache-dir -r requirements.txt
# Then the project itself (a non-editable install into the same venv; migrations/ ships as app/migrations).
COPY setup.py README.md ./
COPY migrations ./migrations
COPY app ./app
RUN pip install --no-cache-dir --no-deps .

FROM ${BASE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    LDNKB_DATABASE_URL=sqlite:////data/ldn-kb.sqlite3
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent ldnkb \
 && mkdir /data \
 && chown ldnkb:ldnkb /data
COPY --from=builder /opt/venv /opt/venv
WORKDIR /srv/ldn-kb
VOLUME /data
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
CMD ["ldn-kb", "serve", "--host", "0.0.0.0", "--port", "8000"]
