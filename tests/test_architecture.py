"""The code's shape: core/, geo/, planning/, store/ and batch/ free of Qt, folium and app
(import-linter plus a direct scan), no long function or long positional argument list in
them, and no private name imported across modules."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("PyQt6", "folium", "branca", "app")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_engines_import_no_gui_or_app():
    offenders = []
    for pkg in ("core", "geo", "planning", "store", "batch"):
        for path in (ROOT / pkg).rglob("*.py"):
            bad = _imports(path) & set(FORBIDDEN)
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert offenders == []


def test_scan_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PyQt6.QtCore import QObject\nimport folium\n", encoding="utf-8")
    assert {"PyQt6", "folium"} <= _imports(bad)


def test_import_linter_contract():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency (pip install -e '.[test]')"
    run = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_importing_planning_and_geo_loads_no_qt():
    code = (
        "import sys, planning.pipeline, planning.rules, store.plan, geo.project, geo.checks, geo.distance;"
        "bad=[m for m in sys.modules if m.split('.')[0] in ('PyQt6','folium','app')];"
        "print(','.join(bad))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ""


# --- code shape: function size and arguments, private names -----------------------------------

SHAPED = ("core", "geo", "planning", "store", "batch")
MAX_LINES = 80
MAX_POSITIONAL = 6


def _functions(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _positional(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    names = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names)


def shape_offenders(paths) -> list[str]:
    """Functions longer than MAX_LINES (from ``def`` to the last line, docstring included) or
    taking more than MAX_POSITIONAL positional parameters (self and cls not counted)."""
    bad = []
    for path in paths:
        for fn in _functions(path):
            name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
            where = f"{name}:{fn.lineno} {fn.name}"
            length = fn.end_lineno - fn.lineno + 1
            if length > MAX_LINES:
                bad.append(f"{where}: {length} lines")
            if _positional(fn) > MAX_POSITIONAL:
                bad.append(f"{where}: {_positional(fn)} positional parameters")
    return bad


def test_no_long_function_or_long_argument_list():
    paths = [p for pkg in SHAPED for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert shape_offenders(paths) == []


def test_shape_scan_catches_offenders(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    bad = tmp_path / "bad.py"
    bad.write_text(
        f"def long():\n{body}\n\n"
        "def wide(a, b, c, d, e, f, g):\n    pass\n\n"
        "class K:\n    def ok(self, a, b, c, d, e, f, *, g=1):\n        pass\n",
        encoding="utf-8",
    )
    found = shape_offenders([bad])
    assert len(found) == 2
    assert "long" in found[0] and "wide" in found[1]


OURS = ("app", "core", "geo", "planning", "store", "batch")


def private_imports(paths) -> list[str]:
    """`from our.module import _name` across modules: a private name is the module's own."""
    bad = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            ours = node.level > 0 or (node.module or "").split(".")[0] in OURS
            for alias in node.names:
                if ours and alias.name.startswith("_") and not alias.name.startswith("__"):
                    bad.append(f"{path.name}:{node.lineno} {node.module}.{alias.name}")
    return bad


def test_no_private_name_imported_across_modules():
    paths = [p for pkg in OURS for p in sorted((ROOT / pkg).rglob("*.py"))]
    found = [f.split(":")[0] + " " + f.split(" ", 1)[1] for f in private_imports(paths)]
    assert found == []


def test_private_scan_catches_one(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from geo.read import _unswap\nfrom .x import _y\nfrom numpy import _z\n", encoding="utf-8"
    )
    assert len(private_imports([bad])) == 2
