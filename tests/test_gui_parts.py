"""The window's parts without the map: translations, worker threads, undo commands, rules form."""

from __future__ import annotations

import html
import math
import threading

import pytest

pytest.importorskip("PyQt6.QtWidgets")

pytestmark = [pytest.mark.gui]


# ----------------------------------------------------------------------------- translations
def test_every_window_string_has_a_chinese_translation():
    from app.gui.i18n import source_strings, zh_messages

    strings = source_strings()
    assert len(strings) > 100
    missing = sorted(s for s in strings if s not in zh_messages())
    assert not missing, missing
    # PyQt6 hands translate() its text as ASCII: a non-ASCII source string would raise.
    assert all(s.isascii() for s in strings)


def test_qm_file_is_compiled_from_the_dictionary_and_loads(qapp, tmp_path):
    from PyQt6.QtCore import QCoreApplication, QTranslator

    from app.gui.i18n import QM_ZH, zh_messages
    from app.gui.qm import qm_bytes, write_qm

    assert QM_ZH.read_bytes() == qm_bytes(zh_messages()), "run: python -m app.gui.i18n"
    path = write_qm(
        {"Run plan": "运行规划", "Lock %1 to core %2": "将 %1 固定到核心校 %2"}, tmp_path / "t.qm"
    )
    t = QTranslator()
    assert t.load(str(path))
    QCoreApplication.installTranslator(t)
    try:
        # Messages carry no context: they apply in any context (PyQt's tr uses the run-time class).
        assert QCoreApplication.translate("window", "Run plan") == "运行规划"
        assert (
            QCoreApplication.translate("AnyClass", "Lock %1 to core %2") == "将 %1 固定到核心校 %2"
        )
        assert QCoreApplication.translate("window", "Not in the file") == "Not in the file"
    finally:
        QCoreApplication.removeTranslator(t)


def test_elf_hash_matches_qt():
    from app.gui.qm import elf_hash

    # Values of Qt's elfHash (qtranslator.cpp) for short keys.
    assert elf_hash(b"") == 1
    assert elf_hash(b"a") == 0x61
    assert elf_hash(b"ab") == (0x61 << 4) + 0x62
    long = b"x" * 64
    assert 0 < elf_hash(long) < 2**28  # the top nibble is always folded away


# ----------------------------------------------------------------------------- workers
def _run(qtbot, runner, job):
    outcome = {}
    runner.finished.connect(lambda j, v: outcome.setdefault("ok", v))
    runner.failed.connect(lambda j, e: outcome.setdefault("failed", e))
    runner.crashed.connect(lambda j, tb: outcome.setdefault("crashed", tb))
    runner.canceled.connect(lambda j: outcome.setdefault("canceled", True))
    runner.submit(job)
    qtbot.waitUntil(lambda: bool(outcome) and not runner.busy, timeout=10_000)
    return outcome


def test_job_runs_off_the_gui_thread_and_reports_progress(qtbot):
    from app.gui.workers import Job, JobRunner

    runner = JobRunner()
    seen = []
    runner.progressed.connect(lambda f, m: seen.append((f, m)))
    main = threading.get_ident()

    def work(progress):
        progress.update(0.5, "half")
        return threading.get_ident()

    out = _run(qtbot, runner, Job("t", work))
    assert out["ok"] != main
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert seen[0] == (0.5, "half")


def test_errors_become_signals_not_crashes(qtbot):
    from app.gui.workers import Job, JobRunner
    from core.errors import InputError

    runner = JobRunner()

    def bad_input(progress):
        raise InputError("schools.csv: no school_id column", fix="add it")

    out = _run(qtbot, runner, Job("t", bad_input))
    assert "no school_id column" in str(out["failed"])

    def bug(progress):
        return 1 / 0

    out = _run(qtbot, JobRunner(), Job("t", bug))
    assert "ZeroDivisionError" in out["crashed"]


def test_cancel_stops_a_job_at_its_next_check(qtbot):
    from app.gui.workers import Job, JobRunner
    from core.progress import check_canceled

    runner = JobRunner()
    started = threading.Event()

    def long_job(progress):
        started.set()
        for _ in range(10_000):
            check_canceled(progress)
            threading.Event().wait(0.005)
        return "finished"

    outcome = {}
    runner.canceled.connect(lambda j: outcome.setdefault("canceled", True))
    runner.finished.connect(lambda j, v: outcome.setdefault("ok", v))
    runner.submit(Job("long", long_job))
    assert started.wait(5)
    runner.cancel()
    qtbot.waitUntil(lambda: bool(outcome) and not runner.busy, timeout=10_000)
    assert outcome == {"canceled": True}


def test_new_request_supersedes_the_running_one_and_queue_keeps_order(qtbot):
    from app.gui.workers import Job, JobRunner
    from core.progress import check_canceled

    def slow(tag):
        def work(progress):
            for _ in range(400):
                check_canceled(progress)
                threading.Event().wait(0.005)
            return tag

        return work

    runner = JobRunner()
    done = []
    runner.finished.connect(lambda j, v: done.append(v))
    runner.submit(Job("a", slow("a")))
    runner.submit(Job("b", slow("b")))
    runner.submit(Job("c", lambda p: "c"))
    qtbot.waitUntil(lambda: bool(done) and not runner.busy, timeout=10_000)
    assert done == ["c"]  # a was canceled, b dropped as stale

    queue = JobRunner(supersede=False)
    order = []
    queue.finished.connect(lambda j, v: order.append(v))
    for tag in "xyz":
        queue.submit(Job(tag, lambda p, t=tag: t))
    qtbot.waitUntil(lambda: len(order) == 3, timeout=10_000)
    assert order == ["x", "y", "z"]


# ----------------------------------------------------------------------------- document + undo
@pytest.fixture
def doc(qapp, sample_layers):
    from PyQt6.QtGui import QUndoStack

    from app.gui.document import PlanDocument

    layers, rules, report = sample_layers
    d = PlanDocument()
    d.set_project(layers, rules, report, name="test")
    d.undo_stack = QUndoStack(d)
    return d


def test_move_school_undo_redo(doc):
    from app.gui import commands

    sid = str(doc.layers.schools["school_id"].iloc[0])
    x0, y0 = doc.school_xy(sid)
    original = doc.layers.schools
    doc.undo_stack.push(commands.MoveSchool(doc, sid, (x0 + 500, y0 - 250)))
    assert doc.school_xy(sid) == (x0 + 500, y0 - 250)
    assert original is not doc.layers.schools  # replaced, never changed in place
    assert doc.dirty and doc.stale == {"new_schools", "groups", "catchments"}
    doc.undo_stack.undo()
    assert doc.school_xy(sid) == (x0, y0)
    doc.undo_stack.redo()
    assert doc.school_xy(sid) == (x0 + 500, y0 - 250)
    # every level row of a combined school moves together
    rows = doc.school_rows(sid)
    assert all(p.x == x0 + 500 for p in rows.geometry)


def test_latlng_round_trip(doc):
    x, y = doc.school_xy(str(doc.layers.schools["school_id"].iloc[3]))
    lat, lng = doc.to_latlng(x, y)
    assert 24 < lat < 27 and 110 < lng < 113  # Dao County, Hunan
    x2, y2 = doc.to_metric(lat, lng)
    assert math.isclose(x, x2, abs_tol=1e-3) and math.isclose(y, y2, abs_tol=1e-3)


def test_add_edit_delete_school_undo(doc):
    from app.gui import commands

    n = len(doc.layers.schools)
    x, y = doc.school_xy(str(doc.layers.schools["school_id"].iloc[0]))
    row = doc.school_template(x + 2000, y, "junior")
    doc.undo_stack.push(commands.AddSchool(doc, row))
    key = (row["school_id"], "junior")
    assert len(doc.layers.schools) == n + 1
    assert doc.school_attrs(key)["status"] == "planned"
    assert doc.school_attrs(key)["capacity"] == row["classes"] * doc.rules.standards.class_size(
        "junior"
    )
    doc.undo_stack.push(commands.EditSchool(doc, key, {"classes": 30, "quality": "core"}))
    assert doc.school_attrs(key)["classes"] == 30 and doc.school_attrs(key)["quality"] == "core"
    doc.undo_stack.push(commands.DeleteSchool(doc, row["school_id"], "junior"))
    assert len(doc.layers.schools) == n
    doc.undo_stack.undo()
    assert doc.school_attrs(key)["classes"] == 30
    doc.undo_stack.undo()
    assert doc.school_attrs(key)["classes"] == row["classes"]
    doc.undo_stack.undo()
    assert len(doc.layers.schools) == n
    with pytest.raises(KeyError):
        doc.school_attrs(key)


def test_group_choices_commands_toggle_and_undo(doc):
    from app.gui import commands

    doc.stale.clear()
    doc.undo_stack.push(commands.lock_pair(doc, "A", "M", "primary"))
    assert doc.choices.locked_pairs == (("A", "M", "primary"),)
    assert doc.stale == {"groups"}  # only grouping depends on hand choices
    doc.undo_stack.push(commands.lock_pair(doc, "B", "M", "primary"))
    assert doc.choices.locked_pairs == (("B", "M", "primary"),)  # one core per member
    doc.undo_stack.push(commands.lock_pair(doc, "B", "M", "primary"))
    assert doc.choices.locked_pairs == ()  # locking again unlocks
    doc.undo_stack.push(commands.exclude_school(doc, "X", "junior"))
    doc.undo_stack.push(commands.force_core(doc, "Y", "junior"))
    assert doc.choices.excluded == (("X", "junior"),)
    assert doc.choices.forced_cores == (("Y", "junior"),)
    for _ in range(5):
        doc.undo_stack.undo()
    assert not (doc.choices.locked_pairs or doc.choices.excluded or doc.choices.forced_cores)


def test_result_of_an_older_revision_is_refused(doc):
    from app.gui import commands

    rev = doc.revision
    sid = str(doc.layers.schools["school_id"].iloc[0])
    doc.undo_stack.push(commands.MoveSchool(doc, sid, (0.0, 0.0)))
    assert not doc.set_result(object(), {"groups"}, rev)
    assert doc.result is None


# ----------------------------------------------------------------------------- rules form
def test_rules_form_is_generated_from_the_declarations(qapp):
    from PyQt6.QtWidgets import QDoubleSpinBox, QSpinBox

    from app.gui.rules_form import RulesForm
    from planning.rules import Rules, iter_specs

    form = RulesForm("zh")
    specs = list(iter_specs())
    assert len(form.editors) == len(specs)
    for section, spec, value in specs:
        editor = form.editors[(section, spec.name)][1]
        assert html.escape(spec.info.source) in editor.toolTip()
        if isinstance(editor, (QSpinBox, QDoubleSpinBox)) and spec.info.lo is not None:
            assert editor.minimum() == pytest.approx(spec.info.lo)
            assert editor.maximum() == pytest.approx(spec.info.hi)
        assert form.value(section, spec.name) == pytest.approx(value)
    rules = Rules().with_values({"groups": {"radius_km": 15.0}})
    form.set_rules(rules, Rules())
    assert form.changes() == {}
    form.set_value("groups", "max_members", 5)
    got = []
    form.applied.connect(got.append)
    form.apply()
    assert got == [{"groups": {"max_members": 5}}]
    form.reset_button.click()  # shows the defaults; nothing is applied until Apply
    assert form.value("groups", "radius_km") == pytest.approx(20.0)
    assert form.changes() == {"groups": {"radius_km": 20.0}}


# ----------------------------------------------------------------------------- window parts
def _menu_items(menu):
    from app.gui.actions import MenuSpec

    for item in menu.items:
        if isinstance(item, MenuSpec):
            yield from _menu_items(item)
        elif item is not None and not item.startswith("@"):
            yield item


def test_actions_are_declared_once_and_every_handler_exists():
    from app.gui import actions
    from app.gui.docio import DocumentIO
    from app.gui.editing import EditController
    from app.gui.jobs import JobController
    from app.gui.window import MainWindow

    ids = [a.id for a in actions.ACTIONS]
    assert len(ids) == len(set(ids))
    parts = {"files": DocumentIO, "edit": EditController, "jobs": JobController}
    parts["window"] = MainWindow
    for spec in actions.ACTIONS:
        assert spec.zh and spec.en and bool(spec.tip_zh) == bool(spec.tip_en), spec.id
        part, _, method = spec.handler.partition(".")
        if part != "undo_stack":
            assert callable(getattr(parts[part], method.partition(":")[0])), spec.handler
    placed = {i for m in (*actions.MENUS, actions.TOOLBAR) for i in _menu_items(m)}
    assert placed == set(ids)  # every command is in a menu or the toolbar, and exists
    assert set(actions.SELECTION_ACTIONS) <= set(ids)


def test_run_beside_runs_off_the_callers_thread_and_reraises():
    from app.gui.workers import run_beside

    seen = []
    run_beside(lambda: seen.append(threading.get_ident()))()
    assert seen and seen[0] != threading.get_ident()

    def bad():
        raise ValueError("disk full")

    join = run_beside(bad)
    with pytest.raises(ValueError, match="disk full"):
        join()


APART_SCRIPT = """
import os
import pytest
from app.gui.workers import run_apart
from core.errors import Problem, SchoolPlanError

assert run_apart(lambda: os.getpid())() != os.getpid()  # ran in another process

def bad():
    raise SchoolPlanError("disk full", [Problem("no space", fix="free 1 GB")], fix="free space")

with pytest.raises(SchoolPlanError) as err:
    run_apart(bad)()
assert err.value.fix == "free space" and err.value.problems[0].fix == "free 1 GB"

def dies():
    os._exit(3)  # killed, out of memory, ...: no answer comes back

with pytest.raises(SchoolPlanError, match="exit code 3"):
    run_apart(dies)()
print("ok")
"""


def test_run_apart_returns_the_childs_value_and_reraises_its_error_whole():
    """In a fresh interpreter, as the command line runs it: this test process has the threads
    of other tests (web engine, dask), and beside threads run_apart does not fork."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", APART_SCRIPT], capture_output=True, text=True, env=env, cwd=root
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_run_apart_runs_in_the_caller_while_other_threads_run():
    import os

    from app.gui.workers import run_apart

    hold = threading.Event()
    other = threading.Thread(target=hold.wait)
    other.start()
    try:
        assert run_apart(lambda: os.getpid())() == os.getpid()  # no fork beside a thread
    finally:
        hold.set()
        other.join()


def test_threads_start_only_in_workers():
    from pathlib import Path

    import app

    for path in Path(app.__file__).resolve().parent.rglob("*.py"):
        if path.parts[-2:] == ("gui", "workers.py"):
            continue
        text = path.read_text(encoding="utf-8")
        for word in (
            "import threading",
            "QThread",
            "concurrent.futures",
            "threading.Thread",
            "multiprocessing",
            "os.fork",
        ):
            assert word not in text, (path.name, word)


def test_gui_parts_reach_no_private_name_and_not_the_window():
    import ast
    from pathlib import Path

    import app.gui

    for path in Path(app.gui.__file__).resolve().parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            if node.module.split(".")[0] in ("app", "core", "geo", "planning", "store"):
                assert not [a.name for a in node.names if a.name.startswith("_")], path.name
            if path.name not in ("window.py", "main.py"):
                assert node.module != "app.gui.window", path.name


def test_coded_values_are_shown_in_the_vocabulary_words():
    from app.gui.tables import value_labels
    from core.vocab import GROUP_ROLE, LAYOUT_STATUS, LEVEL

    for lang in ("zh", "en"):
        labels = value_labels(lang)
        assert labels["level"]["junior"] == LEVEL.label("junior", lang)
        assert labels["layout_status"]["to_merge"] == LAYOUT_STATUS.label("to_merge", lang)
        assert labels["group_role"]["core"] == GROUP_ROLE.label("core", lang)


def test_every_rules_section_says_which_stages_it_makes_stale():
    """Editing any section of the rules form must not fail for want of an entry."""
    from app.gui.document import EDIT_EFFECTS
    from planning.rules import SECTIONS

    assert {f"rules:{s}" for s in SECTIONS} <= set(EDIT_EFFECTS)


def test_the_window_has_the_year_bar(window):
    """Issue 19: a year slider in the window that re-plans for the chosen year."""
    from app.gui.year_bar import YearBar

    bars = window.findChildren(YearBar)
    assert len(bars) == 1
    assert bars[0].year() == 0  # the data as it is, until a year is chosen
