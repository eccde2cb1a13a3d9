"""Storage failures as the layers above see them; no driver exception crosses `storage/`."""


class StorageError(Exception):
    """The database could not complete the operation (connection lost, timeout, driver error)."""


class ConflictError(StorageError):
    """A uniqueness or integrity rule refused the write; nothing was written."""


class NotFoundError(StorageError):
    """The addressed row does not exist."""
