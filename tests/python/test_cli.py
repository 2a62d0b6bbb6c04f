"""The omendb command: every command on a small database, --json output, and the errors that need
no input file (missing folder, missing collection, locked database, bad command lines), each one
line on stderr with exit code 1 or 2 and no change to the database. Import and export are covered by
test_cli_formats.py, bad input files by test_cli_bad_input.py; the helpers here serve both."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omendb

pytest.importorskip("click", reason="the CLI needs click: pip install 'omendb[cli]'")
pytest.importorskip("rich", reason="the CLI needs rich: pip install 'omendb[cli]'")

from click.testing import CliRunner, Result  # noqa: E402

from omendb.cli import cli  # noqa: E402

DIM = 8


# --- helpers (test_cli_formats.py and test_cli_bad_input.py import them) -------------------------


def run(*args: object) -> Result:
    """Run the omendb command in this process; a Python exception other than an exit is re-raised."""
    try:
        runner = CliRunner(mix_stderr=False)  # click < 8.2 mixes stderr into stdout by default
    except TypeError:
        runner = CliRunner()
    result = runner.invoke(cli, [str(arg) for arg in args], prog_name="omendb")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def run_module(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m omendb`` in a child process, as users do."""
    return subprocess.run(
        [sys.executable, "-m", "omendb", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def ok(result: Result) -> Result:
    """``result`` after checking that the command succeeded."""
    assert result.exit_code == 0, result.stderr
    return result


def as_json(result: Result) -> dict:
    """The JSON object a successful --json command printed."""
    return json.loads(ok(result).stdout)


def assert_fails(result: Result | subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    """The command failed with exit ``code``, printing nothing on stdout and one line on stderr,
    ``Error: ...``, holding every fragment."""
    exit_code = getattr(result, "exit_code", getattr(result, "returncode", None))
    lines = result.stderr.strip().splitlines()
    assert exit_code == code, result.stderr
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0]


def fingerprint(folder: Path) -> dict:
    """Every file under ``folder``: its SHA-256 (so any change to the database shows)."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def sample(n: int = 300, dim: int = DIM, seed: int = 0) -> tuple[list, np.ndarray, list]:
    """Records whose metadata uses every OmenDB type: ids, float32 vectors, metadata dicts. Some keys
    are absent in some records, one holds None, one mixes int, str and float."""
    rng = np.random.default_rng(seed)
    ids = [f"doc-{i}" for i in range(n)]
    ids[1], ids[2] = "ünïcødé 1", 'with "quotes", commas and spaces'
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    metadata = []
    for i in range(n):
        record = {"year": 2000 + i % 25, "tag": ["news", "blog", "misc"][i % 3], "flag": i % 2 == 0}
        record["tags"] = [] if i % 13 == 0 else ["a", "b"][: 1 + i % 2]
        if i % 7:
            record["score"] = float(rng.random())
        if i % 5 == 0:
            record["maybe"] = None
        if i % 11 < 3:
            record["mixed"] = [1, "one", 1.0][i % 11]
        metadata.append(record)
    metadata[0] = {}
    metadata[3]["big"], metadata[4]["big"] = 2**63 - 1, -(2**63)
    metadata[5]["text"] = "ünïcødé ✓"
    return ids, vectors, metadata


def make_db(path: Path, name: str = "docs", n: int = 300, **options: object) -> tuple[list, np.ndarray, list]:
    """A database at ``path`` holding ``sample(n)`` in collection ``name``, closed; returns the sample."""
    ids, vectors, metadata = sample(n)
    with omendb.open(path) as db:
        db.collection(name, dim=DIM, **options).add(ids, vectors, metadata)
    return ids, vectors, metadata


def canonical(records: list) -> list:
    """Records as comparable tuples: id, vector bytes, metadata with each value's type, sorted by id."""
    return sorted(
        (r.id, r.vector.tobytes(), tuple(sorted((k, type(v).__name__, repr(v)) for k, v in r.metadata.items())))
        for r in records
    )


def contents(path: Path, name: str = "docs") -> list:
    """The canonical records of collection ``name`` of the database at ``path``."""
    with omendb.open(path, read_only=True) as db:
        return canonical(db.collection(name).get(where={}))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A closed database with 300 records of dim 8 in collection "docs"."""
    path = tmp_path / "db"
    make_db(path)
    return path


# --- commands that work -------------------------------------------------------------------------


def test_help_lists_every_command():
    """omendb --help names all seven commands."""
    out = ok(run("--help")).stdout
    for command in ("info", "import", "export", "search", "check", "compact", "checkpoint"):
        assert command in out


def test_python_dash_m_runs_the_command(db_path):
    """python -m omendb is the command: --version, and info --json in a child process."""
    version = run_module("--version")
    assert version.returncode == 0 and omendb.__version__ in version.stdout
    info = run_module("info", db_path, "--json")
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["collections"][0]["count"] == 300


def test_info_reports_collections_settings_and_files(db_path):
    """info --json: each collection's size and settings, and every file with its size on disk."""
    with omendb.open(db_path) as db:
        db.collection("quantized", dim=4, metric="ip", quantization="sq8").add(["a"], [[1, 2, 3, 4]])
    report = as_json(run("info", db_path, "--json"))
    assert report["collections"] == [
        {"name": "docs", "count": 300, "dim": DIM, "metric": "l2", "quantization": "sq8", "m": 16,
         "ef_construction": 100},
        {"name": "quantized", "count": 1, "dim": 4, "metric": "ip", "quantization": "sq8", "m": 16,
         "ef_construction": 100},
    ]
    on_disk = {p.relative_to(db_path).as_posix(): p.stat().st_size for p in db_path.rglob("*") if p.is_file()}
    assert {f["path"]: f["bytes"] for f in report["files"]} == on_disk
    assert report["bytes"] == sum(on_disk.values())
    assert "MANIFEST" in on_disk


def test_info_prints_tables(db_path):
    """info without --json prints the collections and files as tables."""
    out = ok(run("info", db_path)).stdout
    assert "docs" in out and "300" in out and "MANIFEST" in out and "files" in out


def test_search_by_vector_finds_the_record_itself(db_path):
    """search --vector with a stored vector: that record comes first at distance 0, as a table and
    as JSON with metadata."""
    ids, vectors, metadata = sample()
    query = ",".join(repr(float(x)) for x in vectors[10])
    table = ok(run("search", db_path, "docs", "--vector", query, "-k", 3)).stdout
    assert ids[10] in table
    found = as_json(run("search", db_path, "docs", "--vector", f"[{query}]", "--k", 3, "--json"))
    hits = found["queries"][0]["hits"]
    assert len(hits) == 3 and hits[0]["id"] == ids[10] and hits[0]["distance"] == 0
    assert hits[0]["metadata"] == metadata[10]


def test_search_from_file_with_filters(db_path, tmp_path):
    """search --from FILE runs each row; --where takes the string form and the JSON dict form."""
    _, vectors, metadata = sample()
    np.save(tmp_path / "queries.npy", vectors[:3])
    for where in ("tag = 'news'", '{"tag": "news"}'):
        found = as_json(run("search", db_path, "docs", "--from", tmp_path / "queries.npy", "--where", where, "--json"))
        assert len(found["queries"]) == 3
        assert all(hit["metadata"]["tag"] == "news" for query in found["queries"] for hit in query["hits"])
    exact = as_json(run("search", db_path, "docs", "--from", tmp_path / "queries.npy", "--exact", "-k", 1, "--json"))
    assert [query["hits"][0]["id"] for query in exact["queries"]] == ["doc-0", "ünïcødé 1", sample()[0][2]]


def test_check_reads_everything_back(db_path):
    """check --json: ok, with every collection's record count and the files verified."""
    report = as_json(run("check", db_path, "--json"))
    assert report["ok"] is True and report["collections"][0]["records"] == 300
    assert report["files"] == len(fingerprint(db_path))
    assert "300 records read back" in ok(run("check", db_path)).stdout


def test_check_reports_a_damaged_snapshot(db_path):
    """check on a database with one flipped byte in a snapshot file: exit 1, CorruptionError."""
    vectors_file = next(db_path.glob("collections/docs/*.vectors"))
    data = bytearray(vectors_file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    vectors_file.write_bytes(bytes(data))
    assert_fails(run("check", db_path), 1, "CorruptionError")


def test_compact_reclaims_deleted_slots(db_path):
    """compact --json reports the slots each collection reclaimed."""
    with omendb.open(db_path) as db:
        db.collection("docs").delete([f"doc-{i}" for i in range(10, 40)])
    report = as_json(run("compact", db_path, "docs", "--json"))
    assert report["collections"] == [{"name": "docs", "reclaimed": 30}]
    assert "docs" in ok(run("compact", db_path)).stdout


def test_checkpoint_replaces_the_log_with_snapshots(tmp_path):
    """checkpoint after a writer died without closing: the log's records move into snapshot files."""
    path = tmp_path / "db"
    script = (
        "import omendb, os, sys; db = omendb.open(sys.argv[1]); "
        "db.collection('x', dim=2).add(['a'], [[1, 2]]); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=60)
    assert not list(path.glob("collections/x/*"))
    assert as_json(run("checkpoint", path, "--json")) == {"path": str(path), "checkpointed": True}
    assert list(path.glob("collections/x/*.vectors"))
    assert contents(path, "x")[0][0] == "a"


# --- errors -------------------------------------------------------------------------------------

READ_COMMANDS = [("info",), ("check",), ("search", "docs", "--vector", "1,2"), ("export", "docs", "OUT")]
WRITE_COMMANDS = [("compact",), ("checkpoint",)]


@pytest.mark.parametrize("command", READ_COMMANDS + WRITE_COMMANDS + [("import", "docs", "FILE")])
def test_missing_folder_is_not_created(tmp_path, command):
    """Every command on a missing folder: exit 1, 'no database at', and no folder appears."""
    np.save(tmp_path / "v.npy", np.ones((2, DIM), np.float32))
    names = {"FILE": tmp_path / "v.npy", "OUT": tmp_path / "out.npy"}
    args = [names.get(arg, arg) for arg in command[1:]]
    assert_fails(run(command[0], tmp_path / "missing", *args), 1, "no database at", "no such folder")
    assert not (tmp_path / "missing").exists() and not (tmp_path / "out.npy").exists()


@pytest.mark.parametrize("command", READ_COMMANDS + WRITE_COMMANDS)
def test_folder_without_manifest_is_left_alone(tmp_path, command):
    """A folder that is not a database: exit 1, and its files are untouched."""
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    args = [tmp_path / "out.npy" if arg == "OUT" else arg for arg in command[1:]]
    assert_fails(run(command[0], folder, *args), 1, "no database at", "no MANIFEST")
    assert fingerprint(folder) == {"notes.txt": hashlib.sha256(b"mine").hexdigest()}


@pytest.mark.parametrize(
    "command", [("search", "nope", "--vector", "1,2"), ("export", "nope", "out.npy"), ("compact", "nope")]
)
def test_missing_collection_names_the_ones_there(db_path, tmp_path, command):
    """A collection that does not exist: exit 1, the message lists the collections; nothing changes."""
    before = fingerprint(db_path)
    args = [tmp_path / arg if arg.endswith(".npy") else arg for arg in command[1:]]
    assert_fails(run(command[0], db_path, *args), 1, "no collection 'nope'", "'docs'")
    assert fingerprint(db_path) == before
    assert not (tmp_path / "out.npy").exists()


def test_locked_database_refuses_writers_and_serves_readers(db_path, tmp_path):
    """While another handle writes the folder, import/compact/checkpoint fail with LockedError (one
    line, exit 1, also from a child process) and info/search/export/check still work."""
    np.save(tmp_path / "more.npy", np.ones((5, DIM), np.float32))
    with omendb.open(db_path):
        before = fingerprint(db_path)
        assert_fails(
            run_module("import", db_path, "docs", tmp_path / "more.npy", "--id-prefix", "new-"), 1, "LockedError"
        )
        for command in (("compact",), ("checkpoint",), ("import", "docs", tmp_path / "more.npy", "--id-prefix", "x")):
            assert_fails(run(command[0], db_path, *command[1:]), 1, "LockedError", "already open for writing")
        ok(run("info", db_path))
        ok(run("search", db_path, "docs", "--vector", ",".join(["1"] * DIM)))
        ok(run("export", db_path, "docs", tmp_path / "out.jsonl"))
        ok(run("check", db_path))
        assert fingerprint(db_path) == before


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("bogus",), "No such command 'bogus'"),
        (("info",), "Missing argument 'PATH'"),
        (("import", "db", "docs", "missing.npy"), "does not exist"),
        (("import", "db", "docs", "{npy}", "--on-existing", "sometimes"), "'sometimes' is not one of"),
        (("import", "db", "docs", "{npy}", "--batch-size", "0"), "--batch-size"),
        (("import", "db", "docs", "{npy}", "--metadata-columns", "a"), "--metadata-columns goes with"),
        (("import", "db", "docs", "{npy}", "--metric", "manhattan"), "metric must be"),
        (("import", "db", "bad name!", "{npy}"), "collection name may hold only"),
        (("import", "db", "docs", "{txt}"), "cannot tell the format"),
        (("search", "{db}", "docs"), "--vector or with --from"),
        (("search", "{db}", "docs", "--vector", "1,x"), "'x' is not a number"),
        (("search", "{db}", "docs", "--vector", "1,2,3,4,5,6,7,8", "--where", "year >"), "invalid --where filter"),
        (("search", "{db}", "docs", "--vector", "1,2", "--where", "{year"), "must be a JSON object"),
        (("export", "{db}", "docs", "out.jsonl", "--where", "year >"), "invalid --where filter"),
        (("export", "{db}", "docs", "out.parquet", "--ids", "ids.txt"), "--ids goes with"),
    ],
)
def test_usage_errors_exit_2_on_one_line(db_path, tmp_path, args, fragment):
    """Command-line mistakes: exit 2, one line naming the mistake (and where --help is)."""
    np.save(tmp_path / "v.npy", np.ones((2, DIM), np.float32))
    (tmp_path / "v.txt").write_text("1 2")
    before = fingerprint(db_path)
    names = {"{npy}": tmp_path / "v.npy", "{txt}": tmp_path / "v.txt", "{db}": db_path, "db": tmp_path / "new"}
    names.update({name: tmp_path / name for name in ("out.parquet", "out.jsonl", "ids.txt")})
    assert_fails(run(*(names.get(arg, arg) for arg in args)), 2, fragment)
    assert fingerprint(db_path) == before
    assert not (tmp_path / "new").exists()


def test_usage_error_from_a_child_process_is_one_line():
    """python -m omendb with a bad option: exit 2, one line on stderr."""
    assert_fails(run_module("info", "--no-such-option"), 2, "No such option")


def test_search_dimension_mismatch_exits_1(db_path):
    """A query of the wrong length: exit 1, DimensionError naming both dims."""
    assert_fails(run("search", db_path, "docs", "--vector", "1,2,3"), 1, "DimensionError", "dim=8")
