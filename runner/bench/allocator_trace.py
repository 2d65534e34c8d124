"""Read an allocation history (torch.cuda.memory._dump_snapshot, or the compact
gzipped one truth_rows.py --snapshot writes) and say where the caching allocator's reserve came from:
every new segment with the request that asked for it and the cached memory that
was free at that moment (in total, and its largest free block); where enough was
cached but not in one piece, the live blocks splitting each segment that could
have held the request (with the Python frames of their allocation, none for a
block allocated from C++ such as a cuBLAS workspace); and the state at the peak
of reserved memory.

  python runner/bench/allocator_trace.py SNAPSHOT.pickle [--min-mib 64]

Runs on any machine: the snapshot is a pickle of plain Python values.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import pickle
import sys
from typing import Dict, List, Tuple

MIB = 2**20
GIB = 2**30


class Memory:
    """Segments and the live blocks inside them, replayed from the trace."""

    def __init__(self) -> None:
        self.segments: Dict[int, int] = {}  # addr -> size
        self.blocks: Dict[int, int] = {}  # addr -> size, allocated
        self.origin: Dict[int, Tuple[int, dict]] = {}  # addr -> (event index, alloc event)
        self.reserved = 0
        self.allocated = 0

    def blocks_by_segment(self) -> Dict[int, List[Tuple[int, int]]]:
        """segment start -> (addr, size) of the live blocks inside it, in address order."""
        starts = sorted(self.segments)
        by_segment: Dict[int, List[Tuple[int, int]]] = {s: [] for s in starts}
        for addr, size in self.blocks.items():
            i = bisect.bisect_right(starts, addr) - 1
            if i >= 0 and addr < starts[i] + self.segments[starts[i]]:
                by_segment[starts[i]].append((addr, size))
        return {seg: sorted(blocks) for seg, blocks in by_segment.items()}

    def free_blocks(self) -> List[int]:
        """Sizes of the free ranges inside the segments (what the allocator has cached)."""
        free = []
        for seg, blocks in self.blocks_by_segment().items():
            cursor = seg
            for addr, n in blocks:
                if addr > cursor:
                    free.append(addr - cursor)
                cursor = max(cursor, addr + n)
            if seg + self.segments[seg] > cursor:
                free.append(seg + self.segments[seg] - cursor)
        return free

    def apply(self, e, index: int = -1) -> None:
        action, addr, size = e["action"], e["addr"], e["size"]
        if action in ("segment_alloc", "segment_map"):
            self.segments[addr] = size  # expandable segments: each mapped range counts as one
            self.reserved += size
        elif action in ("segment_free", "segment_unmap"):
            self.segments.pop(addr, None)
            self.reserved -= size
        elif action == "alloc":
            self.blocks[addr] = size
            self.origin[addr] = (index, e)
            self.allocated += size
        elif action == "free_completed":
            if self.blocks.pop(addr, None) is not None:
                self.origin.pop(addr, None)
                self.allocated -= size


def frame_line(e, depth: int = 4) -> str:
    frames = [f for f in e.get("frames") or [] if f.get("filename", "").endswith(".py")]
    return " < ".join(f"{f['name']} ({f['filename'].rsplit('/', 1)[-1]}:{f['line']})" for f in frames[:depth])


def why_split(memory: Memory, need: int) -> List[str]:
    """Enough was cached but not in one piece: the live blocks that split each segment
    big enough to have held the request (what to blame for the fresh segment)."""
    out = []
    for seg, blocks in memory.blocks_by_segment().items():
        if memory.segments[seg] < need:
            continue
        for addr, size in blocks:
            index, e = memory.origin.get(addr, (-1, {}))
            out.append(f"             in the {memory.segments[seg] / MIB:.0f} MiB segment: a live {size / MIB:.1f} MiB "
                       f"block from #{index} {frame_line(e)}")
    return out


def analyse(snapshot, min_mib: float) -> List[str]:
    trace = snapshot["device_traces"][0]
    memory = Memory()
    out: List[str] = []
    peak = (0, -1)
    pending = None
    for i, e in enumerate(trace):
        if pending is not None and e["action"] == "alloc":
            seg_size, free_total, free_largest = pending
            pending = None
            if seg_size >= min_mib * MIB:
                out.append(f"  #{i:>7} new segment {seg_size / MIB:9.1f} MiB for a {e['size'] / MIB:9.1f} MiB request; "
                           f"cached free then {free_total / MIB:8.1f} MiB, largest {free_largest / MIB:8.1f} MiB; "
                           f"reserved -> {memory.reserved / GIB:6.2f} GiB, allocated {memory.allocated / GIB:6.2f} GiB"
                           f"\n           {frame_line(e)}")
                if free_total >= e["size"]:
                    out.extend(why_split(memory, e["size"]))
        if e["action"] == "segment_alloc":
            free = memory.free_blocks()
            pending = (e["size"], sum(free), max(free, default=0))
        memory.apply(e, i)
        if memory.reserved > peak[0]:
            peak = (memory.reserved, i)
    out.append(f"peak reserved {peak[0] / GIB:.3f} GiB at event #{peak[1]} of {len(trace)}")
    segments = snapshot.get("segments") or []
    reserved_end = sum(s["total_size"] for s in segments)
    allocated_end = sum(s.get("allocated_size", 0) for s in segments)
    out.append(f"at the dump: {len(segments)} segments, reserved {reserved_end / GIB:.3f} GiB, "
               f"allocated {allocated_end / GIB:.3f} GiB")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("snapshot")
    ap.add_argument("--min-mib", type=float, default=64, help="list new segments of at least this size")
    a = ap.parse_args(argv)
    with (gzip.open if a.snapshot.endswith(".gz") else open)(a.snapshot, "rb") as fh:
        snapshot = pickle.load(fh)
    print("\n".join(analyse(snapshot, a.min_mib)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
