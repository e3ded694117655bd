"""Print map: a real, non-blank PNG drawn with a CJK font; PDF pages; A4 option; label placement."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from matplotlib import image as mpimg
from matplotlib import rc_context
from matplotlib.patches import Rectangle
from test_export_fixture import make_plan

from app.export.fonts import find_cjk_font
from app.export.printmap import PAPER_MM, render_print

needs_font = pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font on this machine")


@pytest.mark.slow  # renders an A3 page at 300 dpi
@needs_font
def test_png_is_a3_300dpi_not_blank_and_drawn_with_the_cjk_font(tmp_path):
    plan = make_plan()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font" for boxes
        files = render_print(plan, png=tmp_path / "map.png", pdf=tmp_path / "map.pdf")
    img = mpimg.imread(files["png"])
    h, w = img.shape[:2]
    assert (w, h) == pytest.approx(
        (PAPER_MM["A3"][0] / 25.4 * 300, PAPER_MM["A3"][1] / 25.4 * 300), abs=2
    )
    rgb = img[..., :3]
    not_white = (rgb < 0.95).any(axis=2).mean()
    assert 0.05 < not_white < 0.9, "map looks blank or flooded"
    assert len(np.unique((rgb[::7, ::7] * 255).astype(np.uint8).reshape(-1, 3), axis=0)) > 20
    pdf = files["pdf"].read_bytes()
    font = find_cjk_font()
    ps_name = font.family.replace(" ", "")  # e.g. NotoSansCJKsc / WenQuanYiMicroHei
    assert ps_name.lower()[:8].encode() in pdf.lower(), "CJK font not embedded in the PDF"
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 4  # overview + one page per level


def _page(plan, paper="A4", dpi=100):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from app.export import printmap

    with rc_context(printmap.print_rc()):
        fig = Figure(figsize=printmap._paper(paper), dpi=dpi)
        FigureCanvasAgg(fig)
        stats = printmap._draw_page(
            fig, plan, lang="zh", paper=paper, level=None, zone_level="primary"
        )
        fig.canvas.draw()
    return fig, stats


def _name_boxes(fig, ax, plan):
    r = fig.canvas.get_renderer()
    names = set(plan.schools["name"])
    return [t.get_window_extent(r) for t in ax.texts if t.get_text() in names]


def _no_overlap(boxes):
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


@needs_font
def test_labels_do_not_overlap_and_a4_works(tmp_path):
    plan = make_plan((40, 12, 6), size_km=30)  # crowded: many names compete for space
    fig, stats = _page(plan)
    axes = {a.get_label(): a for a in fig.axes}
    per_axes = [_name_boxes(fig, a, plan) for a in axes.values()]
    assert stats["labels"] == sum(map(len, per_axes)) > 5
    for boxes in per_axes:
        _no_overlap(boxes)
        # Drawn, the names stay inside their map (measured at layout time, checked after).
    main = axes["map"].get_window_extent()
    for b in per_axes[list(axes).index("map")]:
        assert main.x0 - 1 <= b.x0 and b.x1 <= main.x1 + 1 and main.y0 - 1 <= b.y0
    files = render_print(plan, png=tmp_path / "a4.png", paper="A4", dpi=100)
    h, w = mpimg.imread(files["png"]).shape[:2]
    assert w > h  # landscape


@needs_font
def test_village_names_where_there_is_room_over_nothing_else():
    """Issue 17: village names on the print map, small and grey, only where they overlap no
    school name, symbol, township name or other village name."""
    from matplotlib.colors import to_hex

    from app.export import symbology as sym

    plan = make_plan((40, 12, 6), size_km=30)
    fig, stats = _page(plan)
    ax = next(a for a in fig.axes if a.get_label() == "map")
    r = fig.canvas.get_renderer()
    villages = {v[0] for v in sym.village_names(plan.demand)}
    towns = {t for t in plan.demand["town"]}
    drawn = [t for t in ax.texts if t.get_text() in villages]
    assert len(drawn) == stats["villages"] > 3
    assert len(drawn) < len(villages)  # not every village has room beside the school names
    assert {to_hex(t.get_color()) for t in drawn} == {sym.VILLAGE_LABEL.lower()}
    assert all(t.get_fontsize() < 6 for t in drawn)
    others = _name_boxes(fig, ax, plan) + [
        t.get_window_extent(r) for t in ax.texts if t.get_text() in towns
    ]
    boxes = [t.get_window_extent(r) for t in drawn]
    _no_overlap(boxes)
    for b in boxes:
        assert not any(b.overlaps(o) for o in others)


@needs_font
@pytest.mark.parametrize("paper", ["A3", "A4"])
def test_crowded_county_seat_gets_a_framed_inset_with_readable_names(paper):
    plan = make_plan((30, 8, 4), size_km=50, seat=12)
    fig, stats = _page(plan, paper=paper)
    inset = stats["inset"]
    assert inset is not None and inset["magnification"] > 2
    axes = {a.get_label(): a for a in fig.axes}
    ix, ax = axes["inset"], axes["map"]
    # The frame on the main map shows exactly the inset's extent, with its letter.
    frames = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_zorder() == 16]
    assert len(frames) == 1
    (x0, y0), (x1, y1) = (
        frames[0].get_xy(),
        (
            frames[0].get_x() + frames[0].get_width(),
            frames[0].get_y() + frames[0].get_height(),
        ),
    )
    assert (x0, x1) == pytest.approx(ix.get_xlim()) and (y0, y1) == pytest.approx(ix.get_ylim())
    assert any(t.get_text().strip() == "A" for t in ax.texts)
    assert any(t.get_text().startswith("A  局部放大图") for t in ix.texts)
    # Most of the seat's schools are named in the inset, names apart and inside the frame.
    boxes = _name_boxes(fig, ix, plan)
    assert len(boxes) == inset["labels"] >= 0.6 * inset["schools"] and inset["schools"] >= 8
    _no_overlap(boxes)
    frame = ix.get_window_extent()
    assert all(frame.x0 - 1 <= b.x0 and b.x1 <= frame.x1 + 1 for b in boxes)
    # The inset does not cover the main map, and no main-map name lies on the frame.
    assert not ix.get_window_extent().overlaps(ax.get_window_extent())
    (fx0, fy0), (fx1, fy1) = ax.transData.transform([(x0, y0), (x1, y1)])
    for b in _name_boxes(fig, ax, plan):
        assert not (b.x0 < fx1 and fx0 < b.x1 and b.y0 < fy1 and fy0 < b.y1)
    # With the inset, fewer schools stay unnamed than on the main map alone.
    assert stats["unlabelled"] < stats["unlabelled_without_inset"] / 2
    sparse = make_plan((30, 8, 4), size_km=50)
    assert _page(sparse, paper=paper)[1]["inset"] is None  # no crowding: no inset


def test_title_does_not_say_plan_twice():
    from app.export.symbology import plan_title

    assert plan_title({"project": "道县"}, "zh") == "道县学校布局规划图"
    assert plan_title({"project": "道县学校布局规划(示例)"}, "zh") == "道县学校布局规划图(示例)"
    assert plan_title({"project": "道县学校布局规划图"}, "zh") == "道县学校布局规划图"
    assert plan_title({"project": "道县2025规划方案"}, "zh") == "道县2025规划方案 — 学校布局规划图"
    assert (
        plan_title({"project": "道县", "scenario": "基准"}, "zh") == "道县学校布局规划图(方案:基准)"
    )
    assert plan_title({"project": "Daoxian"}, "en") == "Daoxian — school layout plan"
    assert plan_title({}, "zh") == "学校布局规划图"


def test_unknown_paper_is_a_user_error(tmp_path):
    from core.errors import SchoolPlanError

    with pytest.raises(SchoolPlanError):
        render_print(make_plan(), png=tmp_path / "x.png", paper="B5")


@pytest.mark.slow  # two exports of a small plan
@needs_font
def test_export_apart_writes_what_one_process_writes(tmp_path):
    """The command line writes the PDF pages and the tables in a forked process: same files,
    same pages, same map.png pixels, same table cells as an export in one process."""
    from openpyxl import load_workbook

    from app.export import export_all
    from app.gui.workers import run_apart

    plan = make_plan()
    formats = ("png", "pdf", "xlsx")
    timings: dict = {}
    one = export_all(plan, tmp_path / "one", formats=formats, paper="A4")
    two = export_all(
        plan, tmp_path / "two", formats=formats, paper="A4", apart=run_apart, timings=timings
    )
    assert set(one) == set(two) == set(formats)
    assert {"png", "pdf", "xlsx", "wait"} <= set(timings)  # the far lane's stages came back
    assert np.array_equal(mpimg.imread(one["png"]), mpimg.imread(two["png"]))
    pages = [len(re.findall(rb"/Type\s*/Page(?!s)", f["pdf"].read_bytes())) for f in (one, two)]
    assert pages == [4, 4]
    a, b = (load_workbook(f["xlsx"]) for f in (one, two))
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        cells = [[c.value for c in row] for row in a[name].iter_rows()]
        assert cells == [[c.value for c in row] for row in b[name].iter_rows()], name
