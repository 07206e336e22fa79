"""lslm.cpu_memory: glibc keeps freed memory, so a growing buffer stops page-faulting."""
import os
import platform
import subprocess
import sys

import pytest

from lslm import cpu_memory

# A KV cache that grows by concatenation at every decoding step, and activations freed after each
# forward pass; prints the minor page faults it took.
GROWING_BUFFERS = """
import resource, sys
import numpy as np
from lslm.cpu_memory import keep_freed_memory
applied = sys.argv[1] == "keep" and keep_freed_memory()
start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for rep in range(20):
    kv = np.zeros(1 << 18, np.float32)  # 1 MiB
    for step in range(16):
        kv = np.concatenate([kv, np.ones(1 << 14, np.float32)])
    activations = [np.ones((1 << 20) + 1024 * rep, np.float32) for _ in range(3)]
    del activations
print(applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
"""


def page_faults(mode: str) -> tuple[bool, int]:
    """(whether keep_freed_memory applied, page faults) of the workload in a fresh process."""
    env = {k: v for k, v in os.environ.items() if k not in cpu_memory.USER_SETTINGS}
    out = subprocess.run([sys.executable, "-c", GROWING_BUFFERS, mode], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return out[0] == "True", int(out[1])


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_keep_freed_memory_stops_page_faults():
    applied, kept = page_faults("keep")
    _, default = page_faults("default")
    assert applied
    assert kept * 4 < default, (kept, default)  # measured here: ~3,500 vs ~41,000


@pytest.mark.parametrize("name", ["MALLOC_TRIM_THRESHOLD_", "LD_PRELOAD"])
def test_an_allocator_set_in_the_environment_is_left_alone(monkeypatch, name):
    monkeypatch.setenv(name, "131072" if name.startswith("MALLOC") else "libjemalloc.so.2")
    assert cpu_memory.keep_freed_memory() is False
