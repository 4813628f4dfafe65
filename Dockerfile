# souk for production-like deployments: one image for web, worker, beat and migrate
# (see docker-compose.yml and docs/operations.md). Settings come from the environment.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HTTP_HOST=0.0.0.0 \
    DATA_DIR=/var/lib/souk

WORKDIR /app

# Only what the package and `souk migrate` need; no .venv, .data, .env or .git.
COPY pyproject.toml README.md alembic.ini ./
COPY souk ./souk
COPY migrations ./migrations

# Install, compile the gettext catalogs in the source tree (as `make locales` does),
# then reinstall the package alone so the compiled .mo files ship with it.
RUN pip install . \
 && python -m souk.i18n compile \
 && pip install --no-deps --force-reinstall . \
 && rm -rf build souk.egg-info

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin souk \
 && mkdir -p /var/lib/souk \
 && chown souk:souk /var/lib/souk

USER souk
EXPOSE 8080

# `souk migrate` reads alembic.ini from /app, the working directory.
ENTRYPOINT ["souk"]
CMD ["serve"]
