"""Registry of the systems under test: where each adapter lives, its tier, the packages whose
versions are recorded and, for databases, what a returned insert guarantees.

Imported by the parent and by workers (including the one in the earlier OmenDB's own virtual
environment), so it uses the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

LIBRARY, DATABASE = "library", "database"


@dataclass(frozen=True)
class SystemInfo:
    """One system under test."""

    name: str  # key in results and reports
    module: str  # adapter module under systems/
    tier: str  # LIBRARY (an index in the process) or DATABASE (records on disk, metadata, filters)
    label: str  # how the report names it
    imports: tuple[str, ...]  # modules that must import for the system to run
    packages: tuple[str, ...]  # distributions whose versions are recorded
    how: str  # how it is built and searched, for the report
    durability: str = ""  # databases: what has happened when an insert call returns
    separate_python: bool = False  # runs in .cache/bench/venv-omendb-pypi (its import name clashes)
    exact: bool = False  # searches exactly whatever ef says: timed at the first ef of the sweep only


SYSTEMS = {
    s.name: s
    for s in (
        SystemInfo("omendb", "omendb_memory", LIBRARY, "OmenDB", ("omendb",), ("omendb",),
                   "one collection in a folder opened with sync='off' and a checkpoint threshold above the "
                   "data size; one add() call builds it; save = close() (writes the snapshot files); "
                   "search(q, k, ef) / search_batch(Q, k, ef)"),
        SystemInfo("hnswlib", "hnswlib_index", LIBRARY, "hnswlib", ("hnswlib",), ("hnswlib",),
                   "Index(space, dim).init_index(M, ef_construction, random_seed=0); add_items with "
                   "set_num_threads(T); knn_query after set_ef(ef); save_index / load_index"),
        SystemInfo("faiss", "faiss_index", LIBRARY, "FAISS HNSWFlat", ("faiss",), ("faiss-cpu",),
                   "IndexHNSWFlat(dim, M) with efConstruction; cosine: vectors and queries L2-normalised, "
                   "inner product; omp_set_num_threads(T) for build and batch, 1 for single queries; "
                   "write_index / read_index"),
        SystemInfo("usearch", "usearch_index", LIBRARY, "USearch", ("usearch",), ("usearch",),
                   "Index(ndim, metric='l2sq'|'cos', dtype='f32', connectivity=M, expansion_add=ef_construction); "
                   "add/search with threads=T (1 for single queries); expansion_search=ef; save / restore"),
        SystemInfo("omendb-disk", "omendb_disk", DATABASE, "OmenDB (disk)", ("omendb",), ("omendb",),
                   "omendb.open(folder, sync='full'); add() in batches of 1,000 with metadata {'bucket': int}; "
                   "where={'bucket': {'$lt': t}}; reopen with omendb.open(folder)",
                   durability="sync='full': the batch's log record is fsynced before add() returns "
                              "(survives a power failure)"),
        SystemInfo("omendb-pypi", "omendb_pypi", DATABASE, "OmenDB 0.0.x (PyPI)", ("omendb",), ("omendb",),
                   "the earlier engine published on PyPI as omendb, in its own virtual environment: "
                   "omendb.create(path, schema) (M=16; ef_construction is fixed at 100 for a store on disk: "
                   "create() takes no graph settings and open() ignores them); set(ids, vectors, metadatas) in "
                   "batches of 1,000, one flush() after the last; search(q, k, ef, filter); search_batch",
                   durability="none per batch: set() returns before anything is written (strace: no write, no "
                              "fsync); the one flush() after the last batch writes and fsyncs everything and is "
                              "counted in insert+index. Flushing after every batch would make each batch durable, "
                              "at a cost that grows with the store (measured while building this suite: 648 "
                              "vectors/s at 100,000 x 128)",
                   separate_python=True),
        SystemInfo("chroma", "chroma_db", DATABASE, "Chroma", ("chromadb",), ("chromadb",),
                   "PersistentClient(path, Settings(anonymized_telemetry=False)); collection with "
                   "configuration hnsw {space, max_neighbors=M, ef_construction, ef_search}; add() in "
                   "batches of 1,000; ef set with modify(configuration={'hnsw': {'ef_search': ef}})",
                   durability="add() commits to Chroma's SQLite log with fsync before it returns "
                              "(strace: about 17 fsync calls per batch)"),
        SystemInfo("lancedb", "lance_db", DATABASE, "LanceDB", ("lancedb", "pyarrow"), ("lancedb", "pyarrow"),
                   "lancedb.connect(path); table.add() in batches of 1,000, then create_index(HnswFlat("
                   "num_partitions=1, m=M, ef_construction)) (an HNSW over full vectors); "
                   "search(q).distance_type(metric).ef(ef).limit(k); where(..., prefilter=True)",
                   durability="add() writes a new table version's files and manifest but never fsyncs "
                              "(strace): survives a crash of the process, not a power failure"),
        SystemInfo("qdrant", "qdrant_local", DATABASE, "Qdrant (local mode)", ("qdrant_client",), ("qdrant-client",),
                   "QdrantClient(path=folder) (local mode: pure Python, exact search; the HNSW settings "
                   "M and ef_construct are passed but local mode ignores them); upsert(Batch) in batches "
                   "of 1,000; query_points with a payload filter",
                   durability="upsert() commits every point to SQLite with fsync before it returns "
                              "(strace: 4 fsync calls per point)",
                   exact=True),
    )
}
