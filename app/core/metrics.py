"""Prometheus request metrics, labelled by route template (not raw path)."""

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("thidua_http_requests_total", "HTTP requests served", ("method", "route", "status"))
LATENCY = Histogram(
    "thidua_http_request_duration_seconds",
    "Time to serve an HTTP request",
    ("method", "route"),
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._latency: dict[tuple[str, str], Any] = {}
        self._requests: dict[tuple[str, str, int], Any] = {}
        """Labelled children, looked up once (`labels()` takes a lock and builds a key each call)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope["method"]
            latency = self._latency.get((method, template))
            if latency is None:
                latency = self._latency[(method, template)] = LATENCY.labels(method, template)
            latency.observe(time.perf_counter() - started)
            counter = self._requests.get((method, template, status))
            if counter is None:
                counter = self._requests[(method, template, status)] = REQUESTS.labels(
                    method, template, str(status)
                )
            counter.inc()
