"""Bulk load of a ray.data.Dataset into a distributed collection: Ray runs one task per block
(in parallel over the cluster); each task converts its rows, splits them by shard and writes each
part to its shard's primary, as Collection.add/upsert would."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .._errors import Error, InvalidArgumentError


def add_dataset(
    collection,
    dataset,
    *,
    id_column: str,
    vector_column: str,
    metadata_columns: Optional[Sequence[str]] = None,
    batch_size: int = 10_000,
    upsert: bool = False,
    progress: bool = True,
) -> int:
    """Writes every row of ``dataset`` (ids in ``id_column``, str; vectors in ``vector_column``,
    fixed-size lists or tensors of dim numbers; metadata from ``metadata_columns``) in batches of
    ``batch_size`` rows; returns the rows written. upsert=True replaces existing ids (a load that
    can be run again after an interruption); else a batch holding an existing id raises
    DuplicateIdError. An error stops the load and is raised with its own type; the batches
    written by then (blocks run in parallel: not only those before the failing one) stay."""
    columns = [id_column, vector_column, *(metadata_columns or [])]
    missing = [name for name in columns if name not in dataset.schema().names]
    if missing:
        raise InvalidArgumentError(f"the dataset has no column {missing[0]!r}; it has {dataset.schema().names}")
    metadata_columns = list(metadata_columns or [])

    def load(table) -> dict:
        # Ray Data passes a task's exception on as text only: an engine error comes back as data,
        # and the driver raises it with its own type.
        try:
            ids = table.column(id_column).to_pylist()
            vectors = _matrix(table.column(vector_column))
            metadata = None
            if metadata_columns:
                values = {name: table.column(name).to_pylist() for name in metadata_columns}
                metadata = [{name: values[name][i] for name in metadata_columns} for i in range(len(ids))]
            (collection.upsert if upsert else collection.add)(ids, vectors, metadata)
            return {"rows": np.array([len(ids)]), "error": np.array([""]), "message": np.array([""])}
        except Error as error:
            return {"rows": np.array([0]), "error": np.array([type(error).__name__]), "message": np.array([str(error)])}

    written = dataset.select_columns(columns).map_batches(load, batch_size=batch_size, batch_format="pyarrow")
    bar = _progress_bar(dataset) if progress else None
    total = 0
    try:
        for batch in written.iter_batches(batch_size=None, batch_format="numpy"):
            failed = [i for i, name in enumerate(batch["error"]) if name]
            if failed:  # leaving the loop stops the load
                raise _error_class(str(batch["error"][failed[0]]))(str(batch["message"][failed[0]]))
            rows = int(np.sum(batch["rows"]))
            total += rows
            if bar is not None:
                bar.update(rows)
    finally:
        if bar is not None:
            bar.close()
    return total


def _error_class(name: str) -> type:
    """The omendb error class called ``name`` (omendb.Error when there is none)."""
    from .. import _errors
    from ._shards import ShardUnavailableError

    found = getattr(_errors, name, None) if name != "ShardUnavailableError" else ShardUnavailableError
    return found if isinstance(found, type) and issubclass(found, Error) else Error


def _matrix(column) -> np.ndarray:
    """A (rows, dim) float array from a fixed-size list, list or tensor column."""
    import pyarrow as pa

    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_fixed_size_list(column.type):
        return column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), column.type.list_size)
    values = column.to_numpy(zero_copy_only=False)
    return np.stack(values) if values.dtype == object else values


def _progress_bar(dataset: Any):
    from tqdm.auto import tqdm

    return tqdm(total=dataset.count(), unit="rows", desc="omendb add_dataset")
