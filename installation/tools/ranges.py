"""Frame ranges as the offline studies take them ("START:STOP"), parsed in one place for the
command line's `--frames` and a source's `@START:STOP`. Standard library only: the parser
imports it for every command."""

from __future__ import annotations

FrameRange = tuple[int, int | None]  # first frame, end (exclusive; None: the clip's end)


def frame_range(text: str) -> FrameRange | None:
    """"START:STOP" (either may be left out) as (start, stop), stop exclusive; None unless
    both are whole numbers, 0 <= START < STOP."""
    head, colon, tail = text.partition(":")
    try:
        start = int(head) if head.strip() else 0
        stop = int(tail) if tail.strip() else None
    except ValueError:
        return None
    if not colon or start < 0 or (stop is not None and stop <= start):
        return None
    return start, stop
