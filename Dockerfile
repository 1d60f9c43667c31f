# tnl-bot: the bot and its shipped data files, run as an unprivileged user, its state in /data.
# Build: `docker build -t tnl-bot .` — or `docker compose up -d` (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY scheduler ./scheduler
COPY faq_corpus ./faq_corpus
# The README's install command.
RUN pip install .

# No login, no shell; its home is the volume (the FAQ model's cache lands there too).
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin tnl \
    && mkdir -p /data && chown tnl:tnl /data
USER tnl
WORKDIR /data
VOLUME ["/data"]

# Inside the container only: listen on every interface so that the published port reaches the
# web app (/healthz, /metrics, /telegram/webhook). Outside, the bot's default stays loopback.
ENV TNL_DATA_DIR=/data \
    TNL_WEB_HOST=0.0.0.0 \
    TNL_WEB_PORT=8080
EXPOSE 8080

# 503 ("degraded": a platform or the store unreachable) and no answer are both unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TNL_WEB_PORT', '8080'), timeout=4)"]

# SIGTERM: the bot stops taking updates, finishes or persists what is in flight, exits 0.
STOPSIGNAL SIGTERM
CMD ["tnl-bot", "run"]
