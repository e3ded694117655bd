"""The maps show the plan's decisions: new schools, schools to merge, transitional schools,
zones by utilisation, roads, township and village names (HTML payload and print page)."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pytest
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from shapely.geometry import LineString
from test_export_fixture import make_plan

from app.export import printmap
from app.export import symbology as sym
from app.export.fonts import find_cjk_font
from app.export.mapbuilder import build_map, build_payload


@pytest.fixture(scope="module")
def plan():
    p = make_plan()
    c = p.boundary.geometry.iloc[0].centroid
    roads = gpd.GeoDataFrame(
        {"speed_kmh": [80.0, 30.0]},
        geometry=[LineString([(c.x - 9000, c.y), (c.x + 9000, c.y)]),
                  LineString([(c.x, c.y - 9000), (c.x, c.y + 9000)])],
        crs=p.schools.crs,
    )  # fmt: skip
    return dataclasses.replace(p, roads=roads)


def test_html_payload_marks_every_decision(plan):
    d = build_payload(plan)
    by_status = {}
    for s in d["schools"]:
        by_status.setdefault(s["status"], []).append(s)
    new = by_status["new"]
    assert all(s["shape"] == "star" and s["label"] for s in new)  # labelled on the map
    others = [s["size"] for st, ss in by_status.items() if st != "new" for s in ss]
    assert min(s["size"] for s in new) >= max(others)  # sized by places, never small
    assert by_status["to_merge"] and by_status["transitional"]
    legend = d["legendHtml"]
    for word in ("新建学校", "撤并学校", "过渡学校", "学区学位利用率", "道路"):
        assert word in legend
    util = {f["properties"]["ucolor"] for z in d["zones"].values() for f in z["features"]}
    assert util <= set(sym.UTIL_COLORS) and len(util) > 1
    assert all("zonesUtil" in names for names in d["layerNames"].values())
    assert d["roads"] and d["towns"] and d["villages"]
    assert not any(u["tip"].count("U0") for us in d["unserved"].values() for u in us)


def test_html_page_has_a_title_and_no_leaflet_prefix(plan):
    html = build_map(plan).get_root().render()
    assert "<title>示范县学校布局规划图(基准方案:" not in html  # the scenario is bracketed once
    assert "<title>示范县学校布局规划图(方案:基准方案)</title>" in html
    assert "attributionControl.setPrefix(false)" in html


@pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font")
def test_print_page_draws_decisions_with_their_legend(plan):
    with rc_context(printmap.print_rc()):
        fig = Figure(figsize=printmap._paper("A4"), dpi=50)
        FigureCanvasAgg(fig)
        stats = printmap._draw_page(
            fig, plan, lang="zh", paper="A4", level=None, zone_level="primary"
        )
    assert stats["new"] == 1 and stats["to_merge"] >= 1 and stats["transitional"] >= 1
    assert stats["towns"] >= 3
    axes = {a.get_label(): a for a in fig.axes}
    legend = [t.get_text() for t in axes["panel"].get_legend().get_texts()]
    for word in ("新建学校", "撤并学校", "过渡学校", "道路"):
        assert any(word in x for x in legend), word
    assert any("利用率" in x for x in legend)
    fills = {
        to_hex(fc, keep_alpha=False)
        for coll in axes["map"].collections
        for fc in getattr(coll, "get_facecolors", lambda: [])()
    }
    assert {c.lower() for c in sym.UTIL_COLORS} & fills  # zones coloured by utilisation band
