"""Read one layer from GeoPackage, Shapefile, GeoJSON, CSV or Excel into a GeoDataFrame.

Every failure becomes an ``InputError`` naming the file and the fix; nothing here knows our
column names beyond longitude/latitude.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import gc
import unicodedata
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyproj
import shapely

from core.errors import InputError, Problem
from geo.columns import match_lonlat
from geo.layers import LAYER_ZH, LayerSource

VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml", ".gml"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}
# China lies within these; used to spot longitude/latitude swapped in a table.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


@overload
def read_layer(
    src: LayerSource, problems: list[Problem], *, defer: Literal[False] = False
) -> gpd.GeoDataFrame: ...
@overload
def read_layer(
    src: LayerSource, problems: list[Problem], *, defer: bool
) -> gpd.GeoDataFrame | PendingLayer: ...
def read_layer(
    src: LayerSource, problems: list[Problem], *, defer: bool = False
) -> gpd.GeoDataFrame | PendingLayer:
    """The raw layer with its own CRS; table rows get a Point from their lon/lat columns.

    With ``defer`` a layer of plain points or lines may come back as a ``PendingLayer`` whose
    shapes are built only by ``to_crs`` (``as_frame`` turns either kind into a GeoDataFrame).
    """
    gdf = _read_layer(src, problems)
    return gdf if defer else as_frame(gdf)


def _read_layer(src: LayerSource, problems: list[Problem]) -> gpd.GeoDataFrame | PendingLayer:
    path = Path(src.file)
    if not path.exists():
        raise InputError(
            f"file not found: {path}",
            fix="check the file name in project.toml or on the command line",
        )
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _read_table(src, path, problems)
    if suffix in VECTOR_SUFFIXES or path.is_dir():
        return _read_vector(src, path, problems)
    raise InputError(
        f"unsupported file type '{suffix}' ({path.name})",
        fix="use GeoPackage (.gpkg), Shapefile (.shp), GeoJSON (.geojson), CSV or Excel (.xlsx)",
    )


def list_layers(path: Path) -> list[str]:
    try:
        stat = Path(path).stat()
        return list(_layer_names(str(path), stat.st_mtime_ns, stat.st_size))
    except Exception:  # noqa: BLE001 - any driver failure means "no layers we can name"
        return []


@functools.lru_cache(maxsize=32)
def _layer_names(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """Names once per file version: a project reads several layers from one GeoPackage."""
    return tuple(str(name) for name, _ in pyogrio.list_layers(path))


def _read_vector(src: LayerSource, path: Path, problems: list[Problem]) -> gpd.GeoDataFrame:
    layers = list_layers(path)
    layer = src.layer
    if layer and layers and layer not in layers:
        raise InputError(
            f"the file has no layer '{layer}'",
            fix=f"use one of its layers: {', '.join(layers)}",
        )
    if not layer and len(layers) > 1:
        # A GeoPackage often holds every layer: take the one named like the key, never guess.
        named = [n for n in layers if n.lower() in (src.key, LAYER_ZH.get(src.key, ""))]
        if not named:
            raise InputError(
                f"the file holds {len(layers)} layers; which one is the {src.key} layer?",
                fix=f'name it as FILE:LAYER on the command line or layer = "..." in project.toml; '
                f"its layers: {', '.join(layers)}",
            )
        layer = named[0]
    gdf = _read_ogr(src, path, layer, problems)
    if isinstance(gdf, PendingLayer):
        return _check_pending(gdf, src, path, problems)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(
            "the layer has no geometry column",
            fix="give a spatial layer, or a table with 经度/纬度 columns",
        )
    if gdf.crs is None:
        gdf = gdf.set_crs(_missing_crs(src))
    if gdf.crs.is_geographic and len(gdf):
        gdf = _unswap_vector(gdf, src, path, problems)
    return gdf


def _missing_crs(src: LayerSource) -> pyproj.CRS:
    if src.crs:
        return _declared_crs(src)
    raise InputError(
        "the layer has no coordinate reference system (CRS)",
        fix=f'declare it in project.toml: [layers.{src.key}] crs = "EPSG:4326" (or the CRS the data was '
        "made in, e.g. EPSG:4490 CGCS2000), or add the missing .prj file",
    )


def _check_pending(
    layer: PendingLayer, src: LayerSource, path: Path, problems: list[Problem]
) -> PendingLayer:
    """``_unswap_vector`` on plain coordinates: same tests, same messages, same result."""
    if layer.crs is None:
        layer.crs = _missing_crs(src)
    if not (layer.crs.is_geographic and len(layer)) or len(layer.xy) == 0:
        return layer
    x, y = layer.xy[:, 0], layer.xy[:, 1]
    if layer.kind == "Point":
        lon = pd.Series(np.nan, index=layer.frame.index)
        lat = pd.Series(np.nan, index=layer.frame.index)
        present = ~layer.null
        lon[present], lat[present] = x, y
        swapped = _swapped(lon, lat).to_numpy()
        if swapped.any():
            rows = np.flatnonzero(swapped)
            flip = swapped[present]
            layer.xy = layer.xy.copy()
            layer.xy[flip] = layer.xy[flip][:, ::-1]
            fix = "check the points: x must be longitude (73–136°E), y latitude (3–54°N)"
            _report_swapped([int(i) + 1 for i in rows], src, path, fix, problems)
        return layer
    minx, maxx, miny, maxy = x.min(), x.max(), y.min(), y.max()
    if _whole_layer_swapped(minx, miny, maxx, maxy):
        layer.xy = np.ascontiguousarray(layer.xy[:, ::-1])
        _report_layer_swapped(src, path, problems)
    return layer


def _whole_layer_swapped(minx: float, miny: float, maxx: float, maxy: float) -> bool:
    return bool(
        CHINA_LAT[0] <= minx <= maxx <= CHINA_LAT[1]
        and CHINA_LON[0] <= miny <= maxy <= CHINA_LON[1]
        and not (CHINA_LON[0] <= minx and maxx <= CHINA_LON[1])
    )


def _report_layer_swapped(src: LayerSource, path: Path, problems: list[Problem]) -> None:
    problems.append(
        Problem(
            "longitude and latitude look swapped in the whole layer; they were exchanged",
            fix="export the layer again with x = longitude (73–136°E) and y = latitude (3–54°N)",
            file=path.name,
            layer=src.key,
            severity="warning",
            code="lonlat_swapped",
        )
    )


def _read_ogr(
    src: LayerSource, path: Path, layer: str | None, problems: list[Problem]
) -> gpd.GeoDataFrame | PendingLayer:
    """Read with GDAL; a Shapefile without a .cpg is decoded as UTF-8 or GBK, whichever fits."""
    shp = path.suffix.lower() == ".shp"
    # Without a .cpg GDAL's row reader decodes Shapefile text as Latin-1, which the guess below
    # relies on; its Arrow reader refuses such text instead, so those files keep the row reader.
    guess = shp and not path.with_suffix(".cpg").exists()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL notes on laundered names
            arrow = None if guess else _read_arrow(path, layer)
            gdf = pyogrio.read_dataframe(path, layer=layer) if arrow is None else arrow
        if guess and isinstance(gdf, pd.DataFrame) and _has_high_latin1(gdf):
            enc = _guess_encoding(gdf)
            if enc:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    gdf = _read_arrow(path, layer, enc)
                    if gdf is None:
                        gdf = pyogrio.read_dataframe(path, layer=layer, encoding=enc)
                problems.append(
                    Problem(
                        f"the Shapefile has no .cpg file; its text was read as {enc.upper()}",
                        fix="check the names look right; save a .cpg file (e.g. containing GBK) beside it",
                        file=path.name,
                        layer=src.key,
                        severity="info",
                        code="encoding_guessed",
                    )
                )
        return gdf
    except UnicodeDecodeError:
        if shp:
            # Field names cut at 10 bytes break UTF-8 mid-character: keep the whole characters.
            gdf = pyogrio.read_dataframe(path, layer=layer, encoding="latin1")
            gdf = gdf.rename(columns=lambda c: _latin1_to_utf8(c) if isinstance(c, str) else c)
            for c in gdf.columns:
                if _is_text(gdf[c]) and c != gdf.geometry.name:
                    gdf[c] = gdf[c].map(lambda v: _latin1_to_utf8(v) if isinstance(v, str) else v)
            problems.append(
                Problem(
                    "some Shapefile text was cut inside a character (field names hold 10 bytes); "
                    "the broken characters were dropped",
                    fix="use GeoPackage, which keeps full Chinese column names, or map the "
                    "shortened names in project.toml",
                    file=path.name,
                    layer=src.key,
                    severity="warning",
                    code="encoding_repaired",
                )
            )
            return gdf
        raise InputError(
            "text is not in a known encoding",
            fix="save the layer again as GeoPackage or as UTF-8",
        ) from None
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds; all mean "cannot read"
        raise InputError(
            f"cannot be read as a {src.key} layer ({_short(exc)})",
            fix="open it in QGIS to check it is not damaged, or export it again as GeoPackage",
        ) from None


# Formats whose Arrow reading was checked to give the row reader's frame (tests/test_read_arrow.py).
ARROW_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb"}


def _read_arrow(
    path: Path, layer: str | None, encoding: str | None = None
) -> gpd.GeoDataFrame | PendingLayer | None:
    """The layer through GDAL's columnar (Arrow) reader, or None to use the row reader.

    The columnar reader is several times faster on big layers; it yields the same frame as
    ``pyogrio.read_dataframe`` except where the row reader's result is used for anything
    unusual (date/time, list and JSON fields), which go back to the row reader, and text
    columns with no value at all, which the row reader gives as object columns of None.
    Any failure, and any malformed Arrow data (GDAL writes broken offsets for a FlatGeobuf
    with empty shapes), also means the row reader, which then reports what is wrong.
    """
    if path.suffix.lower() not in ARROW_SUFFIXES:
        return None
    try:
        meta, table = pyogrio.read_arrow(path, layer=layer, encoding=encoding)
        table.validate(full=True)
        return _arrow_frame(meta, table)
    except Exception:  # noqa: BLE001 - see above: the row reader decides
        return None


def _arrow_frame(meta: dict[str, Any], table: Any) -> gpd.GeoDataFrame | PendingLayer | None:
    if any(str(d).startswith("datetime") for d in meta["dtypes"] if d is not None):
        return None
    if "OFSTJSON" in meta["ogr_subtypes"]:
        return None
    geometry = meta["geometry_name"] or "wkb_geometry"
    if geometry not in table.column_names:
        return None  # no shapes: the row reader's frame gets the plain "no geometry" message
    fields = table.drop_columns([geometry])
    if any(pa.types.is_nested(t) or pa.types.is_dictionary(t) for t in fields.schema.types):
        return None
    frame = fields.to_pandas()
    for name, column in zip(fields.column_names, fields.columns, strict=True):
        kind = column.type
        if (pa.types.is_string(kind) or pa.types.is_large_string(kind)) and (
            column.null_count == len(column)
        ):
            frame[name] = np.full(len(frame), None, dtype=object)
    crs = pyproj.CRS.from_user_input(meta["crs"]) if meta["crs"] else None
    wkb = table.column(geometry).combine_chunks()
    pending = PendingLayer.from_wkb(frame, wkb, crs)
    if pending is not None:
        return pending
    with gc_paused():
        frame["geometry"] = shapely.from_wkb(wkb.to_numpy(zero_copy_only=False))
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=meta["crs"])


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector while many shapes are made.

    Each few hundred thousand new objects make it rescan every live object (a loaded project
    has millions): 200,000 road segments took 0.2 s to build with it running, 0.04 s without.
    Shapes hold no reference cycles, so nothing is left for it to find afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class PendingLayer:
    """A layer of plain 2-D points or lines read as attribute columns and coordinates.

    Building shapely objects costs more than reading them, and reprojecting built objects
    rebuilds every one (a million road segments: most of the loading time), so these shapes
    are built once, by ``to_crs``, in the CRS the computations use.
    """

    frame: pd.DataFrame  # attribute columns, RangeIndex, as the row reader gives them
    kind: str  # "Point" | "LineString"
    xy: np.ndarray  # (coordinates, 2) float64, rows' coordinates one after another
    counts: np.ndarray  # coordinates per row; 0 for a row without a shape
    crs: pyproj.CRS | None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def null(self) -> np.ndarray:
        return np.asarray(self.counts == 0)

    def __len__(self) -> int:
        return len(self.frame)

    @classmethod
    def from_wkb(cls, frame: pd.DataFrame, wkb: Any, crs: pyproj.CRS | None) -> PendingLayer | None:
        """None unless every shape is a little-endian 2-D Point, or every one a LineString
        of two or more points (anything else is left to shapely.from_wkb)."""
        kind, xy, counts = _plain_wkb(wkb)
        if kind is None:
            return None
        return cls(frame=frame, kind=kind, xy=xy, counts=counts, crs=crs)

    def shapes(self, xy: np.ndarray) -> np.ndarray:
        with gc_paused():
            return self._shapes(xy)

    def _shapes(self, xy: np.ndarray) -> np.ndarray:
        present = ~self.null
        if self.kind == "Point":
            made = shapely.points(xy)
        elif len(xy):
            sizes = self.counts[present]
            if (sizes == sizes[0]).all():
                made = shapely.linestrings(xy.reshape(len(sizes), int(sizes[0]), 2))
            else:
                made = shapely.linestrings(xy, indices=np.repeat(np.arange(len(sizes)), sizes))
        else:
            made = np.empty(0, dtype=object)
        if present.all():
            return np.asarray(made)
        out = np.full(len(self.counts), None, dtype=object)
        out[present] = made
        return out

    def _frame(self, xy: np.ndarray, crs: pyproj.CRS | None) -> gpd.GeoDataFrame:
        frame = self.frame.copy(deep=False)
        frame["geometry"] = self.shapes(xy)
        gdf = gpd.GeoDataFrame(frame, geometry="geometry", crs=crs)
        gdf.attrs.update(self.attrs)
        return gdf

    def to_frame(self) -> gpd.GeoDataFrame:
        return self._frame(self.xy, self.crs)

    def to_crs(self, crs: pyproj.CRS | str) -> gpd.GeoDataFrame:
        """What ``to_frame().to_crs(crs)`` gives (same transformer, same coordinates)."""
        crs = pyproj.CRS.from_user_input(crs)
        if self.crs is None or self.crs.is_exact_same(crs):
            return self._frame(self.xy, crs if self.crs is not None else None)
        transformer = pyproj.Transformer.from_crs(self.crs, crs, always_xy=True)
        x, y = transformer.transform(self.xy[:, 0], self.xy[:, 1])
        return self._frame(np.column_stack([x, y]), crs)


def as_frame(layer: gpd.GeoDataFrame | PendingLayer) -> gpd.GeoDataFrame:
    return layer.to_frame() if isinstance(layer, PendingLayer) else layer


def _plain_wkb(wkb: Any) -> tuple[str | None, np.ndarray, np.ndarray]:
    """Coordinates of WKB that holds only 2-D Points or only 2-D LineStrings (≥ 2 points)."""
    none = (None, np.empty((0, 2)), np.empty(0, np.int64))
    if isinstance(wkb.type, pa.ExtensionType):
        wkb = wkb.storage
    if not (pa.types.is_binary(wkb.type) or pa.types.is_large_binary(wkb.type)) or len(wkb) == 0:
        return none
    width = np.int64 if pa.types.is_large_binary(wkb.type) else np.int32
    raw = np.frombuffer(wkb.buffers()[1], dtype=width)[wkb.offset : wkb.offset + len(wkb) + 1]
    offsets: np.ndarray = raw.astype(np.int64)
    data = np.frombuffer(wkb.buffers()[2], dtype=np.uint8)
    sizes = np.diff(offsets)
    present = np.ones(len(sizes), bool)
    if wkb.null_count:
        present = wkb.is_valid().to_numpy(zero_copy_only=False)
    starts = offsets[:-1][present]
    if len(starts) == 0 or (sizes[present] < 9).any() or (data[starts] != 1).any():
        return none  # big-endian or broken: shapely decides
    head = np.lib.stride_tricks.sliding_window_view(data, 4)
    types = head[starts + 1].view("<u4").ravel()
    counts = np.zeros(len(sizes), np.int64)
    if (types == 1).all() and (sizes[present] == 21).all():
        kind, n = "Point", np.ones(len(starts), np.int64)
    elif (types == 2).all():
        kind, n = "LineString", head[starts + 5].view("<u4").ravel().astype(np.int64)
        if (n < 2).any() or (sizes[present] != 9 + 16 * n).any():
            return none
    else:
        return none
    counts[present] = n
    head_size = 5 if kind == "Point" else 9
    size = int(sizes[present][0])
    if (sizes[present] == size).all() and (np.diff(starts) == size).all():
        # Equal records back to back (a road layer of two-point segments): one strided copy.
        block = data[starts[0] : starts[0] + size * len(starts)].reshape(len(starts), size)
        xy = np.ascontiguousarray(block[:, head_size:]).view("<f8").reshape(-1, 2)
    else:
        first = np.cumsum(n) - n  # each row's first coordinate among all coordinates
        coord_at = 16 * np.arange(int(n.sum()), dtype=np.int64)
        coord_at += np.repeat(starts + head_size - 16 * first, n)
        xy = np.lib.stride_tricks.sliding_window_view(data, 16)[coord_at]
        xy = xy.view("<f8").reshape(-1, 2)
    if not np.isfinite(xy).all():
        return none  # POINT EMPTY is NaN, NaN: shapely decides what it is
    return kind, xy, counts


def _is_text(col: pd.Series) -> bool:
    # pandas 3 reads text as its str dtype (Arrow-backed when pyarrow is there), not object.
    return col.dtype == object or pd.api.types.is_string_dtype(col.dtype)


def _texts(gdf: pd.DataFrame) -> list[str]:
    out = [str(c) for c in gdf.columns]
    for c in gdf.columns:
        if _is_text(gdf[c]) and c != getattr(gdf.geometry, "name", None):
            out += [v for v in gdf[c].head(200) if isinstance(v, str)]
    return out


def _has_high_latin1(gdf: pd.DataFrame) -> bool:
    return any(any("\x80" <= ch <= "\xff" for ch in t) for t in _texts(gdf))


def _guess_encoding(gdf: pd.DataFrame) -> str | None:
    """GDAL read the bytes as Latin-1: the real encoding is the first that decodes them all.

    A field name holds 10 bytes, so a UTF-8 name may end inside a character; that alone must
    not send the file to GB18030, which decodes almost any bytes (into the wrong characters)."""
    try:
        names = {str(c).encode("latin1") for c in gdf.columns}
        raw = [t.encode("latin1") for t in _texts(gdf)]
    except UnicodeEncodeError:
        return None  # GDAL used some other encoding: leave its result alone
    for enc in ("utf-8", "gb18030"):
        try:
            for b in raw:
                if enc == "utf-8" and b in names:
                    codecs.getincrementaldecoder(enc)().decode(b, final=False)
                else:
                    b.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return None


def _latin1_to_utf8(text: str) -> str:
    return text.encode("latin1").decode("utf-8", errors="ignore")


def _declared_crs(src: LayerSource) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(src.crs)
    except pyproj.exceptions.CRSError:
        raise InputError(
            f"the declared crs '{src.crs}' is not a known coordinate system",
            fix='use an EPSG code such as "EPSG:4326" (longitude/latitude) or "EPSG:4547" '
            "(CGCS2000 / 3-degree Gauss-Krüger 114°E)",
        ) from None


def _unswap_vector(
    gdf: gpd.GeoDataFrame, src: LayerSource, path: Path, problems: list[Problem]
) -> gpd.GeoDataFrame:
    """Longitude/latitude exchanged in a lon/lat layer: points row by row, other shapes whole."""
    geom = gdf.geometry
    present = ~(geom.isna() | geom.is_empty)
    if not present.any():
        return gdf
    if (geom[present].geom_type == "Point").all():
        x = pd.Series(np.nan, index=gdf.index)
        y = pd.Series(np.nan, index=gdf.index)
        x[present], y[present] = geom[present].x, geom[present].y
        swapped = _swapped(x, y)
        if swapped.any():
            rows = np.flatnonzero(swapped.to_numpy())
            gdf = gdf.copy()
            gdf.loc[swapped, gdf.geometry.name] = gpd.points_from_xy(y[swapped], x[swapped])
            fix = "check the points: x must be longitude (73–136°E), y latitude (3–54°N)"
            _report_swapped([int(i) + 1 for i in rows], src, path, fix, problems)
        return gdf
    minx, miny, maxx, maxy = geom[present].total_bounds
    if _whole_layer_swapped(minx, miny, maxx, maxy):
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = gpd.GeoSeries(
            shapely.transform(np.asarray(geom.values), lambda c: c[:, ::-1]),
            index=gdf.index,
            crs=gdf.crs,
        )
        _report_layer_swapped(src, path, problems)
    return gdf


def _read_csv(path: Path) -> pd.DataFrame:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(
                path, encoding=enc, dtype=str, header=None, keep_default_na=False, na_values=[""]
            )
        except UnicodeDecodeError:
            continue
    raise InputError("the text encoding is neither UTF-8 nor GBK", fix="save the CSV as UTF-8")


def _read_excel(src: LayerSource, path: Path) -> pd.DataFrame:
    sheets = pd.ExcelFile(path).sheet_names
    sheet: str | int = src.sheet or 0
    if isinstance(sheet, str) and sheet not in sheets:
        if sheet.isdigit() and int(sheet) < len(sheets):
            sheet = int(sheet)  # sheet = 1 in project.toml: the second sheet
        else:
            raise InputError(
                f"the workbook has no sheet '{sheet}'",
                fix=f'set sheet = "..." under [layers.{src.key}] to one of: {", ".join(map(str, sheets))}',
            )
    return pd.read_excel(path, sheet_name=sheet, dtype=str, header=None)


def _header_row(raw: pd.DataFrame, src: LayerSource) -> int:
    """Index of the heading row: Chinese tables often start with a title row or two."""
    for r in range(min(10, len(raw))):
        cells = [str(v).strip() for v in raw.iloc[r] if isinstance(v, str) and v.strip()]
        if src.x and src.y:
            if src.x in cells and src.y in cells:
                return r
        elif all(match_lonlat(cells)):
            return r
    return 0


def table_headings(src: LayerSource) -> list[str]:
    """The headings of a CSV/XLSX table as the reader will take them (title rows skipped), for
    matching columns by hand before a load."""
    path = Path(src.file)
    raw = _read_csv(path) if path.suffix.lower() in (".csv", ".txt") else _read_excel(src, path)
    if not len(raw):
        return []
    return _headings(raw.iloc[_header_row(raw.reset_index(drop=True), src)])


def _read_table(src: LayerSource, path: Path, problems: list[Problem]) -> gpd.GeoDataFrame:
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            raw = _read_csv(path)
        else:
            raw = _read_excel(src, path)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas/openpyxl raise many kinds
        raise InputError(
            f"cannot be read as a table ({_short(exc)})",
            fix="check the file opens in Excel; save as .xlsx or UTF-8 .csv",
        ) from None
    raw = raw.reset_index(drop=True)
    head = _header_row(raw, src)
    df = raw.iloc[head + 1 :].copy()
    df.columns = _headings(raw.iloc[head] if len(raw) else [])
    # Rows where every cell is blank (Excel's formatted tail) are not features.
    blank = df.apply(lambda c: c.isna() | (c.astype(str).str.strip() == "")).all(axis=1)
    df = df[~blank.to_numpy()]
    file_rows = (df.index.to_numpy() + 1).tolist()  # spreadsheet row of each feature
    df = df.reset_index(drop=True)
    if head:
        problems.append(
            Problem(
                f"the headings are in row {head + 1}; the row(s) above were skipped as a title",
                fix="nothing to do if that is right",
                file=path.name,
                layer=src.key,
                severity="info",
                code="header_row",
            )
        )
    lon_col, lat_col = src.x, src.y
    if not (lon_col and lat_col):
        found = match_lonlat(list(df.columns))
        lon_col, lat_col = lon_col or found[0], lat_col or found[1]
    if not lon_col or not lat_col or lon_col not in df.columns or lat_col not in df.columns:
        raise InputError(
            f"no longitude/latitude columns found (columns: {', '.join(df.columns)})",
            fix=f'name them 经度 and 纬度 (or lon/lat), or set x = "..." and y = "..." under [layers.{src.key}] in project.toml',
        )
    lon = pd.to_numeric(df[lon_col].map(_number_text), errors="coerce")
    lat = pd.to_numeric(df[lat_col].map(_number_text), errors="coerce")
    bad = lon.isna() | lat.isna()
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(
            Problem(
                f"coordinates '{df[lon_col].iloc[i]}', '{df[lat_col].iloc[i]}' are not numbers",
                fix="give decimal degrees, e.g. 111.60 and 25.52",
                file=path.name,
                layer=src.key,
                row=file_rows[i],
                column=f"{lon_col}/{lat_col}",
                code="bad_coordinates",
            )
        )
    crs = _declared_crs(src) if src.crs else pyproj.CRS.from_epsg(4326)
    if crs.is_geographic:
        lon, lat = _unswap(
            lon, lat, src, path, lon_col, lat_col, file_rows=file_rows, problems=problems
        )
    geom = gpd.points_from_xy(lon.fillna(0), lat.fillna(0))
    gdf = gpd.GeoDataFrame(df.drop(columns=[lon_col, lat_col]), geometry=geom, crs=crs)
    gdf.loc[bad.to_numpy(), "geometry"] = None
    # Row numbers in messages are spreadsheet rows (a tuple: attrs are compared on copy).
    gdf.attrs["row_numbers"] = tuple(file_rows)
    return gdf


def _headings(cells: Iterable[object]) -> list[str]:
    out: list[str] = []
    for j, v in enumerate(cells):
        name = str(v).strip() if isinstance(v, str) and str(v).strip() else f"列{j + 1}"
        while name in out:  # two columns with one heading: keep both, distinguishable
            name += "_2"
        out.append(name)
    return out


def _number_text(v: Any) -> Any:
    """Full-width digits and signs (１１１．６) as typed with a Chinese input method."""
    return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v


def _swapped(lon: pd.Series, lat: pd.Series) -> pd.Series:
    """Rows whose values only make sense in China with longitude and latitude exchanged."""
    in_place = lon.between(*CHINA_LON) & lat.between(*CHINA_LAT)
    return lon.between(*CHINA_LAT) & lat.between(*CHINA_LON) & ~in_place


def _report_swapped(
    rows: list[int], src: LayerSource, path: Path, fix: str, problems: list[Problem]
) -> None:
    shown = ", ".join(str(r) for r in rows[:10]) + (" …" if len(rows) > 10 else "")
    problems.append(
        Problem(
            f"longitude and latitude look swapped in {len(rows)} row(s) ({shown}); they were exchanged",
            fix=fix,
            file=path.name,
            layer=src.key,
            row=int(rows[0]),
            severity="warning",
            code="lonlat_swapped",
        )
    )


def _unswap(
    lon: pd.Series,
    lat: pd.Series,
    src: LayerSource,
    path: Path,
    lon_col: str,
    lat_col: str,
    *,
    file_rows: list[int],
    problems: list[Problem],
) -> tuple[pd.Series, pd.Series]:
    """Swap table rows whose longitude and latitude are clearly exchanged (China's ranges)."""
    swapped = _swapped(lon, lat)
    if swapped.any():
        rows = np.flatnonzero(swapped.to_numpy())
        lon, lat = lon.where(~swapped, lat), lat.where(~swapped, lon)
        fix = f"check columns '{lon_col}' (longitude, 73–136°E) and '{lat_col}' (latitude, 3–54°N)"
        _report_swapped([file_rows[i] for i in rows], src, path, fix, problems)
    return lon, lat


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
