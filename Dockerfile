# One image for the web process and the Celery worker (docker-compose.yml, docs/deployment.md).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=reviewapp.settings.production \
    STATIC_ROOT=/app/staticfiles MEDIA_ROOT=/app/media \
    BROWSER_PATH=/usr/bin/chromium
# Debian's Chromium: kaleido drives it to export figures (PNG, SVG, PDF) in the worker.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY reviewapp reviewapp
COPY screening screening
COPY extraction extraction
COPY analysis analysis
COPY templates templates
COPY manage.py ./
RUN pip install . && useradd --create-home app && mkdir -p /app/media /app/staticfiles && chown -R app /app
USER app
# The production settings' manifest storage needs the manifest this writes. The key only lets
# the settings load for this step (they refuse a missing one); it is not kept in the image.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --no-input
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --no-input && exec gunicorn reviewapp.wsgi:application --bind 0.0.0.0:${PORT:-8000} --workers ${WEB_CONCURRENCY:-3} --timeout 120"]
