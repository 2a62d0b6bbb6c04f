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
                   "one collection (quantization='none', given explicitly) in a folder opened with sync='off' "
                   "and a checkpoint threshold above the data size; one add() call builds it on T threads; "
                   "save = close() (writes the snapshot files); search(q, k, ef) / search_batch(Q, k, ef) "
                   "(T threads); metric 'l2' or 'cosine' (OmenDB normalises the stored vectors)"),
        SystemInfo("omendb-sq8", "omendb_sq8", LIBRARY, "OmenDB sq8", ("omendb",), ("omendb",),
                   "as OmenDB, with collection(..., quantization='sq8'): 8-bit codes (one byte per dimension) "
                   "kept beside the floats; the graph is built and searched on the codes and the best "
                   "candidates are re-ranked with the floats, so returned distances are exact"),
        SystemInfo("hnswlib", "hnswlib_index", LIBRARY, "hnswlib", ("hnswlib",), ("hnswlib",),
                   "Index(space, dim).init_index(M, ef_construction, random_seed=0); add_items with "
                   "set_num_threads(T); knn_query after set_ef(ef); save_index / load_index"),
        SystemInfo("faiss", "faiss_index", LIBRARY, "FAISS HNSWFlat", ("faiss",), ("faiss-cpu",),
                   "IndexHNSWFlat(dim, M) with efConstruction; cosine: vectors and queries L2-normalised, "
                   "inner product; omp_set_num_threads(T) for build and batch, 1 for single queries; "
                   "write_index / read_index"),
        SystemInfo("faiss-sq8", "faiss_sq8", LIBRARY, "FAISS HNSWSQ 8-bit", ("faiss",), ("faiss-cpu",),
                   "IndexHNSWSQ(dim, ScalarQuantizer.QT_8bit, M) with efConstruction; the timed build trains "
                   "the quantizer on the whole base (a min and max per dimension), then add(); the graph is "
                   "built and searched on the 8-bit codes, no re-ranking with the floats; efSearch=ef; cosine: "
                   "vectors and queries L2-normalised, inner product; omp_set_num_threads(T) for build and "
                   "batch, 1 for single queries; write_index / read_index"),
        SystemInfo("usearch", "usearch_index", LIBRARY, "USearch", ("usearch",), ("usearch",),
                   "Index(ndim, metric='l2sq'|'cos', dtype='f32', connectivity=M, expansion_add=ef_construction); "
                   "add/search with threads=T (1 for single queries); expansion_search=ef; save / restore"),
        SystemInfo("usearch-i8", "usearch_i8", LIBRARY, "USearch i8", ("usearch",), ("usearch",),
                   "as USearch with dtype='i8': vectors stored as int8, searched on them with no re-ranking. "
                   "USearch scales every vector to unit length before the cast (x 127), whatever the metric "
                   "(Index.get returns the unit vector), so with 'l2sq' it ranks by angle, not distance: its "
                   "recall on L2 sets shows that"),
        SystemInfo("zvec-hnsw", "zvec_hnsw", LIBRARY, "zvec HNSW", ("zvec",), ("zvec",),
                   "zvec.init(query_threads=1, optimize_threads=T); create_and_open(folder) with one VECTOR_FP32 "
                   "field indexed by HnswIndexParam(metric L2|COSINE, m=M, ef_construction); insert() in calls of "
                   "1,024 documents (zvec's limit), optimize(concurrency=T) builds the graph, then the collection "
                   "is reopened read-only (all timed as the build); a single query is query_internal_ids(Query("
                   "vector, HnswQueryParam(ef))) + resolve_internal_ids (zvec's low-latency path for one dense "
                   "query; it needs a read-only collection); zvec has no batch search, so the batch is that call "
                   "in a loop on one thread; save = close(); open = zvec.open(folder, read_only=True)"),
        SystemInfo("zvec-int8", "zvec_int8", LIBRARY, "zvec int8", ("zvec",), ("zvec",),
                   "as zvec HNSW with HnswIndexParam(..., quantize_type=INT8): the graph is built and searched on "
                   "int8 codes and their distances rank the results (is_using_refiner=False); the folder also "
                   "holds a float index, the refiner's"),
        SystemInfo("zvec-int8-refine", "zvec_int8_refine", LIBRARY, "zvec int8 + refiner", ("zvec",), ("zvec",),
                   "as zvec int8, searched with HnswQueryParam(ef, is_using_refiner=True): the max(k, ef) "
                   "candidates of the int8 search are re-scored with the float vectors"),
        SystemInfo("zvec-rabitq-refine", "zvec_rabitq", LIBRARY, "zvec RaBitQ + refiner", ("zvec",), ("zvec",),
                   "as zvec HNSW with HnswRabitqIndexParam(metric, m=M, ef_construction; zvec's defaults of 7 "
                   "bits and 16 clusters): the graph is built and searched on RaBitQ codes; "
                   "HnswRabitqQueryParam(ef, is_using_refiner=True) re-scores the max(k, ef) candidates with the "
                   "floats. zvec accepts RaBitQ only for 64 to 4,095 dimensions"),
        SystemInfo("vsag-hgraph", "vsag_hgraph", LIBRARY, "VSAG HGraph", ("pyvsag",), ("pyvsag",),
                   "pyvsag.Index('hgraph', {dtype 'float32', metric_type 'l2'|'cosine', dim, index_param "
                   "{base_quantization_type 'fp32', max_degree=2M (HGraph's bottom-layer degree; upper layers "
                   "get half, M, as in HNSW), ef_construction, build_thread_count=T}}); one build() call; "
                   "knn_search(q, k, {'hgraph': {'ef_search': ef}}) on the calling thread; pyvsag has no batch "
                   "search, so the batch is knn_search in a loop on one thread; save(file) / load(file) into an "
                   "Index made with the same parameters (pyvsag 0.18.5 writes HGraph's preallocated memory blocks "
                   "whole: a file of about 268 MB, nearly all zeros, at 1,000 or 3,000 vectors, read back into "
                   "memory by load())"),
        SystemInfo("vsag-sq8", "vsag_sq8", LIBRARY, "VSAG HGraph sq8", ("pyvsag",), ("pyvsag",),
                   "as VSAG HGraph with base_quantization_type 'sq8' (the graph is built and searched on 8-bit "
                   "codes), use_reorder=true and precise_quantization_type 'fp32' (the candidates are re-ranked "
                   "with the float vectors)"),
        SystemInfo("scann", "scann_index", LIBRARY, "ScaNN", ("scann",), ("scann",),
                   "scann_ops_pybind.builder(base, k, 'squared_l2'|'dot_product').tree(num_leaves=round(sqrt(n)), "
                   "training_sample_size=min(n, 250,000), spherical for cosine).score_ah(2 dimensions per block; "
                   "anisotropic_quantization_threshold 0.2 for cosine, none for L2).reorder(...).build() with "
                   "set_n_training_threads(T); cosine: vectors and queries L2-normalised, dot product. A tree, "
                   "not a graph: M and ef_construction do not apply, and ef maps to leaves_to_search = "
                   "ceil(num_leaves x ef / 256) (ef=64: a quarter of the leaves) and pre-reorder candidates = "
                   "k x ceil(ef / 4) (ef=64: 160), re-ranked exactly with the floats; single queries: search(q, "
                   "k, reorder, leaves) on the calling thread; batch: search_batched_parallel after "
                   "set_num_threads(T); serialize(folder) / load_searcher(folder)"),
        SystemInfo("svs", "svs_vamana", LIBRARY, "SVS Vamana", ("svs",), ("scalable-vs",),
                   "svs.Vamana.build(VamanaBuildParameters(graph_max_degree=2M, window_size=ef_construction; "
                   "alpha SVS's default, 1.2 for L2 and 0.95 for cosine), float32 base, DistanceType.L2|Cosine, "
                   "num_threads=T); search_window_size=max(ef, k); index.num_threads = 1 for single queries "
                   "(search(q, k)), T for a batch (search(Q, k)); save(config, graph, data folders) / "
                   "Vamana(config, GraphLoader, VectorDataLoader)"),
        SystemInfo("svs-lvq", "svs_lvq", LIBRARY, "SVS Vamana LVQ-4x8", ("svs",), ("scalable-vs",),
                   "as SVS Vamana over LVQ-4x8 codes (LVQLoader(primary=4, residual=8)): the graph is built and "
                   "searched on 4-bit codes and the 8-bit residuals refine the candidates' distances; SVS "
                   "compresses from a vector file, so the timed build writes the base as .fvecs into the folder "
                   "and deletes it after; reopened with LVQLoader(folder). SVS refuses LVQ on CPUs other than "
                   "Intel's: the suite then lists it as not run, with SVS's message"),
        SystemInfo("omendb-disk", "omendb_disk", DATABASE, "OmenDB (disk)", ("omendb",), ("omendb",),
                   "omendb.open(folder, sync='full'); collection(..., quantization='sq8'), the default, given "
                   "explicitly; add() in batches of 1,000 with metadata {'bucket': int}; "
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
