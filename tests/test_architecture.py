"""planning/ and geo/ stay free of Qt, folium and app (import-linter plus a direct scan)."""

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
    for pkg in ("planning", "geo"):
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
