"""Print map: a real, non-blank PNG drawn with a CJK font; PDF pages; A4 option; label placement."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from matplotlib import image as mpimg
from matplotlib import rc_context
from test_export_fixture import make_plan

from app.export.fonts import find_cjk_font
from app.export.printmap import PAPER_MM, render_print

needs_font = pytest.mark.skipif(find_cjk_font() is None, reason="no CJK font on this machine")


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


@needs_font
def test_labels_do_not_overlap_and_a4_works(tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from app.export import printmap

    plan = make_plan((40, 12, 6), size_km=30)  # crowded: many names compete for space
    with rc_context(printmap.print_rc()):
        fig = Figure(figsize=printmap._paper("A4"), dpi=100)
        FigureCanvasAgg(fig)
        stats = printmap._draw_page(
            fig, plan, lang="zh", paper="A4", level=None, zone_level="primary"
        )
        ax = fig.axes[0]
        r = fig.canvas.get_renderer()
        boxes = [
            t.get_window_extent(r) for t in ax.texts if t.get_text() in set(plan.schools["name"])
        ]
    assert stats["labels"] == len(boxes) > 5
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    files = render_print(plan, png=tmp_path / "a4.png", paper="A4", dpi=100)
    h, w = mpimg.imread(files["png"]).shape[:2]
    assert w > h  # landscape


def test_unknown_paper_is_a_user_error(tmp_path):
    from planning.errors import SchoolPlanError

    with pytest.raises(SchoolPlanError):
        render_print(make_plan(), png=tmp_path / "x.png", paper="B5")
