"""A brake on guessing: a client whose sign-ins or bearer checks keep failing is refused for a while (429).

Per process and in memory: a token is 256 random bits, so this does not guard the tokens (nothing could guess
one) but the service, from a client hammering it. With several web processes each keeps its own count, so a
client gets that many times the allowance at most. While a client is held back every attempt of theirs is
refused, right or wrong; otherwise guessing would carry on at full speed and only the hits would tell.
"""

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from fastapi import HTTPException, Request

FAILURES_ALLOWED = 30
WINDOW_SECONDS = 60.0
# Clients remembered at once: the oldest is forgotten first, so memory stays bounded whoever calls.
MAX_CLIENTS = 10_000


class FailureLimiter:
    def __init__(
        self,
        allowed: int = FAILURES_ALLOWED,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allowed = allowed
        self.window = window
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def check(self, request: Request) -> None:
        """Refuse a client that failed `allowed` times within the window, until the oldest failure ages out."""
        failures = self._recent(_client(request))
        if len(failures) >= self.allowed:
            wait = max(1, int(failures[0] + self.window - self.clock()) + 1)
            raise HTTPException(
                status_code=429,
                detail=f"too many failed sign-ins from here; try again in {wait} seconds",
                headers={"Retry-After": str(wait)},
            )

    def failed(self, request: Request) -> None:
        client = _client(request)
        failures = self._recent(client)
        failures.append(self.clock())
        self._failures[client] = failures
        self._failures.move_to_end(client)
        while len(self._failures) > MAX_CLIENTS:
            self._failures.popitem(last=False)

    def _recent(self, client: str) -> deque[float]:
        failures = self._failures.get(client, deque(maxlen=self.allowed))
        cutoff = self.clock() - self.window
        while failures and failures[0] <= cutoff:
            failures.popleft()
        return failures


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def limiter(request: Request) -> FailureLimiter:
    found: FailureLimiter = request.app.state.sign_in_limiter
    return found
