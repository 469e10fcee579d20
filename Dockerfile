# syntax=docker/dockerfile:1
# One image for the gateway and the twelve services (compose picks the command),
# plus a `backup` target with the PostgreSQL 15 and Redis client tools that
# sanctum-backup drives. Build: docker build -t sanctum-app . ;
# docker build --target backup -t sanctum-backup .
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first: this layer is reused while only the code changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt
RUN pip install -r requirements.txt
COPY services ./services
COPY gateway ./gateway
COPY backup ./backup
COPY monitoring ./monitoring
RUN pip install --no-deps .

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning \
    PSYCOPG_WAIT_FUNC=wait_select \
    EVENTLET_THREADPOOL_SIZE=2 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    EVENTLET_NO_GREENDNS=yes \
    SANCTUM_CONFIG=/app/config.yaml
RUN groupadd --system --gid 10001 sanctum \
    && useradd --system --uid 10001 --gid sanctum --home-dir /app --shell /usr/sbin/nologin sanctum
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY config.yaml ./
COPY migrations ./migrations
# compose's `migrate` runs the migrations under an advisory lock (hosts boot together).
COPY deploy/migrate_lock.py ./deploy/migrate_lock.py
RUN install -d -o sanctum -g sanctum -m 0750 /app/exports /app/var
USER 10001:10001
EXPOSE 8000
CMD ["nameko", "run", "--config", "/app/config.yaml", "gateway.service:GatewayService"]

FROM runtime AS backup
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 redis-tools \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o sanctum -g sanctum -m 0750 /var/lib/sanctum-backup /work
USER 10001:10001
ENV BACKUP_STATE_DIR=/var/lib/sanctum-backup \
    BACKUP_WORK_DIR=/work
ENTRYPOINT ["sanctum-backup"]
CMD ["--help"]
