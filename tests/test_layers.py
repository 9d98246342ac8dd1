"""The import contract holds on the package, and an import that runs upward breaks it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(package_root: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    config = ROOT / "pyproject.toml"
    cache = tmp_path / "cache"
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--cache-dir", str(cache)],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )  # fmt: skip


def test_the_package_keeps_its_layers(tmp_path: Path) -> None:
    result = _lint(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "layers KEPT" in result.stdout
    assert "web use cases below the HTTP layer KEPT" in result.stdout
    assert "pages beside the API, not over it KEPT" in result.stdout


def _with_import(tmp_path: Path, module: str, line: str) -> Path:
    """A copy of the package whose *module* (a path below ``needlecare/``) ends with the import *line*."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "needlecare", copy / "needlecare", ignore=shutil.ignore_patterns("__pycache__")
    )
    changed = copy / "needlecare" / module
    changed.write_text(changed.read_text() + f"\n{line}  # noqa\n")
    return copy


def test_an_upward_import_breaks_the_build(tmp_path: Path) -> None:
    copy = _with_import(tmp_path, "imaging/redness.py", "from needlecare.web import app as _app")
    result = _lint(copy, tmp_path)
    assert result.returncode == 1
    assert "layers BROKEN" in result.stdout
    assert "needlecare.imaging.redness -> needlecare.web.app" in result.stdout


def test_a_use_case_that_imports_a_page_breaks_the_build(tmp_path: Path) -> None:
    line = "from needlecare.web.photos import pages as _pages"
    copy = _with_import(tmp_path, "web/treatments/service.py", line)
    result = _lint(copy, tmp_path)
    assert result.returncode == 1
    assert "layers KEPT" in result.stdout
    assert "web use cases below the HTTP layer BROKEN" in result.stdout
    assert "needlecare.web.treatments.service -> needlecare.web.photos.pages" in result.stdout


def _cycles(imports: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, directly or through others (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in imports[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while (member := stack.pop()) != module:
                group.append(member)
            if group:
                groups.append(sorted([module, *group]))

    for module in imports:
        if module not in index:
            visit(module)
    return groups


def test_no_two_modules_import_each_other() -> None:
    """Not even through other modules or inside functions: every module can be read from the bottom up."""
    import grimp

    graph = grimp.build_graph("needlecare")
    imports = {m: graph.find_modules_directly_imported_by(m) & graph.modules for m in graph.modules}
    assert _cycles(imports) == []
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
