"""Attachment content on disk, addressed by SHA-256: <root>/<first two hex digits>/<sha256>.

Content-addressed, so storing the same file twice keeps one copy and a retried request writes nothing
new. A file is written to a temporary name and renamed into place, so a reader never sees half a file.
Content written for a request whose transaction then rolls back stays as an unreferenced file: harmless,
and the same content is found in place when the request is retried.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> tuple[str, int]:
        """Store `content`; (sha256 hex, size in bytes)."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return digest, len(content)

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
