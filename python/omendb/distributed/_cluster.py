"""A distributed OmenDB database: collections whose shards are OmenDB databases owned by Ray actors.

Layout under ``root`` (a local path on every node that holds a shard):

    root/<collection>/collection.json    the catalog entry: options, shard count, replicas, nodes
    root/<collection>/shard-<i>/         shard i: an OmenDB database holding the collection

Placement: primary i is pinned (hard node affinity) to node i mod (nodes at creation), recorded
in the catalog, so that a restarted actor reopens its folder on the node that has it; replicas run
on the primary's node and open the same folder read-only. Actors restart without limit
(``max_restarts=-1``): a killed primary reopens its folder, replaying its log, so every write it
acknowledged is back.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Optional

from .._arguments import _check_name, _positive_int
from .._errors import ClosedError, InvalidArgumentError, NotFoundError
from .._vector_fields import DEFAULT_QUANTIZATION
from ._collection import Collection
from ._shard import Shard
from ._shards import RETRY_SECONDS, ShardSet

NAMESPACE = "omendb"
CATALOG = "collection.json"


def connect(
    ray_address: Optional[str] = None,
    *,
    root: str | os.PathLike,
    retry_seconds: float = RETRY_SECONDS,
    **ray_init: Any,
) -> "Database":
    """A distributed database whose shard folders live under ``root`` on each node.

    ray_address: None starts or joins Ray as ``ray.init()`` does (a local cluster when none is
    running); ``"auto"`` joins the running cluster; ``"ray://host:port"`` a remote one. Extra
    keyword arguments go to ``ray.init()`` when this call starts Ray.
    retry_seconds: how long a call waits for a shard actor that Ray is restarting before it raises
    ShardUnavailableError.
    """
    import ray

    if not ray.is_initialized():
        ray.init(address=ray_address, namespace=NAMESPACE, **ray_init)
    return Database(Path(root).absolute(), retry_seconds)


class Database:
    """Named distributed collections under one root. Get one with ``omendb.distributed.connect``."""

    def __init__(self, root: Path, retry_seconds: float) -> None:
        self.root = root
        self.retry_seconds = retry_seconds
        self._open: dict = {}  # name -> Collection
        self._closed = False

    def create_collection(
        self,
        name: str,
        *,
        dim: int,
        metric: str = "l2",
        shards: int = 1,
        replicas: int = 0,
        m: int = 16,
        ef_construction: int = 100,
        quantization: str = DEFAULT_QUANTIZATION,
        sync: str = "full",
        cpus_per_shard: float = 1,
    ) -> Collection:
        """Creates the collection ``name`` over ``shards`` primaries, each with ``replicas``
        read-only copies; the other options are the embedded ``Database.collection``'s.
        cpus_per_shard: Ray CPUs each actor asks for; a primary's batch inserts and searches use
        that many threads (at least one). Raises InvalidArgumentError when it exists."""
        self._check_open()
        _check_name(name)
        if not isinstance(cpus_per_shard, (int, float)) or isinstance(cpus_per_shard, bool) or cpus_per_shard < 0:
            raise InvalidArgumentError(f"cpus_per_shard must be a number >= 0, got {cpus_per_shard!r}")
        if (self.root / name / CATALOG).exists():
            raise InvalidArgumentError(f"collection {name!r} exists under {str(self.root)!r}")
        options = {
            "dim": _positive_int(dim, "dim"),
            "metric": metric,
            "m": _positive_int(m, "m"),
            "ef_construction": _positive_int(ef_construction, "ef_construction"),
            "quantization": quantization,
            "sync": sync,
            "shards": _positive_int(shards, "shards"),
            "replicas": _non_negative_int(replicas, "replicas"),
            "cpus_per_shard": cpus_per_shard,
            "nodes": _place(shards),
        }
        for key in ("metric", "quantization", "sync"):
            if not isinstance(options[key], str):
                raise InvalidArgumentError(f"{key} must be a str, got {type(options[key]).__name__}")
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        try:
            collection = self._start(name, options)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _write_catalog(folder / CATALOG, options)
        return collection

    def collection(self, name: str) -> Collection:
        """The collection ``name``: its running actors, or actors started again on its folders
        (after a restart of the cluster). Raises NotFoundError when it does not exist."""
        self._check_open()
        _check_name(name)
        if name in self._open:
            return self._open[name]
        path = self.root / name / CATALOG
        if not path.exists():
            raise NotFoundError(f"no collection named {name!r} under {str(self.root)!r}; create_collection() makes one")
        return self._start(name, json.loads(path.read_text()))

    def collections(self) -> list[str]:
        """Names of the collections under root, sorted."""
        self._check_open()
        if not self.root.is_dir():
            return []
        return sorted(p.parent.name for p in self.root.glob(f"*/{CATALOG}"))

    def drop_collection(self, name: str) -> None:
        """Stops the collection's actors and deletes its folders; handles to it raise
        ClosedError afterwards."""
        collection = self.collection(name)
        collection._stop(destroy=True)
        self._open.pop(name, None)
        shutil.rmtree(self.root / name, ignore_errors=True)

    def checkpoint(self) -> None:
        """Checkpoints every shard of every open collection."""
        self._check_open()
        for collection in self._open.values():
            collection._shards.write_all(lambda actor: actor.checkpoint.remote())

    def close(self) -> None:
        """Checkpoints and closes every shard, then stops the actors. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for collection in self._open.values():
            collection._stop(destroy=False)
        self._open.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise ClosedError(f"distributed database {str(self.root)!r} is closed")

    def _start(self, name: str, options: dict) -> Collection:
        """Gets or starts the actors of ``name`` and waits until each has opened its folder."""
        import ray

        actor_class = ray.remote(Shard)
        primaries, replicas = [], []
        for shard, node in enumerate(options["nodes"]):
            path = str(self.root / name / f"shard-{shard}")
            actor = _actor(actor_class, f"{self.root}:{name}:{shard}", node, options)
            primaries.append(actor.remote(path, name, options, False))
        ray.get([primary.where.remote() for primary in primaries])  # each has opened its folder
        for shard, node in enumerate(options["nodes"]):
            path = str(self.root / name / f"shard-{shard}")
            copies = []
            for replica in range(options["replicas"]):
                actor = _actor(actor_class, f"{self.root}:{name}:{shard}:replica-{replica}", node, options)
                copies.append(actor.remote(path, name, options, True))
            replicas.append(copies)
        ray.get([copy.where.remote() for copies in replicas for copy in copies])
        collection = Collection(name, options, ShardSet(primaries, replicas, self.retry_seconds))
        self._open[name] = collection
        return collection


def _actor(actor_class, name: str, node: str, options: dict):
    """The shard actor ``name`` pinned to ``node``: the running one, or a new one, restarted by
    Ray without limit."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return actor_class.options(
        name=name,
        namespace=NAMESPACE,
        get_if_exists=True,
        max_restarts=-1,
        num_cpus=options["cpus_per_shard"],
        scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False),
    )


def _place(shards: int) -> list:
    """Node ids for ``shards`` primaries: the alive nodes with CPUs, in turn."""
    import ray

    nodes = sorted(n["NodeID"] for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0)
    if not nodes:
        raise InvalidArgumentError("the Ray cluster has no alive node with CPUs to place shards on")
    return [nodes[shard % len(nodes)] for shard in range(shards)]


def _non_negative_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"{what} must be an int >= 0, got {value!r}")
    return value


def _write_catalog(path: Path, options: dict) -> None:
    """Writes the catalog entry atomically (a crash leaves the old file or the new one)."""
    partial = path.with_suffix(".partial")
    with open(partial, "w") as out:
        json.dump(options, out, indent=2)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)
