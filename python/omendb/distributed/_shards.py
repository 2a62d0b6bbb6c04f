"""The shard actors of one collection and how calls reach them: writes go to each shard's primary,
reads to its primary and replicas in turn; a call that meets a dead actor is sent again once Ray
has restarted it, and errors raised by the engine inside a shard come back with their own type.
"""

from __future__ import annotations

import time
from typing import Callable

from .._errors import Error


class ShardUnavailableError(Error):
    """A shard's actor did not come back within the retry window (its node is gone, or it keeps
    failing to reopen its folder). Nothing is answered from the other shards alone."""


RETRY_SECONDS = 120.0  # how long a call waits for a restarting shard actor
_PAUSE_SECONDS = 0.2


class ShardSet:
    """Actor handles by shard: ``primaries[i]`` and ``replicas[i]`` (read-only actors)."""

    def __init__(self, primaries: list, replicas: list, retry_seconds: float = RETRY_SECONDS) -> None:
        self.primaries = primaries
        self.replicas = replicas
        self.retry_seconds = retry_seconds
        self._turns = [0] * len(primaries)  # reads so far, by shard: picks the next copy

    @property
    def count(self) -> int:
        return len(self.primaries)

    @property
    def actors(self) -> list:
        """Every actor handle: the primaries, then the replicas."""
        return self.primaries + [copy for copies in self.replicas for copy in copies]

    def write(self, calls: dict) -> dict:
        """Runs ``calls`` ({shard: f(primary handle) -> ObjectRef}) on the primaries, in parallel;
        returns {shard: result}."""
        return self._run({shard: (lambda s=shard: self.primaries[s], call) for shard, call in calls.items()})

    def read(self, calls: dict) -> dict:
        """As write(), on the primary or a replica of each shard, in turn."""
        return self._run({shard: (lambda s=shard: self._next_copy(s), call) for shard, call in calls.items()})

    def _next_copy(self, shard: int):
        """The primary and the replicas of ``shard`` in turn."""
        copies = self.replicas[shard]
        turn = self._turns[shard] = self._turns[shard] + 1
        return self.primaries[shard] if turn % (len(copies) + 1) == 0 else copies[turn % (len(copies) + 1) - 1]

    def read_all(self, call: Callable) -> list:
        """``call`` on every shard (one copy each); the results in shard order."""
        results = self.read({shard: call for shard in range(self.count)})
        return [results[shard] for shard in range(self.count)]

    def write_all(self, call: Callable) -> list:
        results = self.write({shard: call for shard in range(self.count)})
        return [results[shard] for shard in range(self.count)]

    def _run(self, calls: dict) -> dict:
        import ray
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

        deadline = time.monotonic() + self.retry_seconds
        pending = {shard: call(pick()) for shard, (pick, call) in calls.items()}
        results = {}
        while pending:
            for shard, ref in list(pending.items()):
                try:
                    results[shard] = ray.get(ref, timeout=max(0.0, deadline - time.monotonic()))
                    del pending[shard]
                except RayTaskError as error:
                    del pending[shard]
                    _settle(pending.values(), deadline)  # their errors are not left unread
                    cause = getattr(error, "cause", None)
                    raise (cause if isinstance(cause, BaseException) else error) from None
                except (RayActorError, GetTimeoutError) as error:
                    if time.monotonic() >= deadline:
                        raise ShardUnavailableError(
                            f"shard {shard} did not answer within {self.retry_seconds:.0f} s: {error}"
                        ) from None
                    time.sleep(_PAUSE_SECONDS)
                    pick, call = calls[shard]
                    pending[shard] = call(pick())
        return results


def kill_random_actor(shards: ShardSet, rng, wait_seconds: float = RETRY_SECONDS) -> None:
    """SIGKILLs the process of one actor of ``shards`` picked with ``rng`` (a NumPy Generator),
    first waiting up to ``wait_seconds`` for it to answer (it may be restarting from an earlier
    kill). For OmenDB's kill tests and benchmarks: Ray restarts the actor, which reopens its folder."""
    import os
    import signal

    import ray
    from ray.exceptions import GetTimeoutError, RayActorError

    actor = shards.actors[rng.integers(len(shards.actors))]
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            pid = ray.get(actor.where.remote(), timeout=wait_seconds)["pid"]
            break
        except (RayActorError, GetTimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(_PAUSE_SECONDS)
    os.kill(pid, signal.SIGKILL)


def _settle(refs, deadline: float) -> None:
    """Waits for ``refs`` (until ``deadline``), discarding their results and errors."""
    import ray

    for ref in list(refs):
        try:
            ray.get(ref, timeout=max(0.0, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - the first error is the one raised
            pass
