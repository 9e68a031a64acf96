"""The files documents were read from, kept so that a citation can open its original.

Each file is stored once under the checksum of the text it parsed to (`Document.checksum`), in
`originals/` beside the index versions: `<checksum>` holds the bytes, `<checksum>.json` the file's
name. A file is written (temp file, then rename) before the index version that names it, so a
document in the index always has its file; files no document names any more are removed after a
write.
"""

from __future__ import annotations

import errno
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from corpus.read import detect_kind
from index.errors import StorageFull

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ofd": "application/ofd",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "rtf": "application/rtf",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
    "html": "text/html; charset=utf-8",
    "text": "text/plain; charset=utf-8",
}
_KEY = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Original:
    """A stored file: where it is, the name it was uploaded under, and its media type."""

    path: Path
    name: str
    media_type: str


class Originals:
    """The store of original files of one data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, checksum: str, data: bytes, name: str) -> None:
        """Keep `data` as the original of the document whose text has this checksum."""
        if not _KEY.match(checksum):
            raise ValueError(f"not a checksum: {checksum!r}")
        self.root.mkdir(parents=True, exist_ok=True)
        meta = json.dumps({"name": Path(name).name if name else "", "kind": detect_kind(data)}, ensure_ascii=False)
        written: list[Path] = []
        for target, payload in ((self.root / checksum, data), (self.root / f"{checksum}.json", meta.encode("utf-8"))):
            tmp = self.root / f".tmp-{uuid.uuid4().hex[:8]}"
            try:
                tmp.write_bytes(payload)
                existed = target.exists()
                os.replace(tmp, target)
                if not existed:
                    written.append(target)
            except OSError as exc:
                # half a pair is no original, and on a full disk its bytes are the space a delete needs
                for path in (tmp, *written):
                    path.unlink(missing_ok=True)
                if exc.errno == errno.ENOSPC:
                    raise StorageFull() from exc
                raise

    def get(self, checksum: str) -> Original | None:
        """The stored original, or None (a document indexed before originals were kept)."""
        if not _KEY.match(checksum or ""):
            return None
        path = self.root / checksum
        try:
            meta = json.loads((self.root / f"{checksum}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not path.is_file():
            return None
        return Original(path, str(meta.get("name") or ""), MEDIA_TYPES.get(meta.get("kind", ""), "application/octet-stream"))

    def keep_only(self, checksums: set[str]) -> int:
        """Remove the files of every other checksum (and leftovers of interrupted writes); how many."""
        removed = 0
        for path in self.root.iterdir() if self.root.is_dir() else ():
            key = path.name.removesuffix(".json")
            if path.name.startswith(".tmp-") or (_KEY.match(key) and key not in checksums):
                path.unlink(missing_ok=True)
                removed += not path.name.endswith(".json")
        return removed
