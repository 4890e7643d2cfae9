FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
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
RUN DJANGO_SETTINGS_MODULE=reviewapp.settings.base python manage.py collectstatic --no-input
EXPOSE 8000
CMD ["gunicorn", "reviewapp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
