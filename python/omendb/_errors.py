"""The exceptions OmenDB raises. Every one subclasses omendb.Error."""


class Error(Exception):
    """Base class of every OmenDB error."""


class InvalidArgumentError(Error, ValueError):
    """An argument is malformed: NaN or infinite values, empty ids, k <= 0, mismatched lengths..."""


class DimensionError(Error, ValueError):
    """A vector's length differs from the collection's dimension."""


class DuplicateIdError(Error, ValueError):
    """An id exists already or appears twice in one batch."""


class NotFoundError(Error, KeyError):
    """A collection that does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ClosedError(Error):
    """The database or collection was closed (or the collection dropped)."""


class NotSupportedError(Error):
    """A feature this build does not provide yet."""


class StorageError(Error, OSError):
    """The operating system refused a file operation (full disk, permissions, ...)."""


class CorruptionError(Error):
    """Stored data failed a check (magic, version, length or checksum)."""


class LockedError(Error):
    """Another process holds the database's write lock."""


class ReadOnlyError(Error):
    """A write on a database opened read-only."""


class FilterError(Error, ValueError):
    """A malformed filter: unknown operator, wrong operand type, syntax error (with position)."""
