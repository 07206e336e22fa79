"""Keep freed memory in the process: glibc malloc settings for batched inference on CPU.

By default glibc gives large freed blocks (from 128 KiB; the threshold adapts) and the free top of its
heap back to the system, so the next large allocation page-faults in fresh, zeroed pages. Batched
generation on CPU frees and allocates megabytes at every decoding step (activations, and a KV cache that
grows by concatenation), so it spends a good part of its time in page faults. `keep_freed_memory()`
raises both thresholds. Freed memory then stays in the process for reuse, which is what jemalloc and
tcmalloc (the allocators PyTorch's CPU tuning guides recommend) do by default. The cost: the process
holds on to up to 1 GiB of freed heap until it exits. Batched translation on 2 cores gets 1.1–1.3× faster
(docs/benchmarks.md).

The translation tools call it (`tools/translate.py`, `tools/evaluate.py --model`, and so the demo and
`tools/ablate.py`), `tools/produce.py` (text → motion: the same batched generation), and
`tools/encode_dataset.py` (`Tokenizer.encode` in batches: 1.2–1.3× faster). Call it yourself before
translating or encoding many clips on CPU from Python. Training allocates the same sizes at every step,
and glibc adapts to that by itself, so training gains nothing from it.
"""
from __future__ import annotations

import ctypes
import os

# mallopt parameters (glibc malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD = 32 << 20  # blocks up to 32 MiB come from the heap: the most glibc's adaptive threshold reaches
TRIM_THRESHOLD = 1 << 30  # the heap is trimmed only when 1 GiB at its top is free

# Environment that already configures the allocator: then it is left alone.
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_",
                 "GLIBC_TUNABLES", "LD_PRELOAD")


def keep_freed_memory() -> bool:
    """Make glibc malloc keep freed memory for reuse. Returns whether it was applied: False off glibc
    (macOS, Windows, musl) and when the environment sets one of `USER_SETTINGS`. Safe to call repeatedly."""
    if os.name != "posix" or any(os.environ.get(name) for name in USER_SETTINGS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process' own C library
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
