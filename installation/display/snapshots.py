"""Snapshots: the shown picture as a PNG, only when `snapshots.enabled` (privacy)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from installation.display.config import SnapshotConfig
from installation.storage import cap_folder

log = logging.getLogger(__name__)


def write_snapshot(image: np.ndarray, cfg: SnapshotConfig, mirror: bool) -> Path | None:
    """Write `image` (HxWx3 uint8 RGB, mirrored first when the operator sees it mirrored)
    to `cfg.folder`, oldest snapshots removed past `cfg.max_mb`; the path, or None (said in
    the log) when snapshots are off or the file cannot be written."""
    if not cfg.enabled:
        log.info("snapshot not taken: snapshots are off (snapshots.enabled = false)")
        return None
    folder = Path(cfg.folder)
    path = folder / f"snapshot-{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}.png"
    picture = image[:, ::-1] if mirror else image
    try:
        folder.mkdir(parents=True, exist_ok=True)
        cap_folder(folder, "snapshot-*.png", cfg.max_mb, room_mb=5.0)
        ok = cv2.imwrite(str(path), cv2.cvtColor(np.ascontiguousarray(picture),
                                                 cv2.COLOR_RGB2BGR))
    except (OSError, cv2.error) as exc:
        ok, path = False, Path(f"{path} ({exc})")
    if not ok:
        log.error("snapshot not written: %s", path)
        return None
    log.info("snapshot: %s", path)
    return path
