"""Sets of words read, for the read buffer model: open-addressing hash tables walked by compilable loops.

The read buffer model asks two questions of millions of trace reads at a time: after which read does a
flush interval hold ``capacity`` distinct words (:func:`add_until`), and is any word read twice within a
distance (:func:`close_pair_in`, :func:`close_across`). Sorting answers both (``O(n log n)``, the model's
first version); a hash table answers them in one pass. The loops are plain Python over int64 arrays,
marked :func:`accelsim.jit.compilable`: the model runs them compiled by Numba (:func:`accelsim.jit.compiled`,
imported on first use), the tests also run them interpreted and compare.

A table is an int64 array of ``2**k`` slots, ``-1`` where empty (addresses are never negative), probed
linearly. A slot's home keeps 64 consecutive addresses together (the trace reads runs of neighbouring
words: one cache line serves eight of them) and scatters the blocks of 64 by a multiplicative hash, so
that regularly spaced blocks (channels, rows of the input) do not pile up on one stretch of the table.
Which slot a word lands in changes only the speed, never an answer.
"""

from __future__ import annotations

import numpy as np

from accelsim.jit import compilable, compiled

EMPTY = -1
SPANS = 1 << 16  # stretches of words a set lists for its clear; past that it wipes its whole bitmap
DENSE_WORDS = 1 << 22  # the widest span of words given a table indexed by word (int64: 32 MiB)
BITMAP_WORDS = 1 << 30  # the widest span of words kept as a bitmap (128 MiB); wider ones are hashed
_MIX = 0x9E3779B1  # Knuth's multiplicative hash constant (2**32 / golden ratio)
_LOW30 = (1 << 30) - 1  # a block number is cut to 30 bits, so that its product with _MIX fits in int64


@compilable
def home(a, mask):
    """The slot where the probe for address ``a`` starts, in a table of ``mask + 1`` slots."""
    block = ((((a >> 6) & _LOW30) * _MIX) >> 20) << 6
    return (block | (a & 63)) & mask


@compilable
def find(keys, a):
    """The slot holding ``a``, or the empty slot where it would go."""
    mask = len(keys) - 1
    h = home(a, mask)
    while keys[h] != a and keys[h] != EMPTY:
        h = (h + 1) & mask
    return h


@compilable
def add_until(keys, used, count, addr, need):
    """Add the words of ``addr`` to the set in ``keys`` (``count`` words, in the slots ``used[:count]``)
    one by one until it holds ``need``: ``(i, count)``, ``i`` the number of reads taken (all of ``addr`` if
    the set never reached ``need``) and ``count`` the words held then."""
    for i in range(len(addr)):
        a = addr[i]
        h = find(keys, a)
        if keys[h] == EMPTY:
            keys[h] = a
            used[count] = h
            count += 1
            if count == need:
                return i + 1, count
    return len(addr), count


@compilable
def clear(keys, used, count):
    """Empty the set: only the slots it used are written."""
    for j in range(count):
        keys[used[j]] = EMPTY


@compilable
def add_bits_until(bits, lo, used, count, addr, need):
    """:func:`add_until` on a bitmap: word ``a`` is bit ``a - lo``."""
    for i in range(len(addr)):
        a = addr[i] - lo
        bit = 1 << (a & 7)
        if bits[a >> 3] & bit == 0:
            bits[a >> 3] |= bit
            used[count] = a
            count += 1
            if count == need:
                return i + 1, count
    return len(addr), count


@compilable
def clear_bits(bits, used, count):
    """Empty a bitmap set: only the bytes it used are written."""
    for j in range(count):
        bits[used[j] >> 3] = 0


POP = np.array([bin(b).count("1") for b in range(256)], np.int64)  # ones in a byte


@compilable
def bits_in(table, a, b, value):
    """Bits ``a`` to ``b - 1`` of a bitmap: how many are set, then all set to ``value`` (0, 1; -1 leaves
    them as they are)."""
    n = 0
    while a < b and (a & 7 != 0 or a + 8 > b):  # single bits up to a whole byte
        n += (table[a >> 3] >> (a & 7)) & 1
        if value == 1:
            table[a >> 3] |= 1 << (a & 7)
        elif value == 0:
            table[a >> 3] &= 255 - (1 << (a & 7))
        a += 1
    while a + 8 <= b:  # whole bytes
        n += POP[table[a >> 3]]
        if value >= 0:
            table[a >> 3] = 255 * value
        a += 8
    while a < b:
        n += (table[a >> 3] >> (a & 7)) & 1
        if value == 1:
            table[a >> 3] |= 1 << (a & 7)
        elif value == 0:
            table[a >> 3] &= 255 - (1 << (a & 7))
        a += 1
    return n


@compilable
def clear_spans(table, spans):
    """Clear the stretches of bits listed in ``spans`` (``spans[0]`` pairs from ``spans[2]``)."""
    for k in range(spans[0]):
        bits_in(table, spans[2 + 2 * k], spans[3 + 2 * k], 0)


@compilable
def close_across_bits(left, right, distance, bits, lo):
    """:func:`close_across` with a bitmap (``bits``, zero; word ``a`` at bit ``a - lo``, any word of both
    ``left`` and ``right`` in it) of the words read in what is left of ``left`` after its first reads:
    read ``j`` of ``right`` closes a pair if its word is read in ``left`` after read
    ``len(left) - distance + j``, so as ``j`` goes on, ``left``'s reads up to there leave the bitmap (a
    word when its last read does: marked in a first pass, backwards)."""
    last = np.zeros(len(left), np.uint8)  # 1: the last read of its word in `left`
    for i in range(len(left) - 1, -1, -1):
        a = left[i] - lo
        if a < 0 or (a >> 3) >= len(bits):  # outside the bitmap: not a word of `right`
            continue
        bit = 1 << (a & 7)
        if bits[a >> 3] & bit == 0:
            bits[a >> 3] |= bit
            last[i] = 1
    gone = len(left) - distance  # reads of `left` up to this one are too far from right[j] (j = 0)
    for j in range(-len(left), min(len(right), distance)):
        i = gone + j  # (j < 0: the reads too far from all of `right`)
        if 0 <= i < len(left) and last[i] == 1:
            a = left[i] - lo
            bits[a >> 3] &= 255 - (1 << (a & 7))
        if j < 0:
            continue
        a = right[j] - lo
        if a >= 0 and (a >> 3) < len(bits) and bits[a >> 3] & (1 << (a & 7)) != 0:
            return True
    return False


@compilable
def close_between_copies(child, lo, step, most, distance, latest):
    """Whether read ``j`` of a copy, ``d`` copies (1 to ``most``) after read ``i`` of another, reads the same
    word (``child[i] = child[j] + d * step``) fewer than ``distance`` reads after it (``d * L + j - i``).
    ``latest[w - lo]``: 1 + the last read of word ``w`` in the child (0: none)."""
    size = len(child)
    for d in range(1, most + 1):
        for j in range(size):
            t = child[j] - lo + d * step
            if 0 <= t < len(latest) and latest[t] > 0 and d * size + j - (latest[t] - 1) < distance:
                return True
    return False


@compilable
def close_pair_dense(addr, lo, distance, latest):
    """:func:`close_pair_in` with a table indexed by word (``latest[a - lo]``: 1 + the last read of word
    ``a`` so far, 0 for none; zero to begin with)."""
    for i in range(len(addr)):
        t = addr[i] - lo
        if latest[t] > 0 and i - (latest[t] - 1) < distance:
            return True
        latest[t] = i + 1
    return False


@compilable
def close_pair_in(addr, distance, block, keys, last, used):
    """Whether two consecutive reads of one address in ``addr`` lie fewer than ``distance`` reads apart.

    ``addr`` is taken in blocks of ``block`` reads, each after the ``distance`` reads before it (where
    all pairs that end in the block start): the table holds the words of ``distance + block`` reads at
    most (``len(used)``; ``len(keys)`` larger). ``last[slot]``: the last read of the slot's word so far."""
    n = len(addr)
    for lo in range(0, n, block):
        count = 0
        for i in range(max(0, lo - distance), min(n, lo + block)):
            a = addr[i]
            h = find(keys, a)
            if keys[h] == EMPTY:
                keys[h] = a
                used[count] = h
                count += 1
            elif i >= lo and i - last[h] < distance:
                clear(keys, used, count)
                return True
            last[h] = i
        clear(keys, used, count)
    return False


@compilable
def close_across(left, right, distance, keys, last, used):
    """Whether a word read in ``left`` (the reads just before a boundary) is read in ``right`` (those just
    after it) fewer than ``distance`` reads after its last read in ``left``. ``len(keys) > len(left)``."""
    count = 0
    for i in range(len(left)):
        h = find(keys, left[i])
        if keys[h] == EMPTY:
            keys[h] = left[i]
            used[count] = h
            count += 1
        last[h] = i
    found = False
    for j in range(len(right)):
        h = find(keys, right[j])
        if keys[h] != EMPTY and len(left) - last[h] + j < distance:
            found = True
            break
    clear(keys, used, count)
    return found


def table_slots(words: int) -> int:
    """A table size (a power of two) keeping the load under 0.7 with ``words`` words held."""
    return 1 << max(6, (10 * max(words, 1) // 7).bit_length())


class WordSet:
    """A set of at most ``capacity`` words from ``lo`` to ``hi``, and the list of slots it used (for a
    cheap ``clear``): a bitmap if they span at most :data:`BITMAP_WORDS`, else a hash table. ``fast``
    selects the compiled loops (else the same loops interpreted)."""

    def __init__(self, capacity: int, lo: int, hi: int, fast: bool = True) -> None:
        self.used = np.empty(capacity, np.int64)
        # stretches of words added at once (by .walk): how many (-1: too many to list), their words, pairs
        self.spans = np.zeros(2 + 2 * SPANS, np.int64)
        self.count, self.capacity, self.lo = 0, capacity, lo
        self.bitmap = hi - lo < BITMAP_WORDS
        if self.bitmap:
            self.table = np.zeros((hi - lo) // 8 + 1, np.uint8)
            add, clear_fn = add_bits_until, clear_bits
        else:
            self.table = np.full(table_slots(capacity), EMPTY, np.int64)
            add, clear_fn = add_until, clear
        self._add, self._clear = (compiled(add), compiled(clear_fn)) if fast else (add, clear_fn)
        self._clear_spans = compiled(clear_spans) if fast else clear_spans

    def add_until(self, addr: np.ndarray) -> int:
        """Add reads of ``addr`` until the set holds ``capacity`` words; how many reads were taken."""
        if self.bitmap:
            taken, self.count = self._add(self.table, self.lo, self.used, self.count, addr, self.capacity)
        else:
            taken, self.count = self._add(self.table, self.used, self.count, addr, self.capacity)
        return int(taken)

    def clear(self) -> None:
        if self.bitmap and (self.count > len(self.table) // 16 or self.spans[0] < 0):  # wipe it all
            self.table.fill(0)
        else:
            self._clear(self.table, self.used, self.count - int(self.spans[1]))
            if self.spans[0]:
                self._clear_spans(self.table, self.spans)
        self.count = 0
        self.spans[:2] = 0


def has_close_pair_in(addr: np.ndarray, distance: int, fast: bool = True) -> bool:
    """:func:`close_pair_dense` if the words span under :data:`DENSE_WORDS`, else :func:`close_pair_in`
    with tables of its size."""
    if len(addr) < 2:
        return False
    lo, hi = int(addr.min()), int(addr.max())
    if hi - lo < DENSE_WORDS:
        fn = compiled(close_pair_dense) if fast else close_pair_dense
        return bool(fn(addr, lo, distance, np.zeros(hi - lo + 1, np.int64)))
    distance = min(distance, len(addr))  # no two reads are further apart
    block = max(1, distance // 2)
    held = min(len(addr), distance + block)
    keys, last = np.full(table_slots(held), EMPTY, np.int64), np.empty(table_slots(held), np.int32)
    fn = compiled(close_pair_in) if fast else close_pair_in
    return bool(fn(addr, distance, block, keys, last, np.empty(held, np.int64)))


def has_close_across(left: np.ndarray, right: np.ndarray, distance: int, fast: bool = True) -> bool:
    """:func:`close_across_bits` if the words both read span at most :data:`BITMAP_WORDS`, else
    :func:`close_across` with a table of the size of ``left``."""
    if not len(left) or not len(right):
        return False
    right = right[:distance]  # reads further on are too far from all of `left`
    lo, hi = max(int(left.min()), int(right.min())), min(int(left.max()), int(right.max()))
    if lo > hi:  # no word in both
        return False
    if hi - lo < BITMAP_WORDS:  # a bitmap of the words that both may read
        fn = compiled(close_across_bits) if fast else close_across_bits
        return bool(fn(left, right, distance, np.zeros((hi - lo) // 8 + 1, np.uint8), lo))
    keys, last = np.full(table_slots(len(left)), EMPTY, np.int64), np.empty(table_slots(len(left)), np.int64)
    fn = compiled(close_across) if fast else close_across
    return bool(fn(left, right, distance, keys, last, np.empty(len(left), np.int64)))
