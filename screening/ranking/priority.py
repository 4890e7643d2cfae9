"""Training in the background without taking the reviewers' CPU.

A training is CPU-bound (hashing, a float32 product per block of the feature store, liblinear)
while the reviewers' requests are short and latency-bound. On a small server the worker and the
web processes share the cores, so the training lowers its own priority (the kernel then gives a
core to a waiting request first) and keeps its numerical libraries to one thread (OpenBLAS and
OpenMP would otherwise start a thread per core, and take every core for the product).
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from threadpoolctl import threadpool_limits

# The lowest priority: the training runs on whatever the web processes leave.
BACKGROUND_NICENESS = 19


@contextmanager
def background_priority(niceness: int = BACKGROUND_NICENESS, threads: int = 1) -> Iterator[None]:
    """Run the block at `niceness` (never raising a priority already lower) with BLAS/OpenMP
    limited to `threads`. The priority is restored afterwards when the process may raise it
    again (as root); otherwise the process stays at the lower priority, which for a worker
    process is the intent anyway."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > before:
        os.setpriority(os.PRIO_PROCESS, 0, niceness)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        # An unprivileged process cannot raise its priority again.
        with suppress(PermissionError):
            os.setpriority(os.PRIO_PROCESS, 0, before)
