"""No function in the package is longer than 60 lines of code (its docstring not counted)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "needlecare"
MAX_LINES = 60


def _code_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = function.body[0]
    has_docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    start = first.end_lineno + 1 if has_docstring and first.end_lineno is not None else function.lineno
    return (function.end_lineno or start) - start + 1


def test_no_function_is_longer_than_60_lines() -> None:
    long = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _code_lines(node) > MAX_LINES:
                long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({_code_lines(node)} lines)")
    assert long == []
