"""Profiles of the suite (smoke, quick, full) and the caps: which system runs on which data set,
and, where one does not, the reason the report prints."""

from __future__ import annotations

from dataclasses import dataclass

from .systems import DATABASE, LIBRARY, SYSTEMS

K = 10
M = 16
EF_CONSTRUCTION = 100  # OmenDB's default; every graph index gets the same
THREADS = 2  # build and batch search; single queries always run on one thread
INSERT_BATCH = 1000  # databases: records per insert call
SELECTIVITIES = {"10%": 10, "1%": 1}  # filter bucket < t, buckets 0..99
FILTER_EF = 64
RECALL_TARGETS = (0.9, 0.95, 0.99)
LATENCY_RECALL = 0.95
REFERENCE = {LIBRARY: "omendb", DATABASE: "omendb-disk"}  # ratios are OmenDB / peer against these
QDRANT_LOCAL_MAX = 20_000  # qdrant-client warns that local mode is not meant for more points
# system -> (most repetitions per data set, why)
SYSTEM_REPEATS = {"qdrant": (1, "its inserts cost 4 fsync calls per point (one SQLite commit each), so their time "
                                "follows the disk's fsync latency (measured 56 to 1,000 points/s on this machine), "
                                "and its exact search has nothing to vary; one repetition per data set")}


@dataclass(frozen=True)
class Profile:
    """How much of everything one run does."""

    name: str
    datasets: tuple[str, ...]
    systems: tuple[str, ...]
    repeats: int  # fresh builds + query phases per data set and tier
    rounds: int  # alternating timed rounds per ef and repetition
    timed_queries: int  # queries answered per timed measurement (cycling through the set)
    ef_library: tuple[int, ...]
    ef_database: tuple[int, ...]
    db_queries: int  # the database tier uses the first N queries
    filtered_queries: int
    build1_repeats: int  # 1-thread builds (libraries), each in a fresh worker
    build1_max_n: int  # 1-thread builds use at most this many vectors (a prefix of the base)
    db_max_n: int  # the database tier runs on sets of at most this many vectors
    fewer_repeats: tuple = ()  # (data set, tier, repetitions, why): exceptions to ``repeats``
    qdrant_max_n: int = QDRANT_LOCAL_MAX  # Qdrant local mode runs on sets of at most this many vectors


PROFILES = {
    "smoke": Profile("smoke", ("clustered-3k-32",),
                     ("omendb", "omendb-sq8", "hnswlib", "faiss", "faiss-sq8", "usearch", "usearch-i8",
                      "zvec-int8-refine", "vsag-sq8", "scann", "svs-lvq", "omendb-disk"),
                     repeats=1, rounds=1, timed_queries=100, ef_library=(10, 32), ef_database=(32,),
                     db_queries=50, filtered_queries=20, build1_repeats=1, build1_max_n=3_000, db_max_n=3_000),
    "quick": Profile("quick", ("siftsmall", "minilm", "clustered-20k-128"), tuple(SYSTEMS),
                     repeats=1, rounds=2, timed_queries=500, ef_library=(10, 16, 32, 64, 128),
                     ef_database=(10, 32, 64), db_queries=100, filtered_queries=50,
                     build1_repeats=1, build1_max_n=20_000, db_max_n=10_000, qdrant_max_n=5_000),
    "full": Profile("full", ("siftsmall", "mnist", "minilm", "clustered-100k-128", "clustered-100k-768",
                             "clustered-1m-128"), tuple(SYSTEMS),
                    repeats=3, rounds=3, timed_queries=1000, ef_library=(10, 12, 16, 24, 32, 48, 64, 96, 128),
                    ef_database=(10, 16, 32, 64, 128), db_queries=200, filtered_queries=100,
                    build1_repeats=1, build1_max_n=100_000, db_max_n=100_000,
                    fewer_repeats=(
                        ("clustered-1m-128", LIBRARY, 1,
                         "one build per library takes 2-6 minutes at 1M on 2 cores; the QPS figures are the "
                         "median of 3 alternating rounds per ef within that repetition"),
                        ("clustered-100k-768", DATABASE, 1,
                         "one repetition of the database tier takes about 9 minutes at 100k x 768 on 2 cores "
                         "(the PyPI omendb inserts about 420 vectors/s, Chroma about 950)"))),
}


def runs_in(system: str, rep: int) -> bool:
    """Whether ``system`` takes part in repetition ``rep`` (see SYSTEM_REPEATS)."""
    return rep < SYSTEM_REPEATS.get(system, (rep + 1, ""))[0]


def repeats(profile: Profile, dataset: str, tier: str) -> int:
    """Repetitions of ``tier`` on ``dataset``: the profile's, unless an exception names them."""
    for name, which, count, _ in profile.fewer_repeats:
        if (name, which) == (dataset, tier):
            return min(count, profile.repeats)
    return profile.repeats


def cap(system: str, n: int, profile: Profile) -> str | None:
    """Why ``system`` does not run on a set of ``n`` vectors in ``profile``; None when it runs."""
    info = SYSTEMS[system]
    if info.tier == DATABASE and n > profile.db_max_n:
        return (f"the database tier runs on sets of at most {profile.db_max_n:,} vectors in the '{profile.name}' "
                f"profile, to keep the run within its time budget (five databases filled in batches of 1,000, "
                f"several at a few hundred to a few thousand vectors/s)")
    if system == "qdrant" and n > profile.qdrant_max_n:
        return (f"qdrant-client's local mode is a pure-Python store with exact NumPy search, meant for small "
                f"collections (the client warns above {QDRANT_LOCAL_MAX:,} points); measured here: at most about "
                f"1,000 inserts/s (4 fsync calls per point) and about 6 filtered queries/s at 20,000 points"
                + ("" if profile.qdrant_max_n == QDRANT_LOCAL_MAX else
                   f"; the '{profile.name}' profile runs it on sets of at most {profile.qdrant_max_n:,}"))
    return None


def plan(profile: Profile, sizes: dict[str, int], systems: tuple[str, ...]) -> dict:
    """For each data set (name -> base vectors) and tier: the systems that run and the capped ones
    with their reasons."""
    out = {}
    for name, n in sizes.items():
        tiers = {}
        for tier in (LIBRARY, DATABASE):
            members = [s for s in systems if SYSTEMS[s].tier == tier]
            tiers[tier] = {"run": [s for s in members if cap(s, n, profile) is None],
                           "capped": {s: cap(s, n, profile) for s in members if cap(s, n, profile)}}
        out[name] = tiers
    return out
