"""Exports of a plan for meetings with no internet: offline HTML map, print map, Excel tables,
the plan report and the pairing agreements.

``export_all`` writes every requested format into one folder; plan.gpkg and summary.json are
written by ``store.plan.write_plan`` (this package adds QGIS styles to plan.gpkg when it
is there). "docx" writes report.docx (with map.png when "png" is written too; report.pdf as well
when "pdf" is asked and LibreOffice is installed) and agreements/结对共建协议书.docx.
"""

from __future__ import annotations

import time
from pathlib import Path

from core.errors import SchoolPlanError

FORMATS = ("html", "png", "pdf", "xlsx", "docx")


def export_all(
    result,
    out_dir: str | Path,
    *,
    lang: str = "zh",
    paper: str = "A3",
    formats: tuple[str, ...] = FORMATS,
    online_basemap: bool = False,
    timings: dict[str, float] | None = None,
    beside=None,
    report_pdf: bool = True,
) -> dict[str, Path]:
    """Write map.html, map.png, map.pdf, tables.xlsx and the documents (those in ``formats``).

    Returns {format: path} ("report", "report_pdf", "agreements" for "docx"); adds "styles" when
    plan.gpkg in ``out_dir`` received QGIS styles.
    ``timings`` (optional) receives seconds per format, for the benchmark. ``beside``
    (optional): the print map's ``beside`` (the window passes ``app.gui.workers.run_beside``).
    ``report_pdf``: with "docx" and "pdf", also convert report.docx with LibreOffice (seconds).
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise SchoolPlanError(
            f"未知的导出格式 / unknown export format: {', '.join(unknown)}",
            fix="可选 / choose from: " + ",".join(FORMATS),
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    t = timings if timings is not None else {}
    # Each format's module is imported when that format is asked for: folium and matplotlib are
    # slow to import, and the GUI and the CLI import this package at start.

    if "html" in formats:
        t0 = time.perf_counter()
        from app.export.mapbuilder import DEFAULT_TILES, build_map
        from app.export.offline import save_offline

        fmap = build_map(result, lang=lang, online_basemap=online_basemap)
        allow = (DEFAULT_TILES,) if online_basemap else ()
        files["html"] = save_offline(fmap, out / "map.html", allow=allow)
        t["html"] = time.perf_counter() - t0
    images: dict = {}  # the print map's overview page, handed to the report in memory
    if "png" in formats or "pdf" in formats:
        t0 = time.perf_counter()
        from app.export.printmap import render_print

        files.update(
            render_print(
                result,
                png=out / "map.png" if "png" in formats else None,
                pdf=out / "map.pdf" if "pdf" in formats else None,
                lang=lang,
                paper=paper,
                beside=beside,
                images=images,
            )
        )
        t["print"] = time.perf_counter() - t0
    if "xlsx" in formats:
        t0 = time.perf_counter()
        from app.export.tables import write_tables

        files["xlsx"] = write_tables(result, out / "tables.xlsx", lang=lang)
        t["xlsx"] = time.perf_counter() - t0
    if "docx" in formats:
        t0 = time.perf_counter()
        from app.export.agreements import write_plan_agreements
        from app.export.report import write_report

        png = files.get("png") or (out / "map.png" if (out / "map.png").exists() else None)
        files["report"] = write_report(
            result, out / "report.docx", map_png=png, map_image=images.get("png")
        )
        files["agreements"] = write_plan_agreements(result, out)
        t["docx"] = time.perf_counter() - t0
        if "pdf" in formats and report_pdf:
            t0 = time.perf_counter()
            from app.export.report import to_pdf

            pdf = to_pdf(files["report"])
            if pdf is not None:
                files["report_pdf"] = pdf
            t["report_pdf"] = time.perf_counter() - t0
    gpkg = out / "plan.gpkg"
    if gpkg.exists():
        t0 = time.perf_counter()
        from app.export.styles import write_qgis_styles

        if write_qgis_styles(gpkg, result, lang=lang):
            files["styles"] = gpkg
        t["styles"] = time.perf_counter() - t0
    return files
