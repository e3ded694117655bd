"""Getting data into the window: the column-mapping dialog, adding a layer from a file (menu and
drag-and-drop), broken files as messages, and autosave / restore (pytest-qt, offscreen).

The windows here open a tiny county written by ``tests/builders.py`` (four schools, three
villages) so every load, map page and plan run takes a moment, not the sample county's seconds.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from builders import population, schools, write_layers, write_project
from gui_support import idle, quiet
from shapely.geometry import Point

pytest.importorskip("PyQt6.QtWebEngineWidgets")

pytestmark = [pytest.mark.gui, pytest.mark.usefixtures("gui_cleanup")]

TIMEOUT_MS = 120_000
OLD_IDS = {"S01", "S02", "S03", "S04"}
NEW_IDS = {"S01", "S02", "S03", "S05"}  # 县一中 (the only senior school) gone, a junior added


# ----------------------------------------------------------------------------- input files
def new_schools() -> gpd.GeoDataFrame:
    """The mini county's schools without its senior school and with one new junior school."""
    s = schools()
    s = s[s["学校代码"] != "S04"]
    extra = gpd.GeoDataFrame(
        {
            "学校代码": ["S05"],
            "学校名称": ["新区中学"],
            "学段": ["初中"],
            "班级数": [12],
            "在校生数": [540],
            "教师数": [36.0],
            "办学质量": ["一般"],
            "城乡类别": ["城区"],
        },
        geometry=[Point(111.65, 25.55)],
        crs="EPSG:4326",
    )
    return gpd.GeoDataFrame(pd.concat([s, extra], ignore_index=True), crs="EPSG:4326")


def as_table(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """A county bureau's spreadsheet: attributes plus 经度/纬度 columns, no geometry."""
    df = pd.DataFrame(gdf.drop(columns="geometry"))
    df["经度"] = gdf.geometry.x.round(6)
    df["纬度"] = gdf.geometry.y.round(6)
    return df


ENGLISH = {
    "学校代码": "school_id",
    "学校名称": "name",
    "学段": "level",
    "班级数": "classes",
    "在校生数": "students",
    "教师数": "teachers",
    "办学质量": "quality",
    "城乡类别": "location",
}


def write_schools(folder: Path, fmt: str) -> Path:
    """new_schools() in one file format; Shapefile headings are English (10-byte field names)."""
    folder.mkdir(parents=True, exist_ok=True)
    gdf = new_schools()
    if fmt == "gpkg":
        path = folder / "学校.gpkg"
        gdf.to_file(path, layer="schools", driver="GPKG")
    elif fmt == "shp":
        path = folder / "schools.shp"
        gdf.rename(columns=ENGLISH).to_file(path, driver="ESRI Shapefile", encoding="utf-8")
    elif fmt == "geojson":
        path = folder / "学校.geojson"
        gdf.to_file(path, driver="GeoJSON")
    elif fmt == "csv":
        path = folder / "学校.csv"
        as_table(gdf).to_csv(path, index=False, encoding="gb18030")  # as Excel saves it in China
    elif fmt == "xlsx":
        path = folder / "学校.xlsx"
        as_table(gdf).to_excel(path, index=False)
    else:  # pragma: no cover
        raise ValueError(fmt)
    return path


# ----------------------------------------------------------------------------- windows
@pytest.fixture
def project(tmp_path) -> Path:
    return write_project(tmp_path / "county")


@pytest.fixture
def open_window(qtbot, tmp_path, monkeypatch):
    """Opens windows on a project (each with its own Launcher, so its own document)."""
    monkeypatch.setenv("SCHOOLPLAN_AUTOSAVE_DIR", str(tmp_path / "autosave"))
    monkeypatch.setenv("SCHOOLPLAN_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    from app.gui.main import Launcher, create_app

    create_app()
    opened = []

    def _open(path: Path, *, wait: bool = True, hooks=quiet):
        # Not qtbot.addWidget: some tests close their window (deleted on close) themselves.
        w = hooks(Launcher("zh", autosave_ms=3_600_000).open(path))
        opened.append(w)
        if wait:
            qtbot.waitUntil(lambda: bool(w.doc.layers is not None and idle(w)), timeout=TIMEOUT_MS)
        return w

    yield _open
    from PyQt6 import sip

    for w in opened:
        if not sip.isdeleted(w):
            quiet(w).close()


def _ids(gdf) -> set[str]:
    return set(gdf["school_id"].astype(str))


def _wait_loaded(qtbot, w, ids: set[str]) -> None:
    """Until the document holds ``ids`` and the map page drawn from them is in view."""
    qtbot.waitUntil(
        lambda: bool(
            w.doc.layers is not None
            and _ids(w.doc.layers.schools) == ids
            and idle(w)
            and w.map.info.get("counts", {}).get("schools") == len(w.doc.layers.schools)
        ),
        timeout=TIMEOUT_MS,
    )


def _assert_new_schools_shown(w, path: Path) -> None:
    doc = w.doc
    s = doc.layers.schools
    assert _ids(s) == NEW_IDS
    assert doc.layers.sources["schools"].file == path
    assert doc.config.sources["schools"].file == path
    # The other layers still come from the project's GeoPackage.
    assert doc.config.sources["population"].file.name == "county.gpkg"
    assert len(doc.layers.units) == 3
    assert w.tables.models["schools"].rowCount() == len(s) == 4
    assert w.map.info["counts"]["schools"] == 4
    keys = w.layers_panel.keys()
    assert {"schools_primary", "schools_junior"} <= set(keys)
    assert "schools_senior" not in keys  # the panel lists what the new layer holds
    new = s[s["school_id"].astype(str) == "S05"].iloc[0]
    assert new["level"] == "junior" and new["classes"] == 12 and new["students"] == 540
    lat, lng = doc.to_latlng(new.geometry.x, new.geometry.y)
    assert math.isclose(lat, 25.55, abs_tol=1e-5) and math.isclose(lng, 111.65, abs_tol=1e-5)


def _message_boxes(w):
    from PyQt6.QtWidgets import QMessageBox

    return [b for b in w.findChildren(QMessageBox) if b.isVisible()]


# ----------------------------------------------------------------------------- column mapping
def test_file_headings_of_every_format(qapp, tmp_path):
    from app.gui.column_mapping import file_headings

    chinese = list(ENGLISH)
    for fmt in ("gpkg", "geojson", "csv", "xlsx"):
        path = write_schools(tmp_path / fmt, fmt)
        heads = file_headings(path)
        assert heads[: len(chinese)] == chinese, fmt
        assert "geometry" not in heads
    csv = write_schools(tmp_path / "csv", "csv")
    assert file_headings(csv)[-2:] == ["经度", "纬度"]  # GBK bytes decoded, not mojibake
    shp = write_schools(tmp_path / "shp", "shp")
    assert file_headings(shp) == list(ENGLISH.values())


def test_file_headings_skip_a_title_row_as_the_reader_does(qapp, tmp_path):
    import pandas as pd

    from app.gui.column_mapping import file_headings

    body = [["学校代码", "学校名称", "经度", "纬度"], ["S01", "城关一小", "111.6", "25.5"]]
    rows = [["道县中小学名册(2024年)", "", "", ""], *body]
    csv = tmp_path / "名册.csv"
    pd.DataFrame(rows).to_csv(csv, header=False, index=False, encoding="gbk")
    xlsx = tmp_path / "名册.xlsx"
    pd.DataFrame(rows).to_excel(xlsx, header=False, index=False)
    for path in (csv, xlsx):
        assert file_headings(path, kind="schools") == body[0], path.suffix


def test_file_headings_of_a_geopackage_read_the_layer_of_that_kind(qapp, tmp_path):
    """county.gpkg holds schools, population and boundary: the headings offered for a population
    layer must be the population layer's (the one the reader will use), not the first layer's."""
    from app.gui.column_mapping import file_headings, missing_required

    gpkg = write_layers(tmp_path)
    assert file_headings(gpkg, "population") == file_headings(gpkg, "population", kind="schools")
    heads = file_headings(gpkg, kind="population")
    assert "人口" in heads and "学校代码" not in heads
    assert missing_required("population", heads) == []
    assert "学校代码" in file_headings(gpkg, kind="schools")


def test_auto_mapping_and_missing_required():
    from app.gui.column_mapping import auto_mapping, missing_required

    chinese = list(ENGLISH)
    m = auto_mapping("schools", chinese + ["经度", "纬度", "备注"])
    assert m == {
        "school_id": "学校代码",
        "name": "学校名称",
        "level": "学段",
        "classes": "班级数",
        "students": "在校生数",
        "teachers": "教师数",
        "quality": "办学质量",
        "location": "城乡类别",
    }
    assert missing_required("schools", chinese) == []
    # English spellings, case and separators ignored.
    assert auto_mapping("schools", ["School_ID", "NAME", "Level", "classes", "students"]) == {
        "school_id": "School_ID",
        "name": "NAME",
        "level": "Level",
        "classes": "classes",
        "students": "students",
    }
    # Headings a county invented: nothing recognised, every required field missing, in order.
    odd = ["XXDM", "XXMC", "XD", "BJS", "ZXS"]
    assert auto_mapping("schools", odd) == {}
    assert missing_required("schools", odd) == ["level"]
    assert missing_required("population", ["编号", "名称"]) == ["population"]
    assert missing_required("boundary", []) == []


def test_mapping_dialog_prefills_recognised_columns_and_reports_missing(qtbot):
    from app.gui.column_mapping import ColumnMappingDialog
    from geo.columns import COLUMNS

    heads = ["学校代码", "学校名称", "XD", "BJS", "ZXS", "经度"]
    dlg = ColumnMappingDialog("schools", heads, "学校.xlsx")
    qtbot.addWidget(dlg)
    assert list(dlg.boxes) == list(COLUMNS["schools"])
    assert dlg.mapping() == {"school_id": "学校代码", "name": "学校名称"}
    assert dlg.missing() == ["level"]
    # Every box offers "none" and every heading of the file.
    box = dlg.boxes["level"]
    assert [box.itemText(i) for i in range(box.count())] == ["—", *heads]
    for field, heading in (("level", "XD"), ("classes", "BJS"), ("students", "ZXS")):
        dlg.boxes[field].setCurrentText(heading)
    assert dlg.missing() == []
    assert dlg.mapping() == {
        "school_id": "学校代码",
        "name": "学校名称",
        "level": "XD",
        "classes": "BJS",
        "students": "ZXS",
    }
    assert dlg.ok_button.isEnabled() and dlg.hint.text() == ""
    dlg.boxes["level"].setCurrentIndex(0)  # back to "none": dropped from the mapping
    assert "level" not in dlg.mapping() and dlg.missing() == ["level"]
    # OK waits for every required field, and the hint names what is still to choose.
    assert not dlg.ok_button.isEnabled() and "level" in dlg.hint.text()
    # Values in the data's words and a row filter, as project.toml takes them.
    dlg.set_value(0, "quality", "A类", "core")
    dlg.where_edit.setText("ZXS > 0")
    assert dlg.values() == {"quality": {"A类": "core"}} and dlg.where() == "ZXS > 0"


# ----------------------------------------------------------------------------- adding layers
@pytest.mark.parametrize("fmt", ["gpkg", "shp", "geojson", "csv", "xlsx"])
def test_add_schools_layer_from_a_file(qtbot, open_window, project, tmp_path, fmt):
    w = open_window(project)
    assert _ids(w.doc.layers.schools) == OLD_IDS
    assert "schools_senior" in w.layers_panel.keys()
    path = write_schools(tmp_path / "new", fmt)
    w.files.add_layer_file(path, "schools")
    _wait_loaded(qtbot, w, NEW_IDS)
    _assert_new_schools_shown(w, path)
    assert not w.last_error and not _message_boxes(w)


def test_adding_a_layer_with_unsaved_edits_asks_first(qtbot, open_window, project, tmp_path):
    w = open_window(project)
    path = write_schools(tmp_path / "new", "csv")
    layers = w.doc.layers
    w.doc.set_dirty(True)
    asked = []
    w.confirm = lambda title, text: asked.append(text) or False
    w.files.add_layer_file(path, "schools")
    assert len(asked) == 1 and "撤销" in asked[0]  # the window speaks Chinese by default
    assert not w.jobs.io.busy and w.doc.layers is layers  # declined: nothing reloaded
    w.confirm = lambda title, text: asked.append(text) or True
    w.files.add_layer_file(path, "schools")
    _wait_loaded(qtbot, w, NEW_IDS)
    assert len(asked) == 2


def test_added_layer_is_used_by_the_next_run(qtbot, open_window, project, tmp_path):
    w = open_window(project)
    path = write_schools(tmp_path / "new", "csv")
    w.files.add_layer_file(path, "schools")
    _wait_loaded(qtbot, w, NEW_IDS)
    w.jobs.run("all")
    qtbot.waitUntil(
        lambda: bool(w.doc.result is not None and w.doc.result.status != "empty" and idle(w)),
        timeout=TIMEOUT_MS,
    )
    result = w.doc.result
    existing = result.schools[result.schools["layout_status"] != "new"]
    assert _ids(existing) == NEW_IDS
    zones = set(result.catchments["school_id"].astype(str))
    assert "S05" in zones and "S04" not in zones
    # The county's only senior school is gone from the data: the plan sites a new one.
    senior = result.catchments[result.catchments["level"] == "senior"]
    new_ids = _ids(result.schools[result.schools["layout_status"] == "new"])
    assert len(senior) and set(senior["school_id"].astype(str)) <= new_ids
    assert w.tables.models["catchments"].rowCount() == len(result.catchments)


def test_add_layer_dialog_asks_file_and_kind(qtbot, open_window, project, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QFileDialog, QInputDialog

    w = open_window(project)
    path = write_schools(tmp_path / "new", "xlsx")
    asked = {}

    def get_item(parent, title, label, items, current=0, editable=True):
        asked["items"] = list(items)
        return items[0], True

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    monkeypatch.setattr(QInputDialog, "getItem", get_item)
    w.files.add_layer_dialog()
    _wait_loaded(qtbot, w, NEW_IDS)
    assert asked["items"][0] == "schools 学校" and len(asked["items"]) == 6
    _assert_new_schools_shown(w, path)


def test_add_layer_dialog_canceled_changes_nothing(qtbot, open_window, project, monkeypatch):
    from PyQt6.QtWidgets import QFileDialog

    w = open_window(project)
    layers, revision = w.doc.layers, w.doc.revision
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: ("", ""))
    w.files.add_layer_dialog()
    assert not w.jobs.io.busy and w.doc.layers is layers and w.doc.revision == revision


def test_unrecognised_headings_are_matched_in_the_dialog(
    qtbot, open_window, project, tmp_path, monkeypatch
):
    from app.gui import column_mapping

    w = open_window(project)
    odd = {
        "学校代码": "XXDM",
        "学校名称": "XXMC",
        "学段": "XD",
        "班级数": "BJS",
        "在校生数": "ZXS",
        "教师数": "JSS",
        "办学质量": "ZL",
        "城乡类别": "CX",
    }
    path = tmp_path / "new" / "xx.gpkg"
    path.parent.mkdir()
    new_schools().rename(columns=odd).to_file(path, layer="xx", driver="GPKG")
    seen = {}
    choose = {"school_id": "XXDM", "name": "XXMC", "classes": "BJS", "students": "ZXS"}

    def exec_(dlg):
        seen["missing_before"] = dlg.missing()
        for field, heading in choose.items():
            dlg.boxes[field].setCurrentText(heading)
        seen["missing_after"] = dlg.missing()
        return 1

    monkeypatch.setattr(column_mapping.ColumnMappingDialog, "exec", exec_)
    # Only the level is required (ids come from rows, capacity is assumed); left unchosen in
    # the dialog, the loader still finds it by its values (小学/初中…) and the layer loads.
    w.files.add_layer_file(path, "schools")
    _wait_loaded(qtbot, w, NEW_IDS)
    assert seen["missing_before"] == ["level"]
    assert seen["missing_after"] == ["level"]
    assert w.doc.config.sources["schools"].columns == choose
    assert w.tables.models["schools"].rowCount() == 4
    assert not w.last_error


def test_mapping_dialog_canceled_adds_nothing(qtbot, open_window, project, tmp_path, monkeypatch):
    from app.gui import column_mapping

    w = open_window(project)
    path = tmp_path / "xx.csv"
    pd.DataFrame({"A": ["1"], "B": ["x"], "经度": [111.6], "纬度": [25.5]}).to_csv(
        path, index=False
    )
    monkeypatch.setattr(column_mapping.ColumnMappingDialog, "exec", lambda dlg: 0)
    layers = w.doc.layers
    w.files.add_layer_file(path, "schools")
    assert not w.jobs.io.busy and w.doc.layers is layers
    assert w.doc.config.sources["schools"].file.name == "county.gpkg"


def _broken(tmp_path: Path, case: str) -> tuple[Path, str, str]:
    """(file, kind, a word of the fix the message must give)."""
    folder = tmp_path / "broken"
    folder.mkdir(exist_ok=True)
    if case == "no_crs":
        path = folder / "schools.shp"
        new_schools().rename(columns=ENGLISH).to_file(path, encoding="utf-8")
        path.with_suffix(".prj").unlink()
        return path, "schools", "crs ="
    if case == "wrong_columns":
        path = folder / "学校.csv"
        df = as_table(new_schools()).drop(columns=["经度", "纬度"])
        df["X坐标值"], df["Y坐标值"] = 111.6, 25.5
        df.to_csv(path, index=False, encoding="utf-8-sig")
        return path, "schools", "经度"
    if case == "empty":
        path = folder / "人口.gpkg"
        population().iloc[:0].to_file(path, layer="population", driver="GPKG")
        return path, "population", "right file"
    if case == "garbage":
        path = folder / "学校.gpkg"
        path.write_bytes(b"\x00\x01 not a geopackage \xff\xfe" * 50)
        return path, "schools", "QGIS"
    raise ValueError(case)  # pragma: no cover


@pytest.mark.parametrize("case", ["no_crs", "wrong_columns", "empty", "garbage"])
def test_broken_file_is_a_message_naming_file_and_fix(qtbot, open_window, project, tmp_path, case):
    w = open_window(project)
    layers, config = w.doc.layers, w.doc.config
    old_source = config.sources["schools"]
    path, kind, fix = _broken(tmp_path, case)
    w.files.add_layer_file(path, kind)
    qtbot.waitUntil(lambda: bool(w.last_error) and idle(w), timeout=TIMEOUT_MS)
    text = w.last_error
    assert path.name in text and fix in text, text
    assert "Traceback" not in text
    boxes = _message_boxes(w)
    assert boxes and path.name in boxes[-1].text()
    # The project stays open as it was; the broken file is not kept in its configuration.
    assert w.doc.layers is layers
    assert w.doc.config.sources["schools"] == old_source
    assert w.doc.config.sources[kind].file.name == "county.gpkg"
    assert w.tables.models["schools"].rowCount() == 4
    # The check panel lists the problem with its fix.
    panel = w.check_panel.table
    rows = [
        [panel.item(r, c).text() for c in range(panel.columnCount())]
        for r in range(panel.rowCount())
    ]
    assert any(path.name in r and any(fix in cell for cell in r) for r in rows), rows


# ----------------------------------------------------------------------------- drag and drop
def _drop(w, path_or_url) -> bool:
    from PyQt6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PyQt6.QtGui import QDragEnterEvent, QDropEvent

    url = path_or_url if isinstance(path_or_url, QUrl) else QUrl.fromLocalFile(str(path_or_url))
    mime = QMimeData()
    mime.setUrls([url])
    enter = QDragEnterEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    enter.ignore()
    w.dragEnterEvent(enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    w.dropEvent(drop)
    return True


def test_drop_a_layer_file_adds_it(qtbot, open_window, project, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QInputDialog

    w = open_window(project)
    path = write_schools(tmp_path / "new", "geojson")
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("schools 学校", True))
    assert _drop(w, path)
    _wait_loaded(qtbot, w, NEW_IDS)
    _assert_new_schools_shown(w, path)


def test_drop_a_project_opens_it(qtbot, open_window, project, tmp_path):
    w = open_window(project)
    other = write_project(tmp_path / "other", schools_gdf=new_schools())
    assert _drop(w, other)
    _wait_loaded(qtbot, w, NEW_IDS)
    assert w.doc.project_path == other
    # A folder holding a project.toml opens the same way.
    assert _drop(w, project.parent)
    _wait_loaded(qtbot, w, OLD_IDS)
    assert w.doc.project_path == project


def test_drop_a_saved_scenario_opens_it(qtbot, open_window, project, tmp_path):
    w = open_window(project)
    _edit(w)
    saved = tmp_path / "方案A"
    w.files.save_to(saved)
    qtbot.waitUntil(lambda: bool(not w.doc.dirty and idle(w)), timeout=TIMEOUT_MS)
    w.files.open_path(project)
    qtbot.waitUntil(lambda: bool(w.doc.scenario_path is None and idle(w)), timeout=TIMEOUT_MS)
    assert w.doc.choices.locked_pairs == ()
    assert _drop(w, saved / "scenario.json")  # the file, as a file manager hands it over
    qtbot.waitUntil(lambda: bool(w.doc.scenario_path == saved and idle(w)), timeout=TIMEOUT_MS)
    assert w.doc.choices.locked_pairs == (("S01", "S03", "primary"),)
    assert w.tables.models["schools"].rowCount() == 4


def test_drop_of_a_web_link_is_refused(qtbot, open_window, project):
    from PyQt6.QtCore import QUrl

    w = open_window(project)
    layers = w.doc.layers
    assert not _drop(w, QUrl("https://example.com/schools.gpkg"))
    assert not w.jobs.io.busy and w.doc.layers is layers


# ----------------------------------------------------------------------------- autosave
def _edit(w) -> tuple[float, float]:
    """Move S01 1 km east and lock S03 under S01: returns S01's new position."""
    doc = w.doc
    x, y = doc.school_xy("S01")
    lat, lng = doc.to_latlng(x + 1000.0, y)
    w.edit.on_school_dragged("S01", "primary", lat, lng)
    w.edit.lock_pair("S01", "S03", "primary")
    assert doc.dirty and doc.choices.locked_pairs == (("S01", "S03", "primary"),)
    return x + 1000.0, y


def _autosave(qtbot, w) -> Path:
    w.files.autosave()
    qtbot.waitUntil(lambda: bool(w.files.autosave_path is not None and idle(w)), timeout=TIMEOUT_MS)
    assert (w.files.autosave_path / "scenario.json").exists()
    return w.files.autosave_path


def _answer(monkeypatch, button):
    from PyQt6.QtWidgets import QMessageBox

    asked = []

    def question(parent, title, text, *a, **k):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


def _real_confirm(w):
    """quiet() answers every question; these tests go through QMessageBox.question instead."""
    w.ask_unsaved = lambda: "discard"
    return w


def test_autosave_is_offered_and_restored(qtbot, open_window, project, monkeypatch):
    from PyQt6.QtWidgets import QMessageBox

    w1 = open_window(project)
    x, y = _edit(w1)
    folder = _autosave(qtbot, w1)
    assert w1.files.autosave_folder() == folder
    # The first window "crashes": it stays open, never saved. A new window opens the project.
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w2 = open_window(project, wait=False, hooks=_real_confirm)
    qtbot.waitUntil(
        lambda: bool(w2.doc.layers is not None and w2.doc.dirty and idle(w2)), timeout=TIMEOUT_MS
    )
    assert len(asked) == 1
    assert "自动保存" in asked[0] or "autosave" in asked[0].lower()
    doc = w2.doc
    assert doc is not w1.doc
    assert doc.school_xy("S01") == pytest.approx((x, y), abs=1e-6)
    assert doc.choices.locked_pairs == (("S01", "S03", "primary"),)
    assert doc.project_path == project and doc.scenario_path is None
    assert w2.tables.models["schools"].rowCount() == len(doc.layers.schools) == 4
    qtbot.waitUntil(lambda: w2.map.info.get("counts", {}).get("schools") == 4, timeout=TIMEOUT_MS)
    assert not w2.last_error


def test_autosave_declined_keeps_the_files_state(qtbot, open_window, project, monkeypatch):
    from PyQt6.QtWidgets import QMessageBox

    w1 = open_window(project)
    x0, y0 = w1.doc.school_xy("S01")
    _edit(w1)
    folder = _autosave(qtbot, w1)
    asked = _answer(monkeypatch, QMessageBox.StandardButton.No)
    w2 = open_window(project, wait=False, hooks=_real_confirm)
    qtbot.waitUntil(
        lambda: bool(asked and w2.doc.layers is not None and idle(w2)), timeout=TIMEOUT_MS
    )
    doc = w2.doc
    assert len(asked) == 1
    assert doc.school_xy("S01") == pytest.approx((x0, y0), abs=1e-6)
    assert doc.choices.locked_pairs == () and not doc.dirty
    assert (folder / "scenario.json").exists()  # kept: the planner may still want it


def test_no_offer_when_the_autosave_is_older_than_the_file(
    qtbot, open_window, project, monkeypatch
):
    import os

    from PyQt6.QtWidgets import QMessageBox

    w1 = open_window(project)
    _edit(w1)
    folder = _autosave(qtbot, w1)
    old = (folder / "scenario.json").stat().st_mtime - 60
    os.utime(folder / "scenario.json", (old, old))
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w2 = open_window(project, hooks=_real_confirm)
    qtbot.wait(200)
    assert asked == [] and not w2.doc.dirty and w2.doc.choices.locked_pairs == ()


def test_save_and_close_removes_the_autosave(qtbot, open_window, project, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QMessageBox

    w1 = open_window(project)
    _edit(w1)
    folder = _autosave(qtbot, w1)
    saved = tmp_path / "saved_scenario"
    w1.files.save_to(saved)
    qtbot.waitUntil(lambda: bool(not w1.doc.dirty and idle(w1)), timeout=TIMEOUT_MS)
    assert (saved / "scenario.json").exists()
    w1.close()
    assert not folder.exists()
    # Nothing is offered when the project is opened again.
    asked = _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w2 = open_window(project, hooks=_real_confirm)
    qtbot.wait(200)
    assert asked == [] and not w2.doc.dirty


def test_restored_autosave_is_removed_after_save_and_close(
    qtbot, open_window, project, tmp_path, monkeypatch
):
    from PyQt6.QtWidgets import QMessageBox

    w1 = open_window(project)
    _edit(w1)
    folder = _autosave(qtbot, w1)
    _answer(monkeypatch, QMessageBox.StandardButton.Yes)
    w2 = open_window(project, wait=False, hooks=_real_confirm)
    qtbot.waitUntil(lambda: bool(w2.doc.dirty and idle(w2)), timeout=TIMEOUT_MS)
    w2.files.save_to(tmp_path / "saved")
    qtbot.waitUntil(lambda: bool(not w2.doc.dirty and idle(w2)), timeout=TIMEOUT_MS)
    w2.close()
    assert not folder.exists()


def test_save_on_close_asks_a_folder_saves_and_removes_the_autosave(
    qtbot, open_window, project, tmp_path, monkeypatch
):
    """Closing with unsaved edits of a project never saved as a scenario, answering Save."""
    from PyQt6.QtWidgets import QFileDialog

    from store.scenario import load_scenario

    w = open_window(project)
    x, y = _edit(w)
    autosaved = _autosave(qtbot, w)
    target = tmp_path / "关闭时保存"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(target))
    w.ask_unsaved = lambda: "save"
    assert w.close()
    sc = load_scenario(target)
    row = sc.layers.schools[sc.layers.schools["school_id"].astype(str) == "S01"].iloc[0]
    assert (row.geometry.x, row.geometry.y) == pytest.approx((x, y), abs=1e-6)
    assert sc.choices.locked_pairs == (("S01", "S03", "primary"),)
    assert not autosaved.exists()


def test_save_on_close_canceled_keeps_the_window(qtbot, open_window, project, monkeypatch):
    from PyQt6.QtWidgets import QFileDialog

    w = open_window(project)
    _edit(w)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    w.ask_unsaved = lambda: "save"
    assert not w.close()
    assert w.isVisible() and w.doc.dirty
