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
