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
    apart=None,
    report_pdf: bool = True,
) -> dict[str, Path]:
    """Write map.html, map.png, map.pdf, tables.xlsx and the documents (those in ``formats``).

    Returns {format: path} ("report", "report_pdf", "agreements" for "docx"); adds "styles" when
    plan.gpkg in ``out_dir`` received QGIS styles.
    ``timings`` (optional) receives seconds per stage, for the benchmark. ``beside``
    (optional): the print map's ``beside`` (the window passes ``app.gui.workers.run_beside``).
    ``apart(fn) -> join`` (optional; the command line passes ``app.gui.workers.run_apart``):
    runs the PDF pages and the tables in another process while this one writes the rest; the
    stages do not share state, so the files are the same either way.
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
    job = _Export(result, out, lang, paper, beside)
    far = tuple(f for f in FAR_STAGES if f in formats) if apart is not None else ()
    # Started first, before this process starts threads of its own (a fork copies only this one).
    join = (apart or _now)(lambda: job.run(far))
    near = tuple(f for f in FORMATS if f in formats and f not in far)
    files, t = job.run(near, online_basemap)
    t0 = time.perf_counter()
    far_files, far_t = join()
    t["wait"] = time.perf_counter() - t0
    t.update(far_t)
    order = ("html", "png", "pdf", "xlsx", "report", "agreements")
    files = {k: v for part in (files, far_files) for k, v in part.items()}
    files = {k: files[k] for k in sorted(files, key=order.index)}
    if "docx" in formats and "pdf" in formats and report_pdf:
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
    if timings is not None:
        timings.update(t)
    return files


# Apart: about half the work on the sample county (the PDF pages and the tables; map.html,
# map.png and the report, which embeds map.png from memory, stay). In one process map.png and the
# PDF's first page are one drawing.
FAR_STAGES = ("pdf", "xlsx")


def _now(fn):
    value = fn()
    return lambda: value


class _Export:
    """The stages of one export; each writes its own files and reads only the plan."""

    def __init__(self, result, out: Path, lang: str, paper: str, beside) -> None:
        self.result, self.out, self.lang, self.paper, self.beside = result, out, lang, paper, beside
        self.images: dict = {}  # the print map's overview page, handed to the report in memory

    def run(self, stages: tuple[str, ...], online_basemap: bool = False):
        files: dict[str, Path] = {}
        t: dict[str, float] = {}
        for stage in stages:
            t0 = time.perf_counter()
            if stage == "html":
                files.update(self.html(online_basemap))
            elif stage in ("png", "pdf"):
                if stage in files:
                    continue  # drawn with the other one
                kinds = tuple(k for k in ("png", "pdf") if k in stages)
                files.update(self.print_map(kinds))
                stage = "print" if len(kinds) == 2 else stage
            elif stage == "xlsx":
                from app.export.tables import write_tables

                files["xlsx"] = write_tables(self.result, self.out / "tables.xlsx", lang=self.lang)
            elif stage == "docx":
                files.update(self.documents(files.get("png")))
            t[stage] = time.perf_counter() - t0
        return files, t

    def html(self, online_basemap: bool) -> dict[str, Path]:
        from app.export.mapbuilder import DEFAULT_TILES, build_map
        from app.export.offline import save_offline

        fmap = build_map(self.result, lang=self.lang, online_basemap=online_basemap)
        allow = (DEFAULT_TILES,) if online_basemap else ()
        return {"html": save_offline(fmap, self.out / "map.html", allow=allow)}

    def print_map(self, kinds: tuple[str, ...]) -> dict[str, Path]:
        from app.export.printmap import render_print

        return render_print(
            self.result,
            png=self.out / "map.png" if "png" in kinds else None,
            pdf=self.out / "map.pdf" if "pdf" in kinds else None,
            lang=self.lang,
            paper=self.paper,
            beside=self.beside,
            images=self.images,
        )

    def documents(self, png: Path | None) -> dict[str, Path]:
        from app.export.agreements import write_plan_agreements
        from app.export.report import write_report

        out = self.out
        png = png or (out / "map.png" if (out / "map.png").exists() else None)
        return {
            "report": write_report(
                self.result, out / "report.docx", map_png=png, map_image=self.images.get("png")
            ),
            "agreements": write_plan_agreements(self.result, out),
        }
