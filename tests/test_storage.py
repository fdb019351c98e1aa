"""Capped folders: the oldest files go first, others are left alone."""

from __future__ import annotations

import os
from pathlib import Path

from installation.storage import cap_folder


def test_oldest_files_go_until_under_the_cap(tmp_path: Path) -> None:
    for i in range(5):
        f = tmp_path / f"snapshot-{i}.png"
        f.write_bytes(b"x" * 400_000)  # 0.4 MB each, 2 MB in all
        os.utime(f, (1000 + i, 1000 + i))
    (tmp_path / "keep.txt").write_bytes(b"x" * 5_000_000)  # not matched: never touched
    assert cap_folder(tmp_path, "snapshot-*.png", max_mb=1.0, room_mb=0.2) == 3
    assert sorted(p.name for p in tmp_path.glob("snapshot-*")) == ["snapshot-3.png",
                                                                    "snapshot-4.png"]
    assert (tmp_path / "keep.txt").exists()
    assert cap_folder(tmp_path, "snapshot-*.png", max_mb=1.0) == 0
    assert cap_folder(tmp_path / "missing", "*", max_mb=1.0) == 0
