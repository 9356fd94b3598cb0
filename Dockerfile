# spotify-mcp server image. Build from the repository root:
#   docker build -t spotify-mcp .
# Run (see docs/deployment.md for every setting):
#   docker run --env-file .env -p 127.0.0.1:8000:8000 -v spotify-mcp-data:/data spotify-mcp
#
# Everything the build downloads comes from PyPI (uv, the locked dependencies); the base image is the only other input.

ARG PYTHON_IMAGE=python:3.11-slim

# -- build: resolve nothing, install exactly uv.lock into /app/.venv ------------------------------------------
FROM ${PYTHON_IMAGE} AS build

RUN pip install --no-cache-dir --disable-pip-version-check --root-user-action=ignore "uv==0.13.9"

# uv must use the image's Python (never download one), copy files rather than link them into a cache that is
# left behind, and put the environment where the final stage expects it.
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first, in a layer of their own, so that a source change does not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the project itself, as a regular (non-editable) install: the venv needs nothing from /app/src at run time.
COPY README.md ./
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable

# -- runtime ---------------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

ARG UID=10001
RUN groupadd --system --gid "${UID}" spotify-mcp \
    && useradd --system --uid "${UID}" --gid spotify-mcp --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin spotify-mcp \
    && mkdir -p /data \
    && chown spotify-mcp:spotify-mcp /data

# The venv holds the project as an installed package, so the source tree is not needed beside it.
COPY --from=build /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SPOTIFY_MCP_DATA_DIR=/data \
    PORT=8000

WORKDIR /app
USER spotify-mcp:spotify-mcp
VOLUME ["/data"]
EXPOSE 8000

# Liveness of the HTTP server; it does not query the store. No curl in the image: Python's urllib does it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]

ENTRYPOINT ["spotify-mcp"]
CMD ["serve", "--host", "0.0.0.0"]
