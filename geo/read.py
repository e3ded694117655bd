"""Read one layer from GeoPackage, Shapefile, GeoJSON, CSV or Excel into a GeoDataFrame.

Every failure becomes an ``InputError`` naming the file and the fix; nothing here knows our
column names beyond longitude/latitude.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo.columns import match_lonlat
from geo.layers import LayerSource
from planning.errors import InputError, Problem

VECTOR_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".fgb", ".kml", ".gml"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}
# China lies within these; used to spot longitude/latitude swapped in a table.
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)


def read_layer(src: LayerSource, problems: list[Problem]) -> gpd.GeoDataFrame:
    """The raw layer with its own CRS; table rows get a Point from their lon/lat columns."""
    path = Path(src.file)
    if not path.exists():
        raise InputError(
            f"{path}: file not found ({src.key} layer)",
            fix="check the file name in project.toml or on the command line",
        )
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        return _read_table(src, path, problems)
    if suffix in VECTOR_SUFFIXES or path.is_dir():
        return _read_vector(src, path)
    raise InputError(
        f"{path}: unsupported file type '{suffix}'",
        fix="use GeoPackage (.gpkg), Shapefile (.shp), GeoJSON (.geojson), CSV or Excel (.xlsx)",
    )


def list_layers(path: Path) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 - any driver failure means "no layers we can name"
        return []


def _read_vector(src: LayerSource, path: Path) -> gpd.GeoDataFrame:
    layers = list_layers(path)
    if src.layer and layers and src.layer not in layers:
        raise InputError(
            f"{path}: has no layer '{src.layer}' ({src.key})",
            fix=f"use one of its layers: {', '.join(layers)}",
        )
    try:
        gdf = pyogrio.read_dataframe(path, layer=src.layer)
    except Exception as exc:  # noqa: BLE001 - GDAL raises many kinds; all mean "cannot read"
        raise InputError(
            f"{path}: cannot be read as a {src.key} layer ({_short(exc)})",
            fix="open it in QGIS to check it is not damaged, or export it again as GeoPackage",
        ) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry is None:
        raise InputError(
            f"{src.label()}: has no geometry column",
            fix="give a spatial layer, or a table with 经度/纬度 columns",
        )
    if gdf.crs is None:
        if src.crs:
            gdf = gdf.set_crs(src.crs)
        else:
            raise InputError(
                f"{src.label()}: the layer has no coordinate reference system (CRS)",
                fix=f'declare it in project.toml: [layers.{src.key}] crs = "EPSG:4326" (or the CRS the data was '
                "made in, e.g. EPSG:4490 CGCS2000), or add the missing .prj file",
            )
    return gdf


def _read_csv(path: Path) -> pd.DataFrame:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, encoding=enc, dtype=str, keep_default_na=False, na_values=[""])
        except UnicodeDecodeError:
            continue
    raise InputError(f"{path}: text encoding is neither UTF-8 nor GBK", fix="save the CSV as UTF-8")


def _read_table(src: LayerSource, path: Path, problems: list[Problem]) -> gpd.GeoDataFrame:
    try:
        if path.suffix.lower() in (".csv", ".txt"):
            df = _read_csv(path)
        else:
            df = pd.read_excel(path, sheet_name=src.sheet or 0, dtype=str)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pandas/openpyxl raise many kinds
        raise InputError(
            f"{path}: cannot be read as a table ({_short(exc)})",
            fix="check the file opens in Excel; save as .xlsx or UTF-8 .csv",
        ) from None
    df.columns = [str(c).strip() for c in df.columns]
    lon_col, lat_col = src.x, src.y
    if not (lon_col and lat_col):
        found = match_lonlat(list(df.columns))
        lon_col, lat_col = lon_col or found[0], lat_col or found[1]
    if not lon_col or not lat_col or lon_col not in df.columns or lat_col not in df.columns:
        raise InputError(
            f"{path}: no longitude/latitude columns found (columns: {', '.join(df.columns)})",
            fix=f'name them 经度 and 纬度 (or lon/lat), or set x = "..." and y = "..." under [layers.{src.key}] in project.toml',
        )
    lon = pd.to_numeric(df[lon_col], errors="coerce")
    lat = pd.to_numeric(df[lat_col], errors="coerce")
    bad = lon.isna() | lat.isna()
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(
            Problem(
                f"coordinates '{df[lon_col].iloc[i]}', '{df[lat_col].iloc[i]}' are not numbers",
                fix="give decimal degrees, e.g. 111.60 and 25.52",
                file=path.name,
                layer=src.key,
                row=int(i) + 2,
                column=f"{lon_col}/{lat_col}",
                code="bad_coordinates",
            )
        )
    crs = src.crs or "EPSG:4326"
    geographic = crs.upper() in ("EPSG:4326", "EPSG:4490", "EPSG:4214", "EPSG:4610")
    if geographic:
        lon, lat = _unswap(lon, lat, src, path, lon_col, lat_col, problems)
    geom = gpd.points_from_xy(lon.fillna(0), lat.fillna(0))
    gdf = gpd.GeoDataFrame(df.drop(columns=[lon_col, lat_col]), geometry=geom, crs=crs)
    gdf.loc[bad.to_numpy(), "geometry"] = None
    # Row numbers in messages are spreadsheet rows: the header is row 1.
    gdf.attrs["row_offset"] = 2
    return gdf


def _unswap(lon, lat, src, path, lon_col, lat_col, problems):
    """Swap rows whose longitude and latitude are clearly exchanged (China's ranges)."""
    in_lon = lon.between(*CHINA_LON)
    in_lat = lat.between(*CHINA_LAT)
    swapped = lon.between(*CHINA_LAT) & lat.between(*CHINA_LON) & ~(in_lon & in_lat)
    if swapped.any():
        rows = np.flatnonzero(swapped.to_numpy())
        lon, lat = lon.where(~swapped, lat), lat.where(~swapped, lon)
        shown = ", ".join(str(r + 2) for r in rows[:10]) + (" …" if len(rows) > 10 else "")
        problems.append(
            Problem(
                f"longitude and latitude look swapped in {len(rows)} row(s) ({shown}); they were exchanged",
                fix=f"check columns '{lon_col}' (longitude, 73–136°E) and '{lat_col}' (latitude, 3–54°N)",
                file=path.name,
                layer=src.key,
                row=int(rows[0]) + 2,
                severity="warning",
                code="lonlat_swapped",
            )
        )
    return lon, lat


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
