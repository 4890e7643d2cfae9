"""`make lint` fails on a function nothing calls (tools/dead_code.py, vulture)."""

import subprocess
import sys

from tests.conftest import REPO

SCRIPT = str(REPO / "tools" / "dead_code.py")


def _run(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, SCRIPT, *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_the_tree_has_no_function_without_a_caller():
    result = _run(cwd=REPO)

    assert result.returncode == 0, result.stdout + result.stderr


def test_it_reports_an_uncalled_function_but_not_a_field_read_by_name(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.vulture]\nmin_confidence = 60\n")
    (tmp_path / "app.py").write_text(
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\nclass Row:\n    shown_by_a_template: int\n\n\n"
        "def called() -> Row:\n    return Row(1)\n\n\n"
        "def forgotten() -> None:\n    pass\n\n\n"
        "called()\n"
    )

    result = _run("app.py", cwd=tmp_path)

    assert result.returncode == 1
    assert "unused function 'forgotten'" in result.stdout
    assert "called" not in result.stdout.replace("forgotten", "")
    assert "shown_by_a_template" not in result.stdout
