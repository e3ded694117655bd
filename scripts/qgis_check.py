"""Open a plan.gpkg in QGIS (headless) the way a planner would, and report what QGIS makes of it.

Not a test: QGIS is no dependency of SchoolPlan. Run it with the system Python that has the QGIS
bindings (Debian/Ubuntu: ``apt-get install qgis python3-qgis``), not the project's venv:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 scripts/qgis_check.py out/daoxian/plan.gpkg \
        --png /tmp/qgis_plan.png

For every layer: its CRS, the styles stored in ``layer_styles`` (each parsed by QGIS, errors
printed), the renderer and its rules, the Chinese field aliases and the value maps. Then the
boundary, catchments (each level with its own stored style), groups, schools and new schools are
rendered to PNG files, one per level, as QGIS draws them. Exit 1 when QGIS rejects a style or a
layer does not load.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# QGIS ships its bindings for the system Python only; without them there is nothing to check.
try:
    from qgis.core import (
        Qgis,
        QgsApplication,
        QgsMapRendererSequentialJob,
        QgsMapSettings,
        QgsRectangle,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor
    from qgis.PyQt.QtXml import QDomDocument
except ImportError:
    sys.exit(
        "QGIS Python bindings not found: run with the system python3 after 'apt-get install python3-qgis'"
    )

LAYERS = ("boundary", "catchments", "groups", "demand", "new_schools", "schools")
# Drawn bottom to top; demand (village points) is left out of the picture to keep it legible.
DRAWN = ("boundary", "catchments", "groups", "schools", "new_schools")


def open_layer(gpkg: Path, name: str) -> QgsVectorLayer:
    # Opening through OGR applies the default style of layer_styles, as QGIS does for a user.
    return QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")


def stored_styles(layer: QgsVectorLayer) -> list[tuple[str, str]]:
    """(id, name) of the styles of ``layer`` in its GeoPackage's layer_styles table."""
    # (count, ids, names, descriptions, error): the first ``count`` belong to this layer, the
    # rest to the other tables of the file.
    count, ids, names = layer.listStylesInDatabase()[:3]
    return list(zip(ids, names, strict=True))[:count]


def apply_style(layer: QgsVectorLayer, style_id: str) -> str:
    """Load one stored style into ``layer`` the way QGIS does; '' when accepted, else the error."""
    qml = layer.getStyleFromDatabase(style_id)
    if isinstance(qml, tuple):  # (qml, error) in some QGIS versions
        qml = qml[0]
    doc = QDomDocument()
    parsed = doc.setContent(qml)
    if not (parsed[0] if isinstance(parsed, tuple) else parsed):
        return f"style {style_id}: not well-formed XML"
    ok, err = layer.importNamedStyle(doc)
    return "" if ok else f"style {style_id}: {err}"


def describe(layer: QgsVectorLayer) -> list[str]:
    """Renderer, rules and the fields' aliases and value maps, as QGIS reads them."""
    lines = []
    r = layer.renderer()
    lines.append(f"  renderer: {r.type() if r else None}")
    if r is not None and r.type() == "RuleRenderer":
        for rule in r.rootRule().descendants():
            lines.append(f"    rule {rule.label()!r}: {rule.filterExpression()}")
    lab = layer.labeling()
    if lab is not None:
        lines.append(f"  labels: {lab.type()} on {layer.labelsEnabled()}")
    for i, field in enumerate(layer.fields()):
        alias = layer.attributeAlias(i)
        setup = layer.editorWidgetSetup(i)
        text = f"    {field.name()}: alias {alias!r}" if alias else ""
        if setup.type() == "ValueMap":
            entries = setup.config().get("map") or []
            pairs = [f"{v}={k}" for e in entries for k, v in e.items()]
            text = (text or f"    {field.name()}:") + f"; value map {', '.join(pairs)}"
        if text:
            lines.append(text)
    return lines


def render(layers: list[QgsVectorLayer], extent: QgsRectangle, png: Path, size: int) -> None:
    settings = QgsMapSettings()
    settings.setLayers(list(reversed(layers)))  # QgsMapSettings wants top layer first
    settings.setDestinationCrs(layers[0].crs())
    settings.setBackgroundColor(QColor(255, 255, 255))
    settings.setOutputSize(QSize(size, size))
    settings.setOutputDpi(150)
    grown = QgsRectangle(extent)
    grown.scale(1.04)
    settings.setExtent(grown)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(png), "PNG")
    for err in job.errors():
        print(f"  render error in {err.layerID}: {err.message}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gpkg", type=Path)
    ap.add_argument("--png", type=Path, default=Path("qgis_plan.png"),
                    help="picture of the first level; others get _<level> before .png")  # fmt: skip
    ap.add_argument("--size", type=int, default=1600, help="picture size in pixels")
    args = ap.parse_args()

    QgsApplication.setPrefixPath("/usr", True)
    app = QgsApplication([], False)
    app.initQgis()
    print(f"QGIS {Qgis.QGIS_VERSION}; {args.gpkg}")
    problems = 0
    layers: dict[str, QgsVectorLayer] = {}
    catch_styles: list[tuple[str, str]] = []
    for name in LAYERS:
        layer = open_layer(args.gpkg, name)
        if not layer.isValid():
            print(f"{name}: does not load")
            problems += 1
            continue
        crs = layer.crs()
        print(f"\n{name}: {layer.featureCount()} features, {crs.authid()} ({crs.description()})")
        styles = stored_styles(layer)
        print(f"  stored styles: {', '.join(n for _, n in styles) or 'none'}")
        for sid, sname in styles:
            err = apply_style(layer, sid)
            if err:
                print(f"  QGIS rejects {sname!r}: {err}")
                problems += 1
        if styles:  # back to the default (the first stored style) for the report and the picture
            apply_style(layer, styles[0][0])
        if name == "catchments":
            catch_styles = styles
        print("\n".join(describe(layer)))
        layers[name] = layer

    if "boundary" in layers:
        extent = layers["boundary"].extent()
        drawn = [layers[n] for n in DRAWN if n in layers]
        # One picture per catchment style (one per level), as the planner switches styles.
        for k, (sid, sname) in enumerate(catch_styles or [("", "")]):
            if sid:
                apply_style(layers["catchments"], sid)
            png = args.png if k == 0 else args.png.with_stem(f"{args.png.stem}_{k}")
            render(drawn, extent, png, args.size)
            print(f"\nrendered {sname or 'plan'} → {png}")
    app.exitQgis()
    print(f"\n{problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
