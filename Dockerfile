# scimbridge: the SCIM bridge and its delivery worker (docs/deploy.md).
#
#   docker build -t scimbridge .
#   docker run -p 8080:8080 -v $PWD/bridge.yaml:/etc/scimbridge/bridge.yaml:ro \
#              -v scimbridge:/var/lib/scimbridge --stop-timeout 60 scimbridge
#
# The process runs as the unprivileged user `scimbridge` (uid 10001) in /var/lib/scimbridge,
# a volume: the default SQLite database, and any relative `sqlite:///` path in the
# configuration, land there. `scimbridge worker` (or `outbox list`, ...) as the command runs
# that instead of `serve`. Build arguments:
#   BASE  the Python 3.11 image both stages start from (python:3.11-slim; scripts/check-image.sh
#         builds with a local Debian bookworm root file system where no registry is reachable).
#         Its `python3` must have `venv`; both stages must use the same BASE (the virtual
#         environment built in the first is copied into the second).
#   UID   the user id of `scimbridge` (10001), e.g. to match the owner of a bind-mounted folder.
ARG BASE=python:3.11-slim

# ---- build: the wheel of this checkout, installed with its dependencies into /opt/scimbridge
FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# .dockerignore lets in only pyproject.toml, README.md, LICENSE, the scimbridge package and
# the default mappings (mappings/, packaged into the wheel).
COPY . .
RUN python3 -m venv /opt/pip \
    && /opt/pip/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && python3 -m venv --without-pip /opt/scimbridge \
    && wheel=$(ls /wheels/scimbridge-*.whl) \
    && /opt/pip/bin/pip --python /opt/scimbridge/bin/python install "${wheel}[postgres]" \
    && /opt/scimbridge/bin/scimbridge --help >/dev/null

# ---- the image: the interpreter of BASE, the virtual environment, nothing else from the build
FROM ${BASE}
ARG UID=10001
RUN groupadd --system --gid "${UID}" scimbridge \
    && useradd --system --uid "${UID}" --gid scimbridge --no-create-home \
       --home-dir /var/lib/scimbridge --shell /usr/sbin/nologin scimbridge \
    && install -d -o scimbridge -g scimbridge -m 0750 /var/lib/scimbridge \
    && install -d -m 0755 /etc/scimbridge
COPY --from=build /opt/scimbridge /opt/scimbridge

# SCIMBRIDGE_PORT: the port `serve` listens on and the health check asks (CMD and HEALTHCHECK).
# SCIMBRIDGE_DATABASE: the database when the configuration names none.
ENV PATH=/opt/scimbridge/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SCIMBRIDGE_CONFIG=/etc/scimbridge/bridge.yaml \
    SCIMBRIDGE_PORT=8080 \
    SCIMBRIDGE_DATABASE=sqlite:////var/lib/scimbridge/scimbridge.db

WORKDIR /var/lib/scimbridge
VOLUME ["/var/lib/scimbridge"]
USER scimbridge
EXPOSE 8080

# SIGTERM: `serve` stops taking requests (up to 5 s for those in hand), then its worker thread
# lets a vendor call in flight finish or time out and gives its batch back: up to the largest
# delivery.timeout_seconds + 5 (35 s by default). Give the container more than that before
# SIGKILL: `docker run --stop-timeout 60`, compose `stop_grace_period: 60s`, Kubernetes
# `terminationGracePeriodSeconds: 60` (docs/deploy.md, "Stopping").
STOPSIGNAL SIGTERM

# /healthz on the port of SCIMBRIDGE_PORT; no shell, no curl: the image's own Python asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SCIMBRIDGE_PORT', '8080'), timeout=4)"]

# `exec`: scimbridge, not the shell, is PID 1 and receives SIGTERM.
CMD ["/bin/sh", "-c", "exec scimbridge serve --host 0.0.0.0 --port \"${SCIMBRIDGE_PORT}\""]
