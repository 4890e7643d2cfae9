"""The numerical core must stay importable without Django (STYLE.md, "The numerical core")."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_importing_analysis_stats_does_not_import_django() -> None:
    code = (
        "import sys\n"
        "import analysis.stats, analysis.stats.bias, analysis.stats.binary\n"
        "import analysis.stats.sensitivity\n"
        "import analysis.stats.__main__\n"
        "bad = sorted(m for m in sys.modules\n"
        "             if m == 'django' or m.startswith(('django.', 'pandas')))\n"
        "print(','.join(bad))\n"
    )
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
