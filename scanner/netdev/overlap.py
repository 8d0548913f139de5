"""An index of IPv4 intervals by aligned prefix blocks: which stored entries overlap a range, without a scan.

An interval is cut into the aligned blocks (prefixes) that cover it exactly. Two aligned blocks
either nest or are disjoint, so the entries overlapping a query block are those stored at it or
at one of its at most 32 ancestors, and those stored strictly inside it (kept per block as they
are added). A lookup costs the blocks walked plus what it returns, not the number of entries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from scanner.netdev.model import Range

Block = tuple[int, int]  # prefix length, first address


def blocks(r: Range) -> list[Block]:
    """Return the aligned blocks that cover an interval exactly, in address order.

    >>> blocks((10, 17))
    [(31, 10), (30, 12), (31, 16)]
    """
    out: list[Block] = []
    lo, hi = r
    while lo <= hi:
        size = lo & -lo if lo else 1 << 32
        while size > hi - lo + 1:
            size >>= 1
        out.append((33 - size.bit_length(), lo))
        lo += size
    return out


def _up(block: Block, length: int) -> Block:
    """Return the ancestor of a block at a shorter prefix length."""
    return length, block[1] >> (32 - length) << (32 - length)


class Index:
    """Entries (by key) with their intervals; ``overlapping`` returns the keys whose intervals meet a range."""

    def __init__(self) -> None:
        self._at: defaultdict[Block, list[int]] = defaultdict(list)
        self._inside: defaultdict[Block, list[int]] = defaultdict(list)

    def add(self, key: int, ranges: Iterable[Range]) -> None:
        for r in ranges:
            for block in blocks(r):
                self._at[block].append(key)
                for length in range(block[0]):
                    self._inside[_up(block, length)].append(key)

    def _lists(self, ranges: Iterable[Range]) -> Iterable[list[int]]:
        for r in ranges:
            for block in blocks(r):
                yield from (self._at.get(_up(block, length), []) for length in range(block[0] + 1))
                yield self._inside.get(block, [])

    def size(self, ranges: Iterable[Range]) -> int:
        """Return how many keys a lookup would go through (an upper bound of what it returns)."""
        return sum(len(keys) for keys in self._lists(ranges))

    def overlapping(self, ranges: Iterable[Range]) -> set[int]:
        """Return the keys of the entries whose intervals overlap any of ``ranges``."""
        return {key for keys in self._lists(ranges) for key in keys}
