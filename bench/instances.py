"""Seeded benchmark instances in the sample county's input schema (Chinese columns, WGS84).

A county instance takes a real county's boundary and 2020 census population from
``../shared/data/china_counties/`` and puts synthetic towns, villages and communities, schools,
a jittered-grid road network of winding links and candidate sites inside it. Several counties concatenated make a
prefecture or a province instance; every layer then carries the county code column ``县代码``, so
the same data serves both ``schoolplan plan`` (one project) and ``schoolplan batch`` (split by the
column).

Sizes (issue 5's county: ≈ 3,000 villages, 300 schools, 200,000 road edges):

    county      1 county  × (3,000 units, 300 schools, 200k road edges, 500 candidate sites)
    prefecture  5 counties of 永州 with the same per-county sizes (5×)
    province    30 counties of 湖南 (30×) — per-county road edges cut to 20k, or the GeoPackage
                would hold 6 million road segments (≈ 1.5 GB) for a stage table that times reading it
    hunan       every county of 湖南, sizes scaled from its census population (the batch demo)
    small       道县 at the test size (200 units, 150 schools, 4,000 road edges) for --quick

Everything is drawn from ``numpy.random.default_rng(seed)`` keyed on (seed, county code), so an
instance is identical on every run and a county looks the same alone or inside a province.
Reuses the sample generator's ``allocate`` and ``sample_in`` (imported from its file, unmodified).

    from bench.instances import build, write_project
    layers = build("county")                       # dict of raw GeoDataFrames (WGS84)
    project_toml = write_project(layers, Path("out/x"), "示例县")
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("OGR_CURRENT_DATE", "2024-01-01T00:00:00.000Z")

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / "out" / "instances"
WGS84 = "EPSG:4326"
CODE_COL = "县代码"
GENERATOR_VERSION = 4  # bump when the output changes, so cached instances are rebuilt
SEED = 20240901
PREFECTURE = (431124, 431125, 431126, 431127, 431128)  # 道县 and four neighbours in 永州
PROVINCE = "43"  # 湖南


def _sample_generator():
    spec = importlib.util.spec_from_file_location(
        "_daoxian_generate", ROOT / "sample_maps" / "daoxian" / "generate.py"
    )
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up while being defined
    spec.loader.exec_module(mod)
    return mod


_gen = _sample_generator()
allocate = _gen.allocate
sample_in = _gen.sample_in
shared_dir = _gen.shared_dir


@dataclass(frozen=True)
class CountySize:
    units: int = 3000
    schools: int = 300
    road_edges: int = 200_000
    candidates: int = 500


BENCH_COUNTY = CountySize()
TEST_COUNTY = CountySize(units=200, schools=150, road_edges=4000, candidates=30)


# ---------------------------------------------------------------- real counties


@lru_cache(maxsize=1)
def counties() -> gpd.GeoDataFrame:
    """Every county with a census population: CODE (int), NAME, POPU, POPU_URB, area_km2, geometry."""
    data = shared_dir() / "data" / "china_counties"
    geo = gpd.read_file(data / "counties_wgs84.geojson", engine="pyogrio")
    geo["CODE"] = geo["CODE"].astype(int)
    pop = pd.read_csv(data / "population.csv", encoding="utf-8-sig", dtype={"CODE": int})
    out = geo[["CODE", "geometry"]].merge(
        pop[["CODE", "NAME", "POPU", "POPU_URB"]], on="CODE", how="inner"
    )
    out["area_km2"] = geo.set_index("CODE").loc[out["CODE"], "area"].to_numpy() / 1e6
    out = out[out["POPU"] > 0].sort_values("CODE", kind="stable").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def province_codes(prefix: str = PROVINCE) -> list[int]:
    c = counties()
    return c.loc[c["CODE"].astype(str).str.startswith(prefix), "CODE"].tolist()


def real_size(code: int) -> CountySize:
    """Sizes a real county of this population and area would roughly have."""
    r = counties().set_index("CODE").loc[code]
    pop, area = float(r["POPU"]), float(r["area_km2"])
    return CountySize(
        units=int(np.clip(pop / 2000, 60, 1500)),
        schools=int(np.clip(pop / 3000, 25, 500)),
        road_edges=int(np.clip(area * 6, 2000, 40_000)),
        candidates=int(np.clip(pop / 8000, 10, 150)),
    )


def utm_crs(lon: float, lat: float) -> str:
    zone = int((lon + 180) // 6) + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


# ---------------------------------------------------------------- one county


def county_layers(code: int, size: CountySize = BENCH_COUNTY, seed: int = SEED) -> dict:
    """Raw layers (WGS84, Chinese columns, ``县代码`` on each) of one synthetic county."""
    rec = counties().set_index("CODE").loc[code]
    name = str(rec["NAME"])
    total_pop, urban_share = int(rec["POPU"]), float(rec["POPU_URB"])
    rng = np.random.default_rng([seed, code])
    c = rec["geometry"].representative_point()
    metric = utm_crs(c.x, c.y)
    poly = gpd.GeoSeries([rec["geometry"]], crs=WGS84).to_crs(metric).iloc[0]
    inner = poly.buffer(-300)
    if inner.is_empty or inner.area < 0.5 * poly.area:
        inner = poly
    shapely.prepare(inner)
    area_km2 = inner.area / 1e6

    # towns: a centroidal Voronoi of the county (a few Lloyd steps), seat = most central centre
    cloud = sample_in(inner, 20000, rng)
    n_towns = int(np.clip(round(area_km2 / 120), 4, 30))
    centres = cloud[rng.choice(len(cloud), n_towns, replace=False)]
    for _ in range(12):
        lab = cKDTree(centres).query(cloud)[1]
        for k in range(n_towns):
            if (lab == k).any():
                centres[k] = cloud[lab == k].mean(axis=0)
    centres = cloud[cKDTree(cloud).query(centres)[1]]  # a cell mean may leave a concave county
    rp = np.array(inner.representative_point().coords[0])
    seat_k = int(np.argmin(np.hypot(*(centres - rp).T)))
    centres[[0, seat_k]] = centres[[seat_k, 0]]
    seat = centres[0]
    lab = cKDTree(centres).query(cloud)[1]
    town_names = ["城关街道"] + [f"{name[:2]}第{k}镇" for k in range(1, n_towns)]

    # units: seat communities, a development zone of new communities, a relocation site,
    # a community at each town centre, villages spread over the rest
    n_new = max(2, size.units // 400)
    n_comm = max(4, size.units // 25)
    n_vil = size.units - n_new - n_comm - 1 - (n_towns - 1)
    if n_vil < 10:
        raise ValueError(f"{size.units} units are too few for {n_towns} towns")

    def near(centre: np.ndarray, n: int, sigma: float) -> np.ndarray:
        """n places around centre: Gaussian weights over the county's interior sample, so it
        also works for a thin county or a centre that fell outside it."""
        d2 = ((cloud - centre) ** 2).sum(axis=1)
        w = np.exp(-(d2 - d2.min()) / (2 * sigma**2))
        idx = rng.choice(len(cloud), n, replace=n > (w > 1e-12).sum(), p=w / w.sum())
        p = cloud[idx] + rng.normal(0, 60, (n, 2))
        inside = shapely.contains_xy(inner, p[:, 0], p[:, 1])
        return np.where(inside[:, None], p, cloud[idx])

    comm_xy = near(seat, n_comm, 1500.0)
    ang = rng.uniform(0, 2 * math.pi)
    dz = seat + 4000 * np.array([math.cos(ang), math.sin(ang)])
    if not inner.contains(shapely.Point(dz)):
        dz = seat
    new_xy = near(dz, n_new, 900.0)
    reloc_xy = near(seat + rng.normal(0, 5000, 2), 1, 800.0)
    d_town = np.hypot(*(cloud - centres[lab]).T)
    w = np.exp(-d_town / 4000.0) + 0.2
    far_seat = np.hypot(*(cloud - seat).T) > 2500
    w = np.where(far_seat, w, w * 0.05)
    vil_idx = rng.choice(len(cloud), n_vil, replace=False, p=w / w.sum())
    vil_xy = cloud[vil_idx] + rng.normal(0, 40, (n_vil, 2))
    vil_xy[~shapely.contains_xy(inner, vil_xy[:, 0], vil_xy[:, 1])] = cloud[vil_idx][
        ~shapely.contains_xy(inner, vil_xy[:, 0], vil_xy[:, 1])
    ]
    vil_town = lab[vil_idx]

    urban = int(round(total_pop * min(max(urban_share, 0.15), 0.9)))
    new_total = min(int(n_new * rng.uniform(6000, 9000)), urban // 4)
    reloc_pop = min(3000, urban // 20)
    town_centre_total = int((total_pop - urban) * 0.2)
    comm_total = urban - new_total - reloc_pop
    vil_total = total_pop - urban - town_centre_total
    new_pop = allocate(new_total, rng.uniform(0.7, 1.3, n_new), 1, new_total)
    comm_pop = allocate(comm_total, rng.lognormal(0, 0.45, n_comm), 1, comm_total)
    tc_pop = allocate(town_centre_total, rng.uniform(0.6, 1.4, n_towns - 1), 1, town_centre_total)
    avg = vil_total / n_vil
    vil_pop = allocate(
        vil_total, rng.lognormal(0, 0.6, n_vil), max(1, int(avg * 0.2)), max(3900, int(avg * 4))
    )

    unit_rows: list[tuple] = []
    for i in range(n_comm):
        unit_rows.append(("社区", town_names[0], f"城关第{i + 1}社区", comm_pop[i], comm_xy[i]))
    for i in range(n_new):
        unit_rows.append(("新建小区", "经济开发区", f"开发区新城{i + 1}期", new_pop[i], new_xy[i]))
    unit_rows.append(("安置点", town_names[0], "易地扶贫搬迁安置点", reloc_pop, reloc_xy[0]))
    for k in range(1, n_towns):
        unit_rows.append(
            ("社区", town_names[k], f"{town_names[k]}居委会", tc_pop[k - 1], centres[k])
        )
    for i in range(n_vil):
        t = town_names[int(vil_town[i])]
        unit_rows.append(("村", t, f"{t}{i + 1}村", vil_pop[i], vil_xy[i]))
    units = pd.DataFrame(unit_rows, columns=["类型", "乡镇", "名称", "人口", "xy"])
    units.insert(0, "编号", [f"{code}U{i + 1:05d}" for i in range(len(units))])
    assert int(units["人口"].sum()) == total_pop

    # schools
    rows: list[dict] = []

    def school(
        nm: str, level: str, classes: int, per_class, quality: str, loc: str, host, **kw
    ) -> None:
        status = kw.get("status", "现有")
        students = 0 if status == "待建" else int(round(classes * rng.uniform(*per_class)))
        teachers = 0 if status == "待建" else max(classes, int(round(students / 15)))
        p = np.asarray(host, float) + rng.normal(0, 150, 2)
        if not shapely.contains_xy(inner, p[0], p[1]):
            p = np.asarray(host, float)
        rows.append(
            {
                "学校名称": nm,
                "学段": level,
                "班级数": int(classes),
                "在校生数": students,
                "教师数": teachers,
                "办学质量": quality,
                "城乡类别": loc,
                "状态": status,
                "办学性质": kw.get("owner", "公办"),
                "学校类型": kw.get("kind", "普通"),
                "xy": p,
            }
        )

    def quality(p_core: float, p_weak: float) -> str:
        r = rng.random()
        return "优质" if r < p_core else ("薄弱" if r < p_core + p_weak else "一般")

    s = size.schools
    n_sen, n_jun, n_pri = max(3, s // 50), max(3, s // 25), max(4, s // 12)
    for i in range(n_sen):
        school(f"{name}第{i + 1}高级中学", "高中", int(rng.integers(36, 72)), (48, 56),
               quality(0.4, 0.1), "城区", comm_xy[i % n_comm])  # fmt: skip
    school(f"{name}完全中学", "完全中学", 48, (45, 52), "一般", "城区", comm_xy[-1])
    school(f"{name}实验学校", "九年一贯制", 36, (46, 52), "优质", "城区", comm_xy[-2])
    for i in range(n_jun):
        school(f"{name}第{i + 1}初级中学", "初中", int(rng.integers(18, 45)), (45, 55),
               quality(0.35, 0.15), "城区", comm_xy[(3 * i + 1) % n_comm])  # fmt: skip
    for i in range(n_pri):
        school(f"{name}第{i + 1}完全小学", "小学", int(rng.integers(18, 54)), (44, 56),
               quality(0.35, 0.1), "城区", comm_xy[(2 * i) % n_comm])  # fmt: skip
    school(f"{name}育英小学", "小学", 18, (38, 45), "一般", "城区", comm_xy[1], owner="民办")
    school(f"{name}开发区小学", "小学", 24, (0, 0), "一般", "城区", new_xy[0], status="待建")
    school(f"{name}开发区中学", "初中", 18, (0, 0), "一般", "城区", new_xy[-1], status="待建")
    school(f"{name}安置点学校", "小学", 12, (38, 44), "一般", "城区", reloc_xy[0],
           kind="安置点学校")  # fmt: skip
    for k in range(1, n_towns):
        t = town_names[k]
        school(f"{t}中心小学", "小学", int(rng.integers(12, 30)), (38, 50), quality(0.08, 0.2),
               "镇区", centres[k], kind="中心校")  # fmt: skip
        school(f"{t}中学", "初中", int(rng.integers(9, 27)), (40, 50), quality(0.05, 0.25),
               "镇区", centres[k])  # fmt: skip
    # village schools at the larger villages; teaching points at small remote ones
    left = max(0, s - len(rows))
    n_full = int(round(left * 0.6))
    order = np.argsort(-vil_pop, kind="stable")
    for i in order[:n_full]:
        weak = rng.random() < 0.15
        school(f"{units['名称'].iloc[len(units) - n_vil + i]}小学", "小学", 6,
               (8, 14) if weak else (20, 38), "薄弱" if weak else "一般", "乡村", vil_xy[i],
               kind="完小")  # fmt: skip
    rest = order[n_full:]
    dist_c = np.hypot(*(vil_xy[rest] - centres[vil_town[rest]]).T)
    for i in rest[np.argsort(-dist_c, kind="stable")][: left - n_full]:
        school(f"{units['名称'].iloc[len(units) - n_vil + i]}教学点", "小学",
               int(rng.integers(1, 5)), (3, 12), "薄弱" if rng.random() < 0.2 else "一般",
               "乡村", vil_xy[i], kind="教学点")  # fmt: skip
    sch = pd.DataFrame(rows)
    _calibrate_capacity(sch, total_pop)
    digit = {"小学": 1, "初中": 2, "高中": 3, "九年一贯制": 4, "完全中学": 5}
    sch.insert(0, "学校代码", [f"{code}{digit[lv]}{i + 1:04d}" for i, lv in enumerate(sch["学段"])])

    roads = _grid_roads(inner, seat, size.road_edges, rng)
    cand_host = rng.choice(len(units), size.candidates, p=units["人口"] / units["人口"].sum())
    cand_xy = np.stack(units["xy"].to_numpy())[cand_host] + rng.normal(0, 500, (size.candidates, 2))
    ok = shapely.contains_xy(inner, cand_xy[:, 0], cand_xy[:, 1])
    cand_xy = np.where(ok[:, None], cand_xy, np.stack(units["xy"].to_numpy())[cand_host])
    cands = pd.DataFrame(
        {
            "编号": [f"{code}X{i + 1:04d}" for i in range(size.candidates)],
            "名称": [f"{name}候选地块{i + 1}" for i in range(size.candidates)],
            "适用学段": rng.choice(["小学", "初中", ""], size.candidates, p=[0.45, 0.35, 0.2]),
        }
    )

    def gdf(df: pd.DataFrame, xy: np.ndarray) -> gpd.GeoDataFrame:
        out = gpd.GeoDataFrame(
            df.drop(columns=["xy"], errors="ignore"),
            geometry=shapely.points(_to_wgs(xy, metric)),
            crs=WGS84,
        )
        out[CODE_COL] = str(code)
        return out

    boundary = gpd.GeoDataFrame(
        {"名称": [name], "行政区划代码": [str(code)], CODE_COL: [str(code)]},
        geometry=[rec["geometry"]],
        crs=WGS84,
    )
    a = _to_wgs(roads["a"], metric)
    b = _to_wgs(roads["b"], metric)
    rd = gpd.GeoDataFrame(
        {"道路等级": roads["cls"], "设计速度": roads["speed"], CODE_COL: str(code)},
        geometry=shapely.linestrings(np.stack([a, b], axis=1)),
        crs=WGS84,
    )
    return {
        "boundary": boundary,
        "population": gdf(units, np.stack(units["xy"].to_numpy())),
        "schools": gdf(sch, np.stack(sch["xy"].to_numpy())),
        "roads": rd,
        "candidates": gdf(cands, cand_xy),
    }


def _calibrate_capacity(sch: pd.DataFrame, total_pop: int) -> None:
    """Grow the town and seat schools' classes until each level has ~10 % more places than the
    default school-age rates ask for, as a real county roughly has; pupils per class are kept."""
    from planning.rules import Standards

    std = Standards()
    for level, zh in (("primary", "小学"), ("junior", "初中"), ("senior", "高中")):
        need = total_pop * std.rate(level) / std.class_size(level) * 1.1
        single = sch["学段"] == zh
        grow = single & sch["城乡类别"].isin(["城区", "镇区"]) & (sch["状态"] == "现有")
        have = float(sch.loc[single, "班级数"].sum())
        base = float(sch.loc[grow, "班级数"].sum())
        if have >= need or base == 0:
            continue
        f = (need - (have - base)) / base
        per_class = sch.loc[grow, "在校生数"] / sch.loc[grow, "班级数"]
        classes = np.ceil(sch.loc[grow, "班级数"] * f).astype(int)
        sch.loc[grow, "班级数"] = classes
        sch.loc[grow, "在校生数"] = np.round(classes * per_class).astype(int)
        sch.loc[grow, "教师数"] = np.maximum(
            classes, np.round(sch.loc[grow, "在校生数"] / 15)
        ).astype(int)


def _grid_roads(
    inner, seat: np.ndarray, n_edges: int, rng: np.random.Generator, shape_points: int = 7
) -> dict:
    """A jittered square grid of junctions clipped to the county with a few links missing:
    dense, mostly connected, with the odd island a real road layer also has. Each link is a
    winding line of ``shape_points`` degree-2 vertices, as in surveyed or OSM road layers (the
    sample county has 73 % degree-2 nodes); the segment count stays about ``n_edges``."""
    x0, y0, x1, y1 = inner.bounds
    per_link = shape_points + 1
    step = math.sqrt(2 * inner.area / (n_edges / per_link / 0.93))
    nx_, ny_ = int((x1 - x0) / step) + 2, int((y1 - y0) / step) + 2
    gx, gy = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    xy = np.stack([x0 + gx * step, y0 + gy * step], axis=-1) + rng.normal(
        0, step * 0.15, (nx_, ny_, 2)
    )
    inside = shapely.contains_xy(inner, xy[..., 0], xy[..., 1])
    segs, cls = [], []
    for di, dj in ((1, 0), (0, 1)):
        a_in = inside[: nx_ - di, : ny_ - dj] & inside[di:, dj:]
        keep = a_in & (rng.random(a_in.shape) > 0.07)
        ii, jj = np.nonzero(keep)
        segs.append(np.stack([xy[ii, jj], xy[ii + di, jj + dj]], axis=1))
        major = (ii % 10 == 0) if dj == 1 else (jj % 10 == 0)
        cls.append(major)
    seg = np.concatenate(segs)
    major = np.concatenate(cls)
    if shape_points:
        a, b = seg[:, 0], seg[:, 1]
        f = np.linspace(0.0, 1.0, shape_points + 2)[None, :, None]
        normal = np.stack([-(b - a)[:, 1], (b - a)[:, 0]], axis=1) / step
        wiggle = rng.normal(0, step / 12, (len(seg), shape_points + 2, 1)) * (f * (1 - f) > 0)
        pts = a[:, None] + (b - a)[:, None] * f + normal[:, None] * wiggle
        seg = np.stack([pts[:, :-1], pts[:, 1:]], axis=2).reshape(-1, 2, 2)
        major = np.repeat(major, per_link)
    urban = np.hypot(*(seg[:, 0] - seat).T) < 3000
    road_class = np.where(urban, "城市道路", np.where(major, "县道", "村道"))
    speed = np.where(urban, 30, np.where(major, 50, 30))
    return {"a": seg[:, 0], "b": seg[:, 1], "cls": road_class, "speed": speed}


def _to_wgs(xy: np.ndarray, metric: str) -> np.ndarray:
    from pyproj import Transformer

    tr = Transformer.from_crs(metric, WGS84, always_xy=True)
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    # 7 decimals ≈ 1 cm: shared road endpoints stay identical after the round trip
    return np.round(np.column_stack([lon, lat]), 7)


# ---------------------------------------------------------------- many counties


def concat(parts: list[dict]) -> dict:
    out = {}
    for key in parts[0]:
        out[key] = gpd.GeoDataFrame(
            pd.concat([p[key] for p in parts], ignore_index=True), geometry="geometry", crs=WGS84
        )
    return out


def instance_spec(kind: str) -> tuple[list[int], list[CountySize]]:
    if kind == "county":
        return [PREFECTURE[0]], [BENCH_COUNTY]
    if kind == "small":
        return [PREFECTURE[0]], [TEST_COUNTY]
    if kind == "prefecture":
        return list(PREFECTURE), [BENCH_COUNTY] * len(PREFECTURE)
    if kind == "province":
        codes = province_codes()[:30]
        return codes, [CountySize(road_edges=20_000)] * len(codes)
    if kind == "hunan":
        codes = province_codes()
        return codes, [real_size(c) for c in codes]
    raise ValueError(f"unknown instance {kind!r}: small, county, prefecture, province or hunan")


def build(kind: str, seed: int = SEED) -> dict:
    codes, sizes = instance_spec(kind)
    return concat([county_layers(c, s, seed) for c, s in zip(codes, sizes)])


def write_project(layers: dict, folder: Path, name: str, *, gpkg: str = "data.gpkg") -> Path:
    """One GeoPackage holding every layer and a project.toml naming them; returns the toml."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / gpkg
    tmp = folder / f".tmp-{gpkg}"
    tmp.unlink(missing_ok=True)
    for key, df in layers.items():
        df.to_file(tmp, layer=key, driver="GPKG", engine="pyogrio")
    os.replace(tmp, path)
    lines = [
        "[project]",
        f'name = "{name}"',
        'crs = ""',
        "",
    ]
    for key in layers:
        lines += [f"[layers.{key}]", f'file = "{gpkg}"', f'layer = "{key}"', ""]
    toml = folder / "project.toml"
    toml.write_text("\n".join(lines), encoding="utf-8")
    return toml


def cached_project(kind: str, seed: int = SEED) -> Path:
    """project.toml of an instance, generated once into bench/out/instances/<kind>-<key>/."""
    codes, sizes = instance_spec(kind)
    key = hashlib.sha256(
        json.dumps(
            [GENERATOR_VERSION, seed, codes, [asdict(s) for s in sizes]], sort_keys=True
        ).encode()
    ).hexdigest()[:10]
    folder = CACHE / f"{kind}-{key}"
    toml = folder / "project.toml"
    if not toml.exists():
        write_project(build(kind, seed), folder, f"{kind} instance (seed {seed})")
    return toml


def describe(layers: dict) -> str:
    n = {k: len(v) for k, v in layers.items()}
    return (
        f"{n['boundary']} counties, {n['population']:,} units, {n['schools']:,} schools, "
        f"{n['roads']:,} road edges, {n['candidates']:,} sites"
    )


if __name__ == "__main__":
    import time

    for kind in sys.argv[1:] or ["county"]:
        t = time.perf_counter()
        toml = cached_project(kind)
        print(f"{kind}: {toml} ({time.perf_counter() - t:.1f} s)")
