# One image for every role: web (gunicorn), worker (Celery), migrate. Slim and non-root.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    SOURCINGX_ENV=production SOURCINGX_VAR_DIR=/app/var MALLOC_ARENA_MAX=2
WORKDIR /app
COPY requirements.lock ./
RUN python -m pip install --disable-pip-version-check -r requirements.lock
COPY . .
RUN useradd --create-home --uid 10001 sourcingx && mkdir -p /app/var \
    && chown -R sourcingx:sourcingx /app/var
USER sourcingx
EXPOSE 8050
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["/app/scripts/docker-entrypoint"]
CMD ["web"]
