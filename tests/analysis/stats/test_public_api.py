"""Every name that docs/statistical-methods.md lists under "Public API" is importable from
``analysis.stats`` (the package top), and ``__all__`` lists exactly those names."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[3] / "docs" / "statistical-methods.md"


def documented_names() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"^## Public API\n(.*?)(?=^## )", text, flags=re.M | re.S)
    assert match, "docs/statistical-methods.md has no '## Public API' section"
    names = []
    # A bullet starts with one or more backticked names: "* `pool(yi, vi)`: ..." or
    # "* `sd_from_se`, `sd_from_ci`: ...".
    for lead in re.findall(r"^\* ((?:`[^`]+`(?:, )?)+)", match.group(1), flags=re.M):
        names.extend(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)", lead))
    assert len(names) >= 20
    return names


@pytest.mark.parametrize("name", documented_names())
def test_each_documented_name_is_importable_from_the_package_top(name: str) -> None:
    module = importlib.import_module("analysis.stats")
    namespace: dict[str, object] = {}
    exec(f"from analysis.stats import {name}", namespace)  # the import statement is the test
    assert namespace[name] is getattr(module, name)


def test_the_documented_list_and_all_agree() -> None:
    import analysis.stats

    assert sorted(documented_names()) == sorted(analysis.stats.__all__)


def test_the_issue_examples_import() -> None:
    from analysis.stats import (  # noqa: F401 -- importing is what this test checks
        begg,
        cumulative,
        egger,
        leave_one_out,
        pool_mh,
        pool_peto,
        subgroups,
        trimfill,
    )
