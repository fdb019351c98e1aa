"""Files the piece keeps: folders that must not fill the disk over weeks (snapshots and
automatic recordings are capped, the oldest files removed first), and small files written
whole (presets, learned MIDI bindings)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)


def write_whole(path: Path, text: str) -> None:
    """`text` to `path`, whole: a temporary file beside it, synced, then renamed over it,
    so a power cut leaves the old file or the new one, never half of one. OSError when the
    folder cannot be written (nothing left behind)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cap_folder(folder: Path, pattern: str, max_mb: float, room_mb: float = 0.0) -> int:
    """Delete the oldest files matching `pattern` in `folder` until they take at most
    `max_mb` − `room_mb` MB (room for the file about to be written). Returns how many were
    deleted; a file that cannot be deleted is logged and skipped."""
    if not folder.is_dir():
        return 0
    files = sorted((p for p in folder.glob(pattern) if p.is_file()),
                   key=lambda p: p.stat().st_mtime)
    total = sum(p.stat().st_size for p in files)
    budget = max(0.0, max_mb - room_mb) * 1e6
    removed = 0
    for old in files:
        if total <= budget:
            break
        try:
            size = old.stat().st_size
            old.unlink()
        except OSError as exc:
            log.error("cannot remove %s to keep %s under %g MB: %s", old, folder, max_mb, exc)
            continue
        total -= size
        removed += 1
    if removed:
        log.info("%s: removed the %d oldest file(s) to stay under %g MB", folder, removed, max_mb)
    return removed
