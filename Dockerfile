# syntax=docker/dockerfile:1
# KeJin 科金直通车 — one image for web (gunicorn), worker and beat (Celery). See docker-compose.yml.

# ---- front-end assets: Bootstrap, bootstrap-icons, htmx, ECharts from npm (no CDN) ----------------
FROM python:3.11-slim AS assets
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

# ---- application ---------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    XDG_RUNTIME_DIR=/tmp

RUN groupadd --system --gid 10001 kejin \
 && useradd --system --uid 10001 --gid kejin --home-dir /app --shell /usr/sbin/nologin kejin

WORKDIR /app

# Runtime dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

COPY --from=assets /app/node_modules ./node_modules
COPY . .

# Static files are collected into the image (whitenoise serves them); the key is a build-time dummy.
RUN DEBUG=0 SECRET_KEY=build-only-not-secret ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput \
 && mkdir -p /app/staticfiles /app/media \
 && chown -R kejin:kejin /app/staticfiles /app/media

USER kejin

EXPOSE 8000

# The web health check (GET /healthz/) is declared in docker-compose.yml, so worker and beat,
# which share this image, are not marked unhealthy.

# gunicorn also reads GUNICORN_CMD_ARGS (e.g. "--workers 4 --timeout 60").
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-", "--error-logfile", "-"]
