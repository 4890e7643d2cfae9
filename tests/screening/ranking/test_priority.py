"""The training's background priority (screening/ranking/priority.py), in a child process so
that the test process keeps its own priority."""

import json
import subprocess
import sys

PROBE = """
import json, os
from threadpoolctl import threadpool_info
from screening.ranking.priority import background_priority
with background_priority():
    inside = os.getpriority(os.PRIO_PROCESS, 0)
    threads = sorted({p["num_threads"] for p in threadpool_info()})
after = os.getpriority(os.PRIO_PROCESS, 0)
print(json.dumps({"inside": inside, "threads": threads, "after": after}))
"""


def run(*prefix: str) -> dict:
    out = subprocess.run(
        [*prefix, sys.executable, "-c", "import numpy, sklearn.svm\n" + PROBE],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_a_training_runs_at_the_lowest_priority_on_one_thread():
    seen = run()
    assert seen["inside"] == 19
    assert seen["threads"] == [1]  # every BLAS/OpenMP pool loaded (numpy's OpenBLAS at least)


def test_a_process_already_at_a_lower_priority_keeps_it():
    seen = run("nice", "-n", "19")
    assert seen["inside"] == 19 and seen["after"] == 19
