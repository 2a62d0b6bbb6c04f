"""A full disk and failing I/O, from Python (issue 16 item 5): through the engine's fault-injecting
file system (omendb._testing, for tests only), ENOSPC and EIO on the log's append and sync, in a
checkpoint's writes, its manifest rename and its directory sync, and in close(). Each raises
StorageError naming the operation, the file and the error; nothing acknowledged is lost; the
database stays readable throughout; and writes resume once the disk works again: at once after a
failed append or checkpoint, after a reopen when a sync failed (the disk's state is then unknown,
so the database refuses writes rather than guess)."""

from __future__ import annotations

import numpy as np
import pytest

import omendb
from omendb._testing import open_with_faults

DIM = 8
WORDS = {"EIO": "Input/output error", "ENOSPC": "No space left on device"}


class Model:
    """The records acknowledged so far: id -> vector."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.records: dict = {}
        self.batches = 0

    def batch(self, n: int = 20):
        self.batches += 1
        ids = [f"b{self.batches}_{i}" for i in range(n)]
        return ids, self.rng.standard_normal((n, DIM)).astype(np.float32)

    def add(self, col, n: int = 20) -> None:
        ids, vectors = self.batch(n)
        col.add(ids, vectors, [{"batch": self.batches}] * n)
        self.records.update(zip(ids, vectors))

    def check(self, col, absent=()) -> None:
        """``col`` holds exactly the acknowledged records, and reads (get, search, count) work."""
        assert len(col) == len(self.records)
        ids = list(self.records)
        got = col.get(ids)
        assert all(record is not None and record.vector.tobytes() == self.records[i].tobytes()
                   for i, record in zip(ids, got))
        assert col.get(list(absent)) == [None] * len(absent)
        some = ids[len(ids) // 2]
        assert col.search(self.records[some], k=1)[0].id == some
        assert col.count() == len(self.records)


def start(tmp_path, **options):
    db, faults = open_with_faults(tmp_path / "db", **options)
    col = db.collection("docs", dim=DIM)
    model = Model(1)
    for _ in range(3):
        model.add(col)
    return db, faults, col, model


def reopened(tmp_path, model: Model, absent=()) -> None:
    with omendb.open(tmp_path / "db") as db:
        model.check(db.collection("docs"), absent)


def expect_storage_error(call, op: str, error: str) -> str:
    with pytest.raises(omendb.StorageError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(op) and WORDS[error] in message, message
    return message


@pytest.mark.parametrize("error", ["ENOSPC", "EIO"])
def test_a_failed_log_append_refuses_the_batch_and_writes_go_on(tmp_path, error):
    db, faults, col, model = start(tmp_path)
    ids, vectors = model.batch()
    faults.fail("append", error=error)
    message = expect_storage_error(lambda: col.add(ids, vectors), "append", error)
    assert "wal-" in message
    model.check(col, absent=ids)
    faults.clear()
    model.add(col)  # no reopen needed: the failed record was cut off the log
    model.check(col, absent=ids)
    db.close()
    reopened(tmp_path, model, absent=ids)


def test_a_disk_that_fills_up_cuts_a_record_short_and_writes_resume_when_space_returns(tmp_path):
    db, faults, col, model = start(tmp_path)
    faults.disk_full(bytes_left=100)  # the next record is written in part, then ENOSPC
    ids, vectors = model.batch()
    expect_storage_error(lambda: col.add(ids, vectors), "write", "ENOSPC")
    more_ids, more_vectors = model.batch()
    expect_storage_error(lambda: col.upsert(more_ids, more_vectors), "write", "ENOSPC")
    expect_storage_error(db.checkpoint, "write", "ENOSPC")
    model.check(col, absent=ids + more_ids)
    faults.clear()  # space freed
    model.add(col)
    db.checkpoint()
    model.add(col)
    model.check(col, absent=ids + more_ids)
    db.close()
    reopened(tmp_path, model, absent=ids + more_ids)


@pytest.mark.parametrize("error", ["ENOSPC", "EIO"])
def test_a_failed_log_sync_refuses_writes_until_a_reopen(tmp_path, error):
    db, faults, col, model = start(tmp_path)
    ids, vectors = model.batch()
    faults.fail("sync", error=error)
    expect_storage_error(lambda: col.add(ids, vectors), "sync", error)
    faults.clear()
    model.check(col, absent=ids)
    later_ids, later_vectors = model.batch()
    with pytest.raises(omendb.StorageError, match="reopen"):
        col.add(later_ids, later_vectors)
    model.check(col, absent=ids + later_ids)  # still readable
    db.close()
    db, faults = open_with_faults(tmp_path / "db")
    col = db.collection("docs")
    model.check(col, absent=ids + later_ids)
    model.add(col)
    db.close()
    reopened(tmp_path, model, absent=ids + later_ids)


@pytest.mark.parametrize("error", ["ENOSPC", "EIO"])
@pytest.mark.parametrize("op", ["create", "append", "sync", "rename"])
def test_a_failed_checkpoint_changes_nothing_and_writes_go_on(tmp_path, op, error):
    """A checkpoint that fails before its new manifest is in place (a snapshot file's creation,
    write or sync, the manifest's rename) leaves the old checkpoint and the log in charge."""
    db, faults, col, model = start(tmp_path)
    faults.fail(op, error=error)
    expect_storage_error(db.checkpoint, op if op != "create" else "create", error)
    faults.clear()
    model.check(col)
    model.add(col)
    db.checkpoint()  # retried, and it works
    model.add(col)
    db.close()
    reopened(tmp_path, model)
    # The failed checkpoint's files are gone: one log, no temporary manifest.
    assert len([p for p in (tmp_path / "db").iterdir() if p.name.startswith("wal-")]) == 1
    assert not (tmp_path / "db" / "MANIFEST.tmp").exists()


@pytest.mark.parametrize("error", ["ENOSPC", "EIO"])
def test_a_failed_sync_after_the_manifest_rename_refuses_writes_until_a_reopen(tmp_path, error):
    db, faults, col, model = start(tmp_path)
    before = faults.calls("sync_dir")
    db.checkpoint()
    per_checkpoint = faults.calls("sync_dir") - before
    model.add(col)
    faults.fail("sync_dir", per_checkpoint, error=error)  # the last: the manifest's folder
    expect_storage_error(db.checkpoint, "sync_dir", error)
    faults.clear()
    ids, vectors = model.batch()
    with pytest.raises(omendb.StorageError, match="reopened"):
        col.add(ids, vectors)
    model.check(col, absent=ids)
    with pytest.raises(omendb.StorageError, match="reopened"):  # its checkpoint is refused too
        db.close()
    assert db.closed
    reopened(tmp_path, model, absent=ids)


def test_an_automatic_checkpoint_that_fails_leaves_the_write_acknowledged(tmp_path):
    """The checkpoint a full log starts after a write fails on a full disk: the write itself was
    logged and stays acknowledged; the next write retries the checkpoint."""
    db, faults, col, model = start(tmp_path, checkpoint_log_bytes=4096)
    snapshots = tmp_path / "db" / "collections" / "docs"
    faults.fail("create", and_later=True, error="ENOSPC")  # no new file: no snapshot, no log
    for _ in range(4):
        model.add(col)
    model.check(col)
    assert not snapshots.exists()
    faults.clear()
    model.add(col)
    assert len(list(snapshots.iterdir())) == 5  # the checkpoint ran: vectors, graph, ids, ...
    db.close()
    reopened(tmp_path, model)


@pytest.mark.parametrize("error", ["ENOSPC", "EIO"])
def test_close_reports_a_failed_checkpoint_and_the_log_keeps_everything(tmp_path, error):
    db, faults, col, model = start(tmp_path)
    faults.fail("sync", error=error, and_later=True)
    expect_storage_error(db.close, "sync", error)
    assert db.closed
    reopened(tmp_path, model)


def test_fault_arguments_are_checked(tmp_path):
    db, faults, col, model = start(tmp_path)
    with pytest.raises(omendb.InvalidArgumentError, match="op must be"):
        faults.fail("fsync")
    with pytest.raises(omendb.InvalidArgumentError, match="error must be"):
        faults.fail("sync", error="EPERM")
    db.close()
