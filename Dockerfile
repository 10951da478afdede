# scimbridge: the SCIM bridge with its delivery worker, on SQLite by default.
#   docker build -t scimbridge .
#   docker run -p 8080:8080 -v $PWD/bridge.yaml:/etc/scimbridge/bridge.yaml -v scimbridge:/var/lib/scimbridge scimbridge
# Point `database:` at sqlite:////var/lib/scimbridge/scimbridge.db (or PostgreSQL) in bridge.yaml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SCIMBRIDGE_CONFIG=/etc/scimbridge/bridge.yaml

WORKDIR /opt/scimbridge
COPY pyproject.toml README.md ./
COPY scimbridge ./scimbridge
COPY mappings ./mappings
RUN pip install --no-cache-dir '.[postgres]' \
    && useradd --system --home /var/lib/scimbridge scimbridge \
    && mkdir -p /var/lib/scimbridge && chown scimbridge /var/lib/scimbridge

USER scimbridge
EXPOSE 8080
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
CMD ["scimbridge", "serve", "--host", "0.0.0.0", "--port", "8080"]
