"""omendb import and export: every format round-trips bit for bit (ids, float32 vectors, metadata
with its types), imports resume (--on-existing), a failed or interrupted import says how far it got,
and import shows a progress bar on a terminal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import omendb

pytest.importorskip("pyarrow", reason="Parquet files need pyarrow: pip install 'omendb[cli]'")

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from test_cli import (  # noqa: E402
    DIM,
    as_json,
    assert_fails,
    contents,
    fingerprint,
    make_db,
    ok,
    run,
    run_module,
    sample,
)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A closed database with 300 records of dim 8 in collection "docs" (see test_cli.make_db)."""
    make_db(tmp_path / "db")
    return tmp_path / "db"


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_records_round_trip_exactly(db_path, tmp_path, fmt):
    """export then import into a new database: the same ids, vector bits and metadata (types too:
    1, 1.0 and "one" in one key, None beside absent keys, int64 extremes, empty lists); exporting
    the copy gives the same bytes."""
    first, second = tmp_path / f"first.{fmt}", tmp_path / f"second.{fmt}"
    assert as_json(run("export", db_path, "docs", first, "--json"))["rows"] == 300
    report = as_json(run("import", tmp_path / "copy", "docs", first, "--create", "--json"))
    assert (report["written"], report["skipped"], report["created_collection"]) == (300, 0, True)
    assert contents(tmp_path / "copy") == contents(db_path)
    ok(run("export", tmp_path / "copy", "docs", second))
    assert first.read_bytes() == second.read_bytes()


def test_parquet_export_types_each_metadata_key(db_path, tmp_path):
    """Parquet export: one column per metadata key, typed when its values share a type, JSON text
    (marked omendb.json) when they mix types or hold null; vectors are fixed-size float32 lists."""
    ok(run("export", db_path, "docs", tmp_path / "out.parquet"))
    schema = pq.read_schema(tmp_path / "out.parquet")
    assert schema.field("id").type == pa.string()
    assert schema.field("vector").type == pa.list_(pa.float32(), DIM)
    assert schema.field("year").type == pa.int64() and schema.field("score").type == pa.float64()
    assert schema.field("tags").type == pa.list_(pa.string()) and schema.field("flag").type == pa.bool_()
    for mixed in ("mixed", "maybe"):
        assert schema.field(mixed).type == pa.string() and schema.field(mixed).metadata == {b"omendb.json": b"1"}


@pytest.mark.parametrize("fmt", ["npy", "fvecs"])
def test_vector_files_round_trip_with_their_ids_file(db_path, tmp_path, fmt):
    """.npy/.fvecs export: vectors in id order and FILE.ids.txt, one id per line; import with --ids
    restores the same ids and vector bits, and re-export gives the same bytes."""
    out = tmp_path / f"out.{fmt}"
    report = as_json(run("export", db_path, "docs", out, "--json"))
    assert report["ids_file"] == str(tmp_path / "out.ids.txt")
    ids, vectors, _ = sample()
    assert (tmp_path / "out.ids.txt").read_text(encoding="utf-8").split("\n")[:-1] == sorted(ids)
    if fmt == "npy":
        order = sorted(range(len(ids)), key=ids.__getitem__)
        assert np.load(out).tobytes() == vectors[order].tobytes()
    ok(run("import", tmp_path / "copy", "docs", out, "--ids", tmp_path / "out.ids.txt", "--create"))
    vectors_only = [(id_, vector) for id_, vector, _ in contents(db_path)]
    assert [(id_, vector) for id_, vector, _ in contents(tmp_path / "copy")] == vectors_only
    ok(run("export", tmp_path / "copy", "docs", tmp_path / f"again.{fmt}", "--ids", tmp_path / "again.ids"))
    assert (tmp_path / f"again.{fmt}").read_bytes() == out.read_bytes()
    assert (tmp_path / "again.ids").read_bytes() == (tmp_path / "out.ids.txt").read_bytes()


def test_bvecs_round_trip_and_refusal(tmp_path):
    """.bvecs holds uint8 components: integer vectors 0..255 round-trip; others are refused and no
    file is left behind."""
    path = tmp_path / "db"
    values = np.random.default_rng(1).integers(0, 256, (50, DIM)).astype(np.float32)
    with omendb.open(path) as db:
        db.collection("bytes", dim=DIM).add([f"b{i:02}" for i in range(50)], values)
        db.collection("floats", dim=DIM).add(["f"], values[:1] + 0.5)
    ok(run("export", path, "bytes", tmp_path / "b.bvecs"))
    assert (tmp_path / "b.bvecs").stat().st_size == 50 * (4 + DIM)
    ok(run("import", path, "copy", tmp_path / "b.bvecs", "--ids", tmp_path / "b.ids.txt"))
    assert contents(path, "copy") == contents(path, "bytes")
    assert_fails(run("export", path, "floats", tmp_path / "f.bvecs"), 1, "integers 0..255")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.bvecs", "b.ids.txt", "db"]


def test_cosine_collections_round_trip_bit_for_bit(tmp_path):
    """A cosine collection stores unit vectors; the engine stores a vector of norm 1 as it is, so
    exporting and importing them again gives the same bits."""
    make_db(tmp_path / "db", metric="cosine")
    ok(run("export", tmp_path / "db", "docs", tmp_path / "out.parquet"))
    ok(run("import", tmp_path / "copy", "docs", tmp_path / "out.parquet", "--create", "--metric", "cosine"))
    with omendb.open(tmp_path / "db", read_only=True) as a, omendb.open(tmp_path / "copy", read_only=True) as b:
        left = sorted(a.collection("docs").get(where={}), key=lambda r: r.id)
        right = sorted(b.collection("docs").get(where={}), key=lambda r: r.id)
    assert [(r.id, r.metadata) for r in left] == [(r.id, r.metadata) for r in right]
    assert [r.vector.tobytes() for r in left] == [r.vector.tobytes() for r in right]


def test_export_where_writes_the_matches(db_path, tmp_path):
    """export --where writes only the records that match the filter."""
    news = sum(metadata.get("tag") == "news" for metadata in sample()[2])
    report = as_json(run("export", db_path, "docs", tmp_path / "news.jsonl", "--where", "tag = 'news'", "--json"))
    assert report["rows"] == news
    ok(run("import", tmp_path / "copy", "news", tmp_path / "news.jsonl", "--create"))
    with omendb.open(tmp_path / "copy", read_only=True) as db:
        assert db.collection("news").count({"tag": "news"}) == news == len(db.collection("news"))


def test_export_refuses_to_overwrite_and_ids_with_line_breaks(db_path, tmp_path):
    """An existing FILE needs --overwrite; an id holding a line break cannot go to an ids file (no
    file is left), but goes to JSONL."""
    (tmp_path / "out.jsonl").write_text("keep")
    assert_fails(run("export", db_path, "docs", tmp_path / "out.jsonl"), 1, "exists", "--overwrite")
    assert (tmp_path / "out.jsonl").read_text() == "keep"
    ok(run("export", db_path, "docs", tmp_path / "out.jsonl", "--overwrite"))
    with omendb.open(db_path) as db:
        db.collection("docs").add(["line\nbreak"], np.ones((1, DIM)))
    assert_fails(run("export", db_path, "docs", tmp_path / "v.npy"), 1, "line break")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "out.jsonl"]
    ok(run("export", db_path, "docs", tmp_path / "out.jsonl", "--overwrite"))
    assert '"line\\nbreak"' in (tmp_path / "out.jsonl").read_text()


def test_empty_collection_exports_empty_files(tmp_path):
    """An empty collection exports to files with no rows."""
    with omendb.open(tmp_path / "db") as db:
        db.collection("empty", dim=3)
    for name in ("e.npy", "e.parquet", "e.jsonl", "f.fvecs"):
        assert as_json(run("export", tmp_path / "db", "empty", tmp_path / name, "--json"))["rows"] == 0
    assert np.load(tmp_path / "e.npy").shape == (0, 3)
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 0


# --- reading other people's files ---------------------------------------------------------------


def test_npy_ids_are_row_numbers_or_prefixed(tmp_path):
    """.npy without --ids: ids are the row numbers, after --id-prefix; float64 and int arrays are
    converted to float32."""
    np.save(tmp_path / "f64.npy", np.arange(4 * DIM, dtype=np.float64).reshape(4, DIM) / 3)
    np.save(tmp_path / "ints.npy", np.arange(2 * DIM, dtype=np.int16).reshape(2, DIM))
    ok(run("import", tmp_path / "db", "a", tmp_path / "f64.npy", "--create"))
    ok(run("import", tmp_path / "db", "b", tmp_path / "ints.npy", "--id-prefix", "row-"))
    assert [r[0] for r in contents(tmp_path / "db", "a")] == ["0", "1", "2", "3"]
    assert [r[0] for r in contents(tmp_path / "db", "b")] == ["row-0", "row-1"]
    with omendb.open(tmp_path / "db", read_only=True) as db:
        assert db.collection("a").get(["3"])[0].vector.tobytes() == (np.arange(24, 32) / 3).astype(np.float32).tobytes()


def test_parquet_of_other_shapes(tmp_path):
    """Parquet with variable-length float64 lists, integer ids, a dictionary-encoded string column,
    float32 and uint8 columns, nulls (= key absent), and --metadata-columns choosing a subset."""
    table = pa.table(
        {
            "key": pa.array([10, 11, 12], pa.int64()),
            "emb": pa.array([[0.5] * 4, [1.5] * 4, [2.5] * 4], pa.list_(pa.float64())),
            "kind": pa.array(["x", "y", "x"]).dictionary_encode(),
            "weight": pa.array([0.25, None, 2.0], pa.float32()),
            "level": pa.array([1, 2, 255], pa.uint8()),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    options = ("--id-column", "key", "--vector-column", "emb")
    ok(run("import", tmp_path / "db", "all", tmp_path / "t.parquet", "--create", *options))
    ok(run("import", tmp_path / "db", "some", tmp_path / "t.parquet", *options, "--metadata-columns", "kind"))
    with omendb.open(tmp_path / "db", read_only=True) as db:
        records = db.collection("all").get(["10", "11", "12"])
        assert [r.metadata for r in records] == [
            {"kind": "x", "weight": 0.25, "level": 1},
            {"kind": "y", "level": 2},
            {"kind": "x", "weight": 2.0, "level": 255},
        ]
        assert records[2].vector.tolist() == [2.5] * 4
        assert [r.metadata for r in db.collection("some").get(["10", "11"])] == [{"kind": "x"}, {"kind": "y"}]


def test_jsonl_skips_blank_lines_and_takes_int_ids(tmp_path):
    """JSONL: blank lines are skipped, int ids become str, every other field is metadata."""
    (tmp_path / "r.jsonl").write_text('{"id": 7, "vector": [1, 2], "n": 1}\n\n  \n{"id": "b", "vector": [3.5, 4]}\n')
    ok(run("import", tmp_path / "db", "j", tmp_path / "r.jsonl", "--create"))
    with omendb.open(tmp_path / "db", read_only=True) as db:
        assert [(r.id, r.metadata) for r in db.collection("j").get(["7", "b"])] == [("7", {"n": 1}), ("b", {})]


def test_new_collection_takes_the_build_options(tmp_path):
    """--metric, --quantization, --m and --ef-construction shape a new collection; an existing one
    must match metric and quantization (exit 1 otherwise, nothing changes)."""
    np.save(tmp_path / "v.npy", np.random.default_rng(2).standard_normal((20, DIM)).astype(np.float32))
    options = ("--metric", "ip", "--quantization", "sq8", "--m", 8, "--ef-construction", 40)
    ok(run("import", tmp_path / "db", "q", tmp_path / "v.npy", "--create", *options))
    info = as_json(run("info", tmp_path / "db", "--json"))["collections"]
    assert info == [{"name": "q", "count": 20, "dim": DIM, "metric": "ip", "quantization": "sq8", "m": 8,
                     "ef_construction": 40}]
    before = fingerprint(tmp_path / "db")
    assert_fails(run("import", tmp_path / "db", "q", tmp_path / "v.npy", "--metric", "l2"), 1, "metric 'ip', not 'l2'")
    assert fingerprint(tmp_path / "db") == before


def test_create_only_in_a_new_or_empty_folder(tmp_path):
    """--create makes a database in a missing or empty folder, never among other files."""
    np.save(tmp_path / "v.npy", np.ones((2, DIM), np.float32))
    (tmp_path / "empty").mkdir()
    ok(run("import", tmp_path / "empty", "c", tmp_path / "v.npy", "--create"))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert_fails(run("import", tmp_path / "busy", "c", tmp_path / "v.npy", "--create"), 1, "not a database")
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


# --- resuming -----------------------------------------------------------------------------------


def _half_done(tmp_path: Path) -> tuple[Path, Path]:
    """A database holding the first 100 of 300 records (with other vectors), and the full file."""
    ids, vectors, metadata = sample()
    with omendb.open(tmp_path / "db") as db:
        db.collection("docs", dim=DIM).add(ids[:100], vectors[:100] + 1, metadata[:100])
    make_db(tmp_path / "source")
    ok(run("export", tmp_path / "source", "docs", tmp_path / "all.parquet"))
    return tmp_path / "db", tmp_path / "all.parquet"


def test_on_existing_error_stops_before_writing(tmp_path):
    """Default --on-existing error: ids already there stop the import before any write."""
    path, file = _half_done(tmp_path)
    before = fingerprint(path)
    assert_fails(run("import", path, "docs", file), 1, "is already in collection 'docs'", "--on-existing skip")
    assert fingerprint(path) == before


def test_on_existing_skip_resumes_and_upsert_replaces(tmp_path):
    """skip leaves the 100 records there as they are and adds the other 200; upsert then replaces
    all 300 with the file's."""
    path, file = _half_done(tmp_path)
    kept = contents(path)
    report = as_json(run("import", path, "docs", file, "--on-existing", "skip", "--batch-size", 64, "--json"))
    assert (report["written"], report["skipped"]) == (200, 100)
    now = contents(path)
    assert len(now) == 300 and set(kept) <= set(now)
    assert "0 records written" in ok(run("import", path, "docs", file, "--on-existing", "skip")).stdout
    ok(run("import", path, "docs", file, "--on-existing", "upsert"))
    assert contents(path) == contents(tmp_path / "source")


def test_interrupted_import_says_how_to_resume(tmp_path, monkeypatch):
    """Ctrl-C during the third batch: exit 130 naming the rows imported and --on-existing skip; the
    same command with --on-existing skip then imports the rest."""
    make_db(tmp_path / "source")
    ok(run("export", tmp_path / "source", "docs", tmp_path / "all.jsonl"))
    add, calls = omendb.Collection.add, []

    def interrupted_add(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return add(self, *args, **kwargs)

    monkeypatch.setattr(omendb.Collection, "add", interrupted_add)
    command = ("import", tmp_path / "db", "docs", tmp_path / "all.jsonl", "--create", "--batch-size", 50)
    assert_fails(run(*command), 130, "interrupted after 100 rows", "--on-existing skip")
    monkeypatch.setattr(omendb.Collection, "add", add)
    ok(run(*command, "--on-existing", "skip"))
    assert contents(tmp_path / "db") == contents(tmp_path / "source")


def test_a_failing_write_reports_progress_and_drops_a_new_empty_collection(db_path, tmp_path, monkeypatch):
    """A database error during the write pass ends the import with the error, the rows imported so
    far and how to resume; a collection created by the import is dropped when nothing was written."""
    np.save(tmp_path / "v.npy", np.ones((30, DIM), np.float32))
    add, calls = omendb.Collection.add, []

    def failing_add(self, *args, **kwargs):
        calls.append(1)
        if len(calls) in (1, 3):
            raise omendb.StorageError("append wal-9: No space left on device")
        return add(self, *args, **kwargs)

    monkeypatch.setattr(omendb.Collection, "add", failing_add)
    assert_fails(run("import", db_path, "fresh", tmp_path / "v.npy"), 1, "StorageError", "nothing was imported")
    with omendb.open(db_path, read_only=True) as db:
        assert db.collections() == ["docs"]
    command = ("import", db_path, "fresh", tmp_path / "v.npy", "--batch-size", 10)
    assert_fails(run(*command), 1, "No space left on device after 10 rows", "--on-existing skip")


# --- progress -----------------------------------------------------------------------------------


def test_progress_bar_shows_rate_and_eta_on_a_terminal(tmp_path):
    """On a terminal (forced here), import draws progress bars on stderr with rows/s; --quiet and a
    non-terminal stderr draw none; stdout has the summary either way."""
    np.save(tmp_path / "v.npy", np.random.default_rng(3).standard_normal((4000, DIM)).astype(np.float32))
    terminal = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "150"}
    shown = run_module(
        "import", tmp_path / "db", "c", tmp_path / "v.npy", "--create", "--batch-size", 200, env=terminal
    )
    assert shown.returncode == 0, shown.stderr
    assert "importing v.npy" in shown.stderr and "rows/s" in shown.stderr and "4000/4000" in shown.stderr
    assert "4,000 records written" in shown.stdout
    quiet = run_module("import", tmp_path / "db2", "c", tmp_path / "v.npy", "--create", "-q", env=terminal)
    piped = run_module("import", tmp_path / "db3", "c", tmp_path / "v.npy", "--create")
    assert quiet.returncode == piped.returncode == 0 and quiet.stderr == piped.stderr == ""
