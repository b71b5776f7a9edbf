# The production image: the runtime dependencies only (requirements-runtime.txt, which `make lock`
# compiles with requirements.txt: the same pins, no test, lint or type-checking tool), run by an
# unprivileged numeric user. It expects DATABASE_URL (PostgreSQL 15+). `serve` migrates and loads
# the reference data (under a PostgreSQL advisory lock, so replicas may start together), then
# serves with uvicorn on $PORT. compose.yaml runs it behind nginx; README "Deploy".
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv
COPY requirements-runtime.txt ./
RUN python -m venv /venv && /venv/bin/pip install -r requirements-runtime.txt
COPY pyproject.toml README.md ./
COPY app ./app
# Editable, from where it runs: the app finds alembic.ini, migrations/ and data/ beside its package
# (PROJECT_ROOT is the folder holding app/), and its version in the installed metadata. A regular
# install would put app/ under site-packages, where neither is.
RUN /venv/bin/pip install --no-deps --editable .

FROM python:3.11-slim
RUN groupadd --system --gid 10001 thidua \
 && useradd --system --uid 10001 --gid 10001 --home-dir /srv --no-create-home --shell /usr/sbin/nologin thidua
WORKDIR /srv
COPY --from=build /venv /venv
COPY app ./app
COPY alembic.ini ./
COPY migrations ./migrations
COPY data ./data
# Compiled once here, as root: the service's user may not write beside the code.
RUN /venv/bin/python -m compileall -q app migrations
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    HOST=0.0.0.0 PORT=8000 LOAD_HISTORY_ON_SERVE=false
# Numeric, so Kubernetes' runAsNonRoot can check it without a runAsUser.
USER 10001:10001
EXPOSE 8000
# Liveness (/healthz on $PORT) with Python: the slim image has no curl. The start period covers the
# migrations, and waiting for another replica's.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-m", "app.health.probe"]
# As PID 1, Python ignores SIGTERM until uvicorn installs its handler, so a `docker stop` during
# the migrations would wait for the kill; SIGINT stops it at any point, and uvicorn shuts down
# gracefully on either.
STOPSIGNAL SIGINT
# `serve` migrates, loads the reference data, then runs uvicorn with the app's logging (request
# ids on every line; LOG_FORMAT=json for one JSON object a line).
CMD ["python", "-m", "app", "serve"]
