"""OmenDB across a Ray cluster: a collection's records are spread over shards, each an ordinary
on-disk OmenDB database owned by a Ray actor, and a client object with the embedded API fans
calls out and merges the answers. See docs/distributed.md.

    import omendb.distributed
    db = omendb.distributed.connect(root="/data/omendb")
    col = db.create_collection("docs", dim=384, metric="cosine", shards=4)
    col.add(ids, vectors, metadata)
    hits = col.search(query, k=10)

Needs Ray (``pip install omendb[ray]``).
"""

from ._cluster import Database, connect
from ._collection import Collection
from ._shards import ShardUnavailableError

__all__ = ["connect", "Database", "Collection", "ShardUnavailableError"]
