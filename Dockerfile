# Multi-stage build. The image expects DATABASE_URL (an external PostgreSQL 15+);
# it applies the migrations and loads reference data, then serves with uvicorn.
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt pyproject.toml ./
RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.txt
COPY app ./app
RUN /venv/bin/pip install --no-cache-dir --no-deps .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home /srv thidua
WORKDIR /srv
COPY --from=build /venv /venv
COPY alembic.ini ./
COPY migrations ./migrations
COPY data ./data
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 LOAD_HISTORY_ON_SERVE=false
USER thidua
EXPOSE 8000
# `serve` migrates, loads the reference data, then runs uvicorn with the app's logging
# (request ids on every line; LOG_FORMAT=json for one JSON object a line).
CMD ["python", "-m", "app", "serve"]
