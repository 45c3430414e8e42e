"""Bounds and counts: request size, request rate per institution, and the metrics the
``/metrics`` endpoint shows (Prometheus text format)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)


class BodyLimit:
    """ASGI middleware: a request body longer than ``max_bytes`` is refused 413 before it is read
    whole (by its Content-Length, or while it streams in)."""

    def __init__(self, app, *, max_bytes: int, on_refuse=None):
        self.app = app
        self.max_bytes = max_bytes
        self.on_refuse = on_refuse

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self._refuse(scope, send)
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope, send):
        if self.on_refuse is not None:
            self.on_refuse(scope)
        body = b'{"infcode": -1, "err_msg": "request body too large"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class AccessLog:
    """ASGI middleware: calls ``on_done(scope, status, seconds)`` when a response has been sent
    (a plain ASGI wrapper: Starlette's ``BaseHTTPMiddleware`` costs about a millisecond a call)."""

    def __init__(self, app, *, on_done):
        self.app = app
        self.on_done = on_done

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.on_done(scope, status, time.perf_counter() - started)


class RateLimit:
    """A token bucket per institution: ``rate`` calls a second on average, bursts of ``burst``."""

    def __init__(self, *, rate: float, burst: int):
        self.rate, self.burst = float(rate), float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, who: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[who] = (tokens, now)
                return False
            self._buckets[who] = (tokens - 1, now)
            return True


class Metrics:
    """Counters and latency histograms, rendered in the Prometheus text format."""

    def __init__(self):
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.refusals: dict[str, int] = defaultdict(int)
        self.latency: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.groups = 0
        self.group_claims = 0
        self.group_seconds = 0.0

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            counts = self.latency.setdefault(route, [0] * (len(LATENCY_BUCKETS) + 1))
            for i, upper in enumerate(LATENCY_BUCKETS):
                if seconds <= upper:
                    counts[i] += 1
            counts[-1] += 1
            self.latency_sum[route] += seconds

    def refusal(self, why: str) -> None:
        with self._lock:
            self.refusals[why] += 1

    def group(self, size: int, seconds: float) -> None:
        with self._lock:
            self.groups += 1
            self.group_claims += size
            self.group_seconds += seconds

    def render(self, *, queued: int) -> str:
        with self._lock:
            out = ["# TYPE wzmedins_requests_total counter"]
            for (method, route, status), n in sorted(self.requests.items()):
                out.append(f'wzmedins_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
            out.append("# TYPE wzmedins_refusals_total counter")
            for why, n in sorted(self.refusals.items()):
                out.append(f'wzmedins_refusals_total{{reason="{why}"}} {n}')
            out.append("# TYPE wzmedins_request_seconds histogram")
            for route, counts in sorted(self.latency.items()):
                for upper, n in zip(LATENCY_BUCKETS, counts, strict=False):
                    out.append(f'wzmedins_request_seconds_bucket{{route="{route}",le="{upper}"}} {n}')
                out.append(f'wzmedins_request_seconds_bucket{{route="{route}",le="+Inf"}} {counts[-1]}')
                out.append(f'wzmedins_request_seconds_count{{route="{route}"}} {counts[-1]}')
                out.append(f'wzmedins_request_seconds_sum{{route="{route}"}} {self.latency_sum[route]:.6f}')
            out.append("# TYPE wzmedins_settle_groups_total counter")
            out.append(f"wzmedins_settle_groups_total {self.groups}")
            out.append("# TYPE wzmedins_settle_group_claims_total counter")
            out.append(f"wzmedins_settle_group_claims_total {self.group_claims}")
            out.append("# TYPE wzmedins_settle_group_seconds_total counter")
            out.append(f"wzmedins_settle_group_seconds_total {self.group_seconds:.6f}")
            out.append("# TYPE wzmedins_queue_claims gauge")
            out.append(f"wzmedins_queue_claims {queued}")
        return "\n".join(out) + "\n"


__all__ = ["BodyLimit", "RateLimit", "Metrics"]
