"""Coordinate systems: the metric CRS every computation runs in, and China's shifted lon/lat.

Distances, buffers and catchments need metres, so the layers are projected once into one metric
CRS: the one the project declares (usually a CGCS2000 3-degree Gauss–Krüger zone, as the county's
surveying office uses), else the WGS 84 UTM zone of the data's centre.

Points copied from Chinese web maps are not WGS 84: Amap/Tencent/Google China use GCJ-02 (an
obfuscated shift of 100–700 m), Baidu uses BD-09 (GCJ-02 shifted again). Left uncorrected a school
lands on the wrong side of a river, so ``convert_points`` brings them back to WGS 84. The published
forward formula is used as is; its inverse has no closed form and is solved by iteration, because
the usual one-step approximation leaves errors of 1–2 m.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike
from pyproj.transformer import Transformer

from core.errors import InputError, ProjectError

# A converted (lon, lat): floats for scalar input, arrays for array input.
LonLat = tuple[Any, Any]

# --- metric CRS -------------------------------------------------------------------------------

# CGCS2000 / 3-degree Gauss–Krüger "CM nnnE" (no zone prefix on eastings): EPSG:4534 is CM 75E,
# each following code moves the central meridian 3° east, up to EPSG:4554 = CM 135E.
_CGCS2000_GK3_FIRST_EPSG, _CGCS2000_GK3_FIRST_CM, _CGCS2000_GK3_LAST_CM = 4534, 75, 135


def choose_metric_crs(
    gdf_or_bounds_wgs84: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[float] | None,
    declared: str | pyproj.CRS | None = None,
) -> pyproj.CRS:
    """The metric CRS to compute in.

    ``declared`` (the project's CRS, e.g. ``"EPSG:4547"``) wins when given; it must be a projected
    CRS in metres, else ``ProjectError`` says what to write instead. Without one, the WGS 84 UTM
    zone (EPSG:326xx north, 327xx south) of the centre of the data is used. The data is a
    GeoDataFrame/GeoSeries with a CRS, or bounds ``(min_lon, min_lat, max_lon, max_lat)`` in WGS 84.
    """
    if declared is not None and str(declared).strip() != "":
        return _validated_declared(declared, gdf_or_bounds_wgs84)
    lon, lat = _centre_lonlat(gdf_or_bounds_wgs84)
    return pyproj.CRS.from_epsg(utm_epsg(lon, lat))


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone holding (lon, lat); standard 6° zones, no Norway quirks."""
    zone = int(np.floor((float(lon) + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def cgcs2000_gk3_epsg(lon: float) -> int | None:
    """EPSG code of the CGCS2000 3-degree Gauss–Krüger 'CM nnnE' CRS nearest ``lon``, None
    outside China's range. Used to suggest what a project should declare."""
    cm = int(np.floor((float(lon) + 1.5) / 3.0)) * 3  # zone CM nnnE spans nnn ± 1.5°
    if not _CGCS2000_GK3_FIRST_CM <= cm <= _CGCS2000_GK3_LAST_CM:
        return None
    return _CGCS2000_GK3_FIRST_EPSG + (cm - _CGCS2000_GK3_FIRST_CM) // 3


def to_metric(gdf: gpd.GeoDataFrame, crs: pyproj.CRS | str) -> gpd.GeoDataFrame:
    """``gdf`` reprojected into the metric ``crs`` (returned as is when already there)."""
    target = pyproj.CRS.from_user_input(crs)
    if gdf.crs is None:
        raise InputError(
            "the layer has no coordinate reference system (CRS), so it cannot be projected to metres",
            fix='declare the layer\'s CRS (e.g. crs = "EPSG:4326" for longitude/latitude)',
        )
    if pyproj.CRS.from_user_input(gdf.crs) == target:
        return gdf
    return gdf.to_crs(target)


def _validated_declared(declared: str | pyproj.CRS, data: gpd.GeoDataFrame | None) -> pyproj.CRS:
    try:
        crs = pyproj.CRS.from_user_input(declared)
    except pyproj.exceptions.CRSError as exc:
        raise ProjectError(
            f"the project's CRS {str(declared)!r} is not a coordinate reference system pyproj knows",
            fix=_suggestion(data),
        ) from exc
    units = {(axis.unit_name or "").lower() for axis in crs.axis_info}
    if not crs.is_projected or units != {"metre"}:
        why = (
            "is geographic (degrees), but distances must be computed in metres"
            if crs.is_geographic
            else f"does not measure in metres (axis units: {', '.join(sorted(units)) or 'none'})"
        )
        raise ProjectError(
            f"the project's CRS {str(declared)!r} ({crs.name}) {why}", fix=_suggestion(data)
        )
    return crs


def _suggestion(data: gpd.GeoDataFrame | None) -> str:
    """What to declare instead, made concrete when the data's position is known."""
    generic = (
        'write a projected CRS in metres, e.g. crs = "EPSG:4547" (CGCS2000 3-degree Gauss–Krüger '
        "CM 114E) — use the zone of the county's longitude — or remove the crs line to use the "
        "WGS 84 UTM zone of the data automatically"
    )
    try:
        lon, lat = _centre_lonlat(data)
    except (InputError, TypeError, ValueError):
        return generic
    gk = cgcs2000_gk3_epsg(lon)
    utm = utm_epsg(lon, lat)
    if gk is None:
        return f'write crs = "EPSG:{utm}" (WGS 84 UTM zone of the data) or remove the crs line'
    name = pyproj.CRS.from_epsg(gk).name
    return (
        f'write crs = "EPSG:{gk}" ({name}, the zone of the data at {lon:.2f}°E) or '
        f'crs = "EPSG:{utm}" (WGS 84 UTM), or remove the crs line to choose automatically'
    )


def _centre_lonlat(data: gpd.GeoDataFrame | None) -> tuple[float, float]:
    if data is None:
        raise InputError(
            "no data and no declared CRS: cannot choose a metric CRS",
            fix='declare the project\'s CRS, e.g. crs = "EPSG:4547"',
        )
    if isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        bounds = _bounds_wgs84(data)
    else:
        bounds = np.asarray(data, dtype=float).ravel()
        if bounds.shape != (4,):
            raise TypeError("bounds must be (min_lon, min_lat, max_lon, max_lat)")
    min_x, min_y, max_x, max_y = (float(v) for v in bounds)
    if not (
        np.all(np.isfinite(bounds))
        and -180 <= min_x <= max_x <= 180
        and -90 <= min_y <= max_y <= 90
    ):
        raise InputError(
            f"the data's extent ({min_x:.6g}, {min_y:.6g}, {max_x:.6g}, {max_y:.6g}) is not a valid "
            "longitude/latitude range",
            fix="check that the layer's declared CRS matches its coordinates (projected metres "
            'declared as EPSG:4326 give this); declare the right one, e.g. crs = "EPSG:4547"',
        )
    return (min_x + max_x) / 2.0, (min_y + max_y) / 2.0


def _bounds_wgs84(data: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    if data.crs is None:
        raise InputError(
            "the layer has no coordinate reference system (CRS), so its position on Earth is unknown",
            fix='declare the layer\'s CRS (e.g. crs = "EPSG:4326" for longitude/latitude)',
        )
    geoms = data.geometry if isinstance(data, gpd.GeoDataFrame) else data
    geoms = geoms[~(geoms.isna() | geoms.is_empty)]
    if len(geoms) == 0:
        raise InputError("the layer has no geometry, so no metric CRS can be chosen from it")
    bounds = np.asarray(geoms.total_bounds, dtype=float)
    src = pyproj.CRS.from_user_input(data.crs)
    if src.is_geographic and src.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return bounds
    to_wgs84 = Transformer.from_crs(src, 4326, always_xy=True)
    return np.asarray(to_wgs84.transform_bounds(*bounds), dtype=float)


# --- GCJ-02 / BD-09 -----------------------------------------------------------------------------

# Constants of the published GCJ-02 algorithm (Krasovsky 1940 ellipsoid) and of Baidu's BD-09.
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DX, _BD_DY = 0.0065, 0.006
# The rectangle every public implementation uses for "in China"; outside it nothing is shifted.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)
# Iterated inverses stop below this residual (degrees); the brief asks < 1e-7 (~1 cm).
_INVERSE_TOL_DEG = 1e-10
_INVERSE_MAX_ITER = 30


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """True where (lon, lat) is inside the rectangle the GCJ-02 shift applies to."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (
        (lon >= _CHINA_LON[0])
        & (lon <= _CHINA_LON[1])
        & (lat >= _CHINA_LAT[0])
        & (lat <= _CHINA_LAT[1])
    )


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS 84 → GCJ-02 (Amap, Tencent, Google China). Arrays or scalars; outside China unchanged."""
    lon_a, lat_a, scalar = _arrays(lon, lat)
    out_lon, out_lat = _gcj_forward(lon_a, lat_a)
    return _result(out_lon, out_lat, scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 → WGS 84 by fixed-point iteration of the forward shift (residual < 1e-10°)."""
    lon_a, lat_a, scalar = _arrays(lon, lat)
    out_lon, out_lat = _invert(_gcj_forward, lon_a, lat_a, lon_a.copy(), lat_a.copy())
    return _result(out_lon, out_lat, scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """GCJ-02 → BD-09 (Baidu). Outside China unchanged."""
    lon_a, lat_a, scalar = _arrays(lon, lat)
    out_lon, out_lat = _bd_forward(lon_a, lat_a)
    return _result(out_lon, out_lat, scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 → GCJ-02: Baidu's closed-form decryption refined by iteration to an exact inverse."""
    lon_a, lat_a, scalar = _arrays(lon, lat)
    start_lon, start_lat = _bd_closed_form_inverse(lon_a, lat_a)
    out_lon, out_lat = _invert(_bd_forward, lon_a, lat_a, start_lon, start_lat)
    return _result(out_lon, out_lat, scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """WGS 84 → BD-09 (through GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> LonLat:
    """BD-09 → WGS 84 (through GCJ-02, both steps exact inverses)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {
    "wgs84": None,
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def convert_points(gdf: gpd.GeoDataFrame, from_system: str) -> gpd.GeoDataFrame:
    """A copy of ``gdf`` with lon/lat taken from ``from_system`` ("wgs84" | "gcj02" | "bd09")
    to WGS 84. Works on every vertex, so lines and polygons traced on a web map convert too;
    outside China coordinates stay as they are."""
    key = from_system.strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key not in _TO_WGS84:
        raise InputError(
            f"unknown coordinate system {from_system!r}",
            fix='use "wgs84" (GPS, survey data), "gcj02" (Amap/高德, Tencent/腾讯) or "bd09" (Baidu/百度)',
        )
    _require_lonlat(gdf)
    out = gdf.copy()
    func = _TO_WGS84[key]
    if func is None or len(out) == 0:
        return out

    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    geom_col = out.geometry.name
    out[geom_col] = gpd.GeoSeries(
        shapely.transform(np.asarray(out.geometry.values), shift),
        index=out.index,
        crs=out.crs,
    )
    return out


def _require_lonlat(gdf: gpd.GeoDataFrame) -> None:
    crs = gdf.crs
    if crs is None or not pyproj.CRS.from_user_input(crs).is_geographic:
        described = "no CRS" if crs is None else f"CRS {pyproj.CRS.from_user_input(crs).name}"
        raise InputError(
            f"GCJ-02/BD-09 conversion needs longitude/latitude, but the layer has {described}",
            fix='give the points as longitude/latitude in degrees with crs = "EPSG:4326" '
            "(the web-map coordinates as copied), then convert; projected data needs no conversion",
        )
    geoms = gdf.geometry[~(gdf.geometry.isna() | gdf.geometry.is_empty)]
    if len(geoms):
        min_x, min_y, max_x, max_y = geoms.total_bounds
        if min_x < -180 or max_x > 180 or min_y < -90 or max_y > 90:
            raise InputError(
                f"coordinates ({min_x:.6g}…{max_x:.6g}, {min_y:.6g}…{max_y:.6g}) are not "
                "longitude/latitude although the layer says so",
                fix="check the columns: x must be longitude (°E), y latitude (°N); or declare the "
                "layer's real (projected) CRS",
            )


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon_a.astype(float, copy=True), lat_a.astype(float, copy=True), scalar


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool) -> LonLat:
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def _gcj_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = in_china(lon, lat)
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += common
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)


def _bd_forward(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = in_china(lon, lat)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    bd_lon = z * np.cos(theta) + _BD_DX
    bd_lat = z * np.sin(theta) + _BD_DY
    return np.where(inside, bd_lon, lon), np.where(inside, bd_lat, lat)


def _bd_closed_form_inverse(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inside = in_china(lon, lat)
    x, y = lon - _BD_DX, lat - _BD_DY
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _BD_X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _BD_X_PI)
    return np.where(inside, z * np.cos(theta), lon), np.where(inside, z * np.sin(theta), lat)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], LonLat],
    target_lon: np.ndarray,
    target_lat: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve forward(lon, lat) = target by fixed-point steps. Both shifts change by < 1 % of a
    step per degree, so each step shrinks the error about a hundredfold (3–4 steps suffice).
    A point stops moving once its own residual is small, so its result does not depend on the
    other points of the batch. Targets outside China are returned unchanged, like the forward
    transforms."""
    active = in_china(target_lon, target_lat)
    lon = np.where(active, lon, target_lon)
    lat = np.where(active, lat, target_lat)
    for _ in range(_INVERSE_MAX_ITER):
        if not active.any():
            break
        f_lon, f_lat = forward(lon, lat)
        r_lon, r_lat = f_lon - target_lon, f_lat - target_lat
        # NaN residuals compare False: such points stop at once and stay NaN.
        active &= (np.abs(r_lon) >= _INVERSE_TOL_DEG) | (np.abs(r_lat) >= _INVERSE_TOL_DEG)
        lon = np.where(active, lon - r_lon, lon)
        lat = np.where(active, lat - r_lat, lat)
    return lon, lat
