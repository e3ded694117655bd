"""``where = "…"`` of a layer in project.toml: which rows to keep, in a small safe language.

A condition compares a column with a value (``学段 == "小学"``, ``人口 > 0``,
``状态 in ["在用", "新建"]``), conditions join with ``and``, ``or``, ``not`` and brackets; a
heading that is not a plain name is quoted in backticks as in pandas (`村(社区)名称` != "").
The text is parsed with Python's ``ast`` and only these forms are evaluated: no call, attribute
or subscript can run, so a project file cannot execute code.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InputError

COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
FIX = "e.g. where = \"学段 == '小学' and 人口 > 0\" (columns in `backticks` when not a plain name)"


def keep_rows(frame: pd.DataFrame, text: str) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that ``text`` keeps; ``InputError`` when the text
    is not a condition of this language or names a column the frame lacks."""
    names: dict[str, str] = {}

    def quoted(m: re.Match[str]) -> str:
        names[f"_col{len(names)}"] = m.group(1)
        return f"_col{len(names) - 1}"

    source = re.sub(r"`([^`]*)`", quoted, text.strip())
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise InputError(f"where = {text!r} is not a condition", fix=FIX) from None
    mask = _eval(tree.body, frame, names, text)
    if np.ndim(mask) == 0:
        raise InputError(f"where = {text!r} does not compare a column", fix=FIX)
    return np.asarray(mask, dtype=bool)


def _eval(node: ast.AST, frame: pd.DataFrame, names: dict[str, str], text: str) -> Any:
    if isinstance(node, ast.BoolOp):
        parts = [np.asarray(_eval(v, frame, names, text), dtype=bool) for v in node.values]
        join = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for p in parts[1:]:
            out = join(out, p)
        return out
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~np.asarray(_eval(node.operand, frame, names, text), dtype=bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand, frame, names, text)
    if isinstance(node, ast.Compare):
        return _compare(node, frame, names, text)
    if isinstance(node, ast.Name):
        column = names.get(node.id, node.id)
        if column not in frame.columns:
            raise InputError(
                f"where = {text!r} names column '{column}', not in the file",
                fix=f"the file's columns are: {', '.join(map(str, frame.columns))}",
            )
        return frame[column]
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(e, frame, names, text) for e in node.elts]
    raise InputError(f"where = {text!r}: only comparisons, and/or/not are allowed", fix=FIX)


def _compare(node: ast.Compare, frame: pd.DataFrame, names: dict[str, str], text: str) -> Any:
    left = _eval(node.left, frame, names, text)
    out: Any = True
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _eval(right_node, frame, names, text)
        if isinstance(op, ast.In | ast.NotIn):
            values = right if isinstance(right, list) else [right]
            step = _as_text(left).isin([str(v) for v in values])
            step = ~step if isinstance(op, ast.NotIn) else step
        elif type(op) in COMPARE:
            a, b = _aligned(left, right)
            step = COMPARE[type(op)](a, b)
        else:
            raise InputError(f"where = {text!r}: unknown comparison", fix=FIX)
        out = np.logical_and(out, np.asarray(step, dtype=bool))
        left = right
    return out


def _as_text(values: Any) -> pd.Series:
    return values.astype(str).str.strip() if isinstance(values, pd.Series) else values


def _aligned(left: Any, right: Any) -> tuple[Any, Any]:
    """Columns read from tables are text: compared as numbers with a number, else as text."""
    for a, b in ((left, right), (right, left)):
        if isinstance(a, pd.Series) and isinstance(b, int | float) and not isinstance(b, bool):
            num = pd.to_numeric(a, errors="coerce")
            return (num, b) if a is left else (b, num)
    return (
        _as_text(left) if isinstance(right, str) else left,
        _as_text(right) if isinstance(left, str) else right,
    )
