"""Why the index cannot serve: the errors the API turns into 503 and 507 responses."""

from __future__ import annotations

import errno


class Unavailable(RuntimeError):
    """Nothing can be answered until an operator acts (build the index, rebuild the model)."""


class IndexUnavailable(Unavailable):
    """An index that cannot be used: missing, not loaded, built by another model or format, or damaged."""


class ModelUnavailable(Unavailable):
    """An embedding model that cannot be used: it failed verification or lacks what the embedder needs."""


class StorageFull(OSError):
    """The disk holding the index is full: nothing was changed."""

    def __init__(self) -> None:
        super().__init__(errno.ENOSPC, "磁盘空间不足：索引未作任何修改。删除文档或清理磁盘后再试")
