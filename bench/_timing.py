"""How every benchmark times a call and reports it (not a benchmark itself: `make bench` skips _*.py)."""

import statistics
import time
from collections.abc import Awaitable, Callable

ROUNDS = 30


async def timed(call: Callable[[], Awaitable[object]], rounds: int = ROUNDS) -> list[float]:
    """Milliseconds per call, `rounds` times after one call to warm up."""
    await call()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, round(len(ordered) * 0.95) - 1)]


def summary(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples):7.1f} ms   p95 {p95(samples):7.1f} ms"
