"""Request counters, latency histograms and collection sizes, in the Prometheus text format
(version 0.0.4), kept in memory without a Prometheus library."""

from __future__ import annotations

import bisect
import threading
from typing import Iterable

# Latency bucket bounds in seconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(value: str) -> str:
    """A label value escaped for the text format."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Counts of requests by (method, route, status) and latency histograms by (method, route).
    Routes are the templates (``/v1/collections/{name}/search``), so the number of series stays
    bounded whatever paths are requested. Thread-safe; recording costs one lock and a bisect."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}
        self._histograms: dict[tuple[str, str], list] = {}  # [bucket counts..., sum, count]

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and add its latency."""
        bucket = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            key = (method, route, status)
            self._counts[key] = self._counts.get(key, 0) + 1
            histogram = self._histograms.setdefault((method, route), [0] * (len(BUCKETS) + 1) + [0.0, 0])
            histogram[bucket] += 1
            histogram[-2] += seconds
            histogram[-1] += 1

    def render(self, collection_sizes: Iterable[tuple[str, int]]) -> str:
        """The text exposition: requests, latencies and the given (collection, records) sizes."""
        with self._lock:
            counts = sorted(self._counts.items())
            histograms = sorted((key, list(value)) for key, value in self._histograms.items())
        lines = [
            "# HELP omendb_requests_total HTTP requests answered, by method, route and status.",
            "# TYPE omendb_requests_total counter",
        ]
        for (method, route, status), count in counts:
            labels = f'method="{method}",route="{_label(route)}",status="{status}"'
            lines.append(f"omendb_requests_total{{{labels}}} {count}")
        lines += [
            "# HELP omendb_request_duration_seconds Time from request to response, by method and route.",
            "# TYPE omendb_request_duration_seconds histogram",
        ]
        for (method, route), values in histograms:
            labels = f'method="{method}",route="{_label(route)}"'
            cumulative = 0
            for bound, count in zip(BUCKETS + (float("inf"),), values):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f'omendb_request_duration_seconds_bucket{{{labels},le="{le}"}} {cumulative}')
            lines.append(f"omendb_request_duration_seconds_sum{{{labels}}} {values[-2]!r}")
            lines.append(f"omendb_request_duration_seconds_count{{{labels}}} {values[-1]}")
        lines += [
            "# HELP omendb_collection_records Records in each collection.",
            "# TYPE omendb_collection_records gauge",
        ]
        for name, size in collection_sizes:
            lines.append(f'omendb_collection_records{{collection="{_label(name)}"}} {size}')
        return "\n".join(lines) + "\n"
