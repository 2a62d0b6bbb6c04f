"""omendb import of bad files: each one is refused with exit 1 and one line naming the file, the row
(or line) and what is wrong, before anything is written, so the database is unchanged byte for
byte. Covers every format, the ids file, wrong dimensions and repeated or present ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

pytest.importorskip("pyarrow", reason="Parquet files need pyarrow: pip install 'omendb[cli]'")

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from test_cli import DIM, assert_fails, fingerprint, make_db, run  # noqa: E402


def _npy(values: np.ndarray) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        np.save(folder / "bad.npy", values)
        return folder / "bad.npy"

    return write


def _raw(name: str, data: bytes) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return write


def _vecs(fmt: str, dims: list, component: str = "<f4") -> bytes:
    """Records of the given dims (values 1), as .fvecs or .bvecs bytes."""
    return b"".join(np.int32(dim).astype("<i4").tobytes() + np.ones(dim, component).tobytes() for dim in dims)


def _parquet(columns: dict) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        pq.write_table(pa.table(columns), folder / "bad.parquet")
        return folder / "bad.parquet"

    return write


def _jsonl(*lines: str) -> Callable[[Path], Path]:
    return _raw("bad.jsonl", "\n".join(lines).encode() + b"\n")


def _good_row(i: int, **fields: object) -> str:
    return json.dumps({"id": f"r{i}", "vector": [float(i)] * DIM, **fields})


def _json_column(folder: Path, text: str) -> Path:
    """A Parquet file whose metadata column j is marked as JSON text (as export writes it)."""
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("vector", pa.list_(pa.float32())),
            pa.field("j", pa.string(), metadata={b"omendb.json": b"1"}),
        ]
    )
    pq.write_table(pa.table({"id": ["a"], "vector": [[1.0] * DIM], "j": [text]}, schema=schema), folder / "bad.parquet")
    return folder / "bad.parquet"


nan_at_5 = np.ones((8, DIM), np.float32)
nan_at_5[5, 2] = np.nan
too_big_at_3 = np.ones((6, DIM))
too_big_at_3[3, 0] = 1e39
vectors = [[1.0] * DIM, [2.0] * DIM]

BAD_FILES = {
    "npy garbage": (_raw("bad.npy", b"not an npy file"), ("bad.npy", "not a readable .npy file")),
    "npy 1-D": (_npy(np.ones(DIM, np.float32)), ("shape (8,)", "2-D")),
    "npy 3-D": (_npy(np.ones((2, 2, DIM), np.float32)), ("shape (2, 2, 8)",)),
    "npy strings": (_npy(np.array([["a"] * DIM])), ("<U1 values", "numbers")),
    "npy no rows": (_npy(np.ones((0, DIM), np.float32)), ("holds no rows",)),
    "npy NaN": (_npy(nan_at_5), ("bad.npy row 5", "NaN")),
    "npy beyond float32": (_npy(too_big_at_3), ("bad.npy row 3", "float32's range")),
    "npy wrong dim": (_npy(np.ones((3, DIM + 1), np.float32)), ("dim 9", "collection 'docs' has dim 8")),
    "fvecs truncated": (_raw("bad.fvecs", _vecs("fvecs", [DIM, DIM])[:-3]), ("not a whole number", "dim 8")),
    "fvecs ragged": (_raw("bad.fvecs", _vecs("fvecs", [DIM, DIM, 4, 12])), ("bad.fvecs row 2", "says dim 4")),
    "fvecs empty": (_raw("bad.fvecs", b""), ("holds no rows",)),
    "fvecs negative dim": (_raw("bad.fvecs", np.int32(-3).tobytes() + b"\0" * 12), ("says dim -3",)),
    "bvecs ragged": (_raw("bad.bvecs", _vecs("bvecs", [DIM, DIM + 4], "u1")), ("not a whole number",)),
    "parquet garbage": (_raw("bad.parquet", b"PAR1 nonsense"), ("not a readable Parquet file",)),
    "parquet no vector column": (_parquet({"id": ["a"], "emb": [[1.0] * DIM]}), ("no column 'vector'", "emb")),
    "parquet no id column": (_parquet({"key": ["a"], "vector": [[1.0] * DIM]}), ("no column 'id'", "--id-column")),
    "parquet vector of strings": (_parquet({"id": ["a"], "vector": ["1,2"]}), ("vector column 'vector'",)),
    "parquet ragged": (_parquet({"id": ["a", "b"], "vector": [[1.0] * DIM, [1.0] * 3]}), ("row 1", "3 components")),
    "parquet null vector": (
        _parquet({"id": ["a", "b"], "vector": pa.array([[1.0] * DIM, None], pa.list_(pa.float32()))}),
        ("row 1", "vector is null"),
    ),
    "parquet null id": (_parquet({"id": ["a", None], "vector": vectors}), ("row 1", "id is null")),
    "parquet empty id": (_parquet({"id": ["a", ""], "vector": vectors}), ("row 1", "empty id")),
    "parquet repeated id": (_parquet({"id": ["a", "a"], "vector": vectors}), ("row 1", "'a' appears earlier")),
    "parquet timestamp column": (
        _parquet({"id": ["a"], "vector": [[1.0] * DIM], "at": pa.array([0], pa.timestamp("s"))}),
        ("column 'at'", "timestamp", "cannot hold"),
    ),
    "parquet list of ints": (
        _parquet({"id": ["a"], "vector": [[1.0] * DIM], "ns": [[1, 2]]}),
        ("column 'ns'", "int64", "cannot hold"),
    ),
    "parquet NaN metadata": (
        _parquet({"id": ["a", "b"], "vector": vectors, "score": [1.0, float("nan")]}),
        ("row 1", "field 'score'", "not finite"),
    ),
    "parquet uint64 beyond int64": (
        _parquet({"id": ["a", "b"], "vector": vectors, "n": pa.array([1, 2**63], pa.uint64())}),
        ("row 1", "field 'n'", "signed 64-bit range"),
    ),
    "parquet list with a null": (
        _parquet({"id": ["a"], "vector": [[1.0] * DIM], "tags": [["x", None]]}),
        ("row 0", "field 'tags'", "list item 1 is null"),
    ),
    "parquet bad JSON column": (
        lambda folder: _json_column(folder, "{oops"),
        ("row 0", "field 'j'", "not valid JSON"),
    ),
    "parquet nested JSON value": (
        lambda folder: _json_column(folder, '{"a": 1}'),
        ("row 0", "field 'j'", "dict is not a metadata type"),
    ),
    "parquet wrong dim": (_parquet({"id": ["a"], "vector": [[1.0] * 4]}), ("dim 4", "collection 'docs' has dim 8")),
    "jsonl not JSON": (_jsonl(_good_row(0), "{oops"), ("bad.jsonl line 2", "not valid JSON")),
    "jsonl not an object": (_jsonl(_good_row(0), "[1, 2]"), ("line 2", "JSON object")),
    "jsonl no id": (_jsonl(_good_row(0), json.dumps({"vector": [1.0] * DIM})), ("line 2", "'id'", "missing")),
    "jsonl bool id": (_jsonl(json.dumps({"id": True, "vector": [1.0] * DIM})), ("line 1", "str or an int")),
    "jsonl short vector": (_jsonl(_good_row(0), json.dumps({"id": "b", "vector": [1.0]})), ("line 2", "list of 8")),
    "jsonl string in vector": (
        _jsonl(_good_row(0), json.dumps({"id": "b", "vector": ["x"] * DIM})),
        ("line 2", "list of numbers"),
    ),
    "jsonl nested metadata": (_jsonl(_good_row(0), _good_row(1, meta={"a": 1})), ("line 2", "field 'meta'", "dict")),
    "jsonl huge int": (_jsonl(_good_row(0, n=2**64)), ("line 1", "field 'n'", "signed 64-bit range")),
    "jsonl list of numbers": (_jsonl(_good_row(0, tags=[1, 2])), ("line 1", "field 'tags'", "list item 0 is int")),
    "jsonl lone surrogate": (_jsonl(_good_row(0, s="\ud800")), ("line 1", "field 's'", "lone surrogate")),
    "jsonl NaN metadata": (_jsonl(_good_row(0, x=float("nan"))), ("line 1", "field 'x'", "not finite")),
    "jsonl NUL in id": (_jsonl(json.dumps({"id": "a\0b", "vector": [1.0] * DIM})), ("line 1", "NUL")),
    "jsonl id too long": (_jsonl(json.dumps({"id": "x" * 1025, "vector": [1.0] * DIM})), ("line 1", "1,025")),
    "jsonl repeated id": (_jsonl(_good_row(0), _good_row(1), _good_row(0)), ("line 3", "'r0' appears earlier")),
    "jsonl present id": (_jsonl(_good_row(0), json.dumps({"id": "doc-7", "vector": [1.0] * DIM})), ("line 2", "doc-7")),
    "jsonl not UTF-8": (_raw("bad.jsonl", b'{"id": "\xff", "vector": [1]}\n'), ("line 1", "not UTF-8")),
}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A closed database with 300 records of dim 8 in collection "docs" (see test_cli.make_db)."""
    make_db(tmp_path / "db")
    return tmp_path / "db"


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_refused_and_changes_nothing(db_path, tmp_path, case):
    """A bad file: exit 1, one line naming the file, the row and the fault; the database's files are
    unchanged and no collection is created."""
    write, fragments = BAD_FILES[case]
    before = fingerprint(db_path)
    file = write(tmp_path)
    for collection in ("docs", "fresh"):
        if collection == "fresh" and "collection 'docs'" in " ".join(fragments):
            continue  # a dimension mismatch needs the existing collection
        if collection == "fresh" and case == "jsonl present id":
            continue  # only the existing collection holds doc-7
        assert_fails(run("import", db_path, collection, file), 1, *fragments)
    assert fingerprint(db_path) == before


def test_ids_file_must_match_the_rows(db_path, tmp_path):
    """--ids: too few ids, too many, an empty line, a repeated id or bad UTF-8: exit 1 naming the ids
    file and line; nothing changes."""
    np.save(tmp_path / "v.npy", np.ones((3, DIM), np.float32))
    before = fingerprint(db_path)
    cases = {
        "a\nb\n": "holds 2 ids; the data file has 3 rows",
        "a\nb\nc\nd\n": "holds more ids than the 3 rows",
        "a\n\nc\n": "line 2: empty id",
        "a\nb\na\n": "row 2: id 'a' appears earlier",
    }
    for text, fragment in cases.items():
        (tmp_path / "ids.txt").write_text(text)
        assert_fails(run("import", db_path, "fresh", tmp_path / "v.npy", "--ids", tmp_path / "ids.txt"), 1, fragment)
    (tmp_path / "ids.txt").write_bytes(b"a\n\xff\nc\n")
    assert_fails(run("import", db_path, "fresh", tmp_path / "v.npy", "--ids", tmp_path / "ids.txt"), 1, "not UTF-8")
    assert fingerprint(db_path) == before


def test_bad_id_prefix_is_refused(db_path, tmp_path):
    """--id-prefix that makes ids over 1,024 bytes: exit 1 before anything is written."""
    np.save(tmp_path / "v.npy", np.ones((3, DIM), np.float32))
    before = fingerprint(db_path)
    assert_fails(
        run("import", db_path, "fresh", tmp_path / "v.npy", "--id-prefix", "p" * 1024), 1, "--id-prefix", "1,025"
    )
    assert fingerprint(db_path) == before
