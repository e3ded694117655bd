"""Generate the sample county 道县 (Dao County, Hunan, 431124): real boundary and population, synthetic
settlements, schools, roads and candidate sites.

Run from the repository root: ``.venv/bin/python sample_maps/daoxian/generate.py``.
The output (daoxian.gpkg) is committed; this script is only needed to regenerate it. Every random
draw comes from one seeded numpy Generator, so repeated runs give the same bytes.
"""

from __future__ import annotations

import os

# GDAL stamps gpkg_contents.last_change with the current time; pin it so the file is reproducible.
os.environ.setdefault("OGR_CURRENT_DATE", "2024-01-01T00:00:00.000Z")

import hashlib
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.affinity
from scipy.spatial import Delaunay, cKDTree
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

SEED = 20200701
CODE = 431124
WGS84 = "EPSG:4326"
METRIC = "EPSG:32649"  # UTM 49N covers 108–114°E; Dao County sits at ~111.6°E
SEAT_LONLAT = (111.60, 25.52)  # real county town (道江/濂溪), checked to lie inside the boundary
HERE = Path(__file__).resolve().parent
GPKG = HERE / "daoxian.gpkg"

STREETS = ["濂溪街道", "道江街道", "西洲街道", "上关街道", "富塘街道"]
TOWNS = [
    "寿雁镇",
    "仙子脚镇",
    "清塘镇",
    "祥霖铺镇",
    "梅花镇",
    "白芒铺镇",
    "桥头镇",
    "四马桥镇",
    "营江乡",
    "蚣坝镇",
    "乐福堂乡",
    "柑子园镇",
    "白马渡镇",
    "审章塘瑶族乡",
    "洪塘营瑶族乡",
    "横岭瑶族乡",
]
YAO = {"审章塘瑶族乡", "洪塘营瑶族乡", "横岭瑶族乡"}
DEV_ZONE = "经济开发区"

CITY_COMMUNITIES = [
    "莲花",
    "濂溪",
    "东门",
    "西门",
    "南门",
    "北门",
    "潇水",
    "和平",
    "向阳",
    "建设",
    "文昌",
    "状元",
    "月岩",
    "玉蟾",
    "紫金",
    "新华",
    "人民",
    "东风",
    "青松",
    "民主",
    "解放",
    "龙泉",
    "桂花",
    "金盆",
    "塘下",
    "双河",
    "柳子",
    "五星",
    "锦绣",
    "白鹤",
    "凤凰",
    "滨江",
    "朝阳",
    "东洲",
    "迎宾",
    "育才",
]
NEW_COMMUNITIES = ["潇湘新城", "濂溪府", "御景湾", "金域华庭", "碧水蓝湾", "锦绣华府"]
VILLAGE_HEAD = list(
    "楼田龙石塘岭坪水江大小上下东西南北新老黄李何周唐蒋杨陈朱毛柏桐梅桃杉竹茶莲荷牛马鹿凤鹤白青红金银清寨源湾洲桥营铺"
)
VILLAGE_TAIL = list("田塘岭坪源冲湾洲桥营铺头口岗寨洞江村背尾脚坊山井庄")
FAMILY = list("何蒋唐周李杨陈朱毛黄欧胡邓郑蒋刘王")


# ---------------------------------------------------------------- input


def shared_dir() -> Path:
    env = os.environ.get("SCHOOLPLAN_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared"


def load_county() -> tuple[gpd.GeoDataFrame, int, float]:
    """Real boundary (CTAmap via tudigong) and 2020 census figures of the county."""
    data = shared_dir() / "data" / "china_counties"
    counties = gpd.read_file(data / "counties_wgs84.geojson", engine="pyogrio")
    county = counties[counties["CODE"].astype(int) == CODE]
    if len(county) != 1:
        raise SystemExit(f"county {CODE} not found in {data}")
    pop = pd.read_csv(data / "population.csv", encoding="utf-8-sig", dtype={"CODE": int})
    row = pop[pop["CODE"] == CODE].iloc[0]
    boundary = gpd.GeoDataFrame(
        {"名称": [str(row["NAME"])], "行政区划代码": [str(CODE)]},
        geometry=[county.geometry.iloc[0]],
        crs=WGS84,
    )
    return boundary, int(row["POPU"]), float(row["POPU_URB"])


# ---------------------------------------------------------------- helpers


def allocate(
    total: int, weights: np.ndarray, lo: np.ndarray | int, hi: np.ndarray | int
) -> np.ndarray:
    """Integers in [lo, hi] proportional to weights (water-filling) that sum exactly to total."""
    w = np.asarray(weights, dtype=float)
    lo_a = np.broadcast_to(np.asarray(lo, dtype=float), w.shape)
    hi_a = np.broadcast_to(np.asarray(hi, dtype=float), w.shape)
    if not lo_a.sum() <= total <= hi_a.sum():
        raise ValueError(f"cannot split {total} into {len(w)} parts within bounds")
    a, b = 0.0, float(hi_a.max() / w.min()) * 2
    for _ in range(200):
        s = (a + b) / 2
        if np.clip(s * w, lo_a, hi_a).sum() < total:
            a = s
        else:
            b = s
    x = np.clip(b * w, lo_a, hi_a)
    out = np.floor(x).astype(np.int64)
    frac = x - out
    for i in np.argsort(-frac, kind="stable"):
        if out.sum() >= total:
            break
        if out[i] < hi_a[i]:
            out[i] += 1
    # rounding may overshoot by a unit when many parts sit at their bounds
    for i in np.argsort(frac, kind="stable"):
        if out.sum() <= total:
            break
        if out[i] > lo_a[i]:
            out[i] -= 1
    assert out.sum() == total
    return out


def sample_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n uniform points inside geom (rejection on the bounding box)."""
    x0, y0, x1, y1 = geom.bounds
    out: list[np.ndarray] = []
    got = 0
    shapely.prepare(geom)
    while got < n:
        xy = rng.uniform((x0, y0), (x1, y1), size=(n * 2, 2))
        xy = xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]
        out.append(xy)
        got += len(xy)
    return np.concatenate(out)[:n]


def pick_spaced(
    cand: np.ndarray,
    weight: np.ndarray,
    n: int,
    spacing: float,
    rng: np.random.Generator,
    taken: np.ndarray | None = None,
) -> np.ndarray:
    """Weighted draws without replacement keeping a minimum spacing (a cheap Poisson-disk)."""
    chosen: list[np.ndarray] = []
    others = np.empty((0, 2)) if taken is None else taken
    alive = np.ones(len(cand), dtype=bool)
    if len(others):
        d = cKDTree(others).query(cand)[0]
        alive &= d >= spacing
    while len(chosen) < n and alive.any():
        p = np.where(alive, weight, 0.0)
        i = rng.choice(len(cand), p=p / p.sum())
        chosen.append(cand[i])
        alive &= np.hypot(*(cand - cand[i]).T) >= spacing
    return np.array(chosen).reshape(-1, 2)


def wiggle(
    a: np.ndarray, b: np.ndarray, step: float, amp: float, rng: np.random.Generator
) -> np.ndarray:
    """A road-like polyline from a to b: smooth lateral meander, endpoints fixed."""
    length = float(np.hypot(*(b - a)))
    n = max(1, int(math.ceil(length / step)))
    t = np.linspace(0.0, 1.0, n + 1)
    normal = np.array([-(b - a)[1], (b - a)[0]]) / max(length, 1e-9)
    off = np.zeros_like(t)
    for k in (1, 2, 3):
        off += rng.normal(0, 1.0 / k) * np.sin(k * math.pi * t + rng.uniform(0, math.pi))
    off *= np.sin(math.pi * t)  # zero at both ends
    return a + np.outer(t, b - a) + np.outer(off * amp, normal)


def names_unique(n: int, rng: np.random.Generator, used: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < n:
        if rng.random() < 0.2:
            name = f"{rng.choice(FAMILY)}家{rng.choice(VILLAGE_TAIL)}"
        else:
            name = f"{rng.choice(VILLAGE_HEAD)}{rng.choice(VILLAGE_TAIL)}"
        if name[0] == name[1] or name in used:
            continue
        used.add(name)
        out.append(name)
    return out


def town_root(town: str) -> str:
    for suffix in ("瑶族乡", "镇", "乡", "街道"):
        if town.endswith(suffix):
            return town[: -len(suffix)]
    return town


# ---------------------------------------------------------------- the model


@dataclass
class Roads:
    """Road segments in metric coordinates; every polyline is cut at its vertices."""

    segs: list[tuple[tuple[float, float], tuple[float, float], str, int]] = field(
        default_factory=list
    )

    def add(self, coords: np.ndarray, cls: str, speed: int) -> None:
        pts = [tuple(map(float, p)) for p in coords]
        for p, q in zip(pts[:-1], pts[1:]):
            if p != q:
                self.segs.append((p, q, cls, speed))


def main() -> None:
    rng = np.random.default_rng(SEED)
    boundary, total_pop, urban_share = load_county()
    b_m = boundary.to_crs(METRIC).geometry.iloc[0]
    inner = b_m.buffer(-400)  # keeps jittered points and roads clear of the edge
    shapely.prepare(inner)
    seat = np.array(gpd.GeoSeries([Point(SEAT_LONLAT)], crs=WGS84).to_crs(METRIC).iloc[0].coords[0])
    if not inner.contains(Point(seat)):
        raise SystemExit("the county seat is not inside the boundary")

    # -- township centres: centroidal Voronoi (Lloyd) over the county with the seat held fixed,
    # so townships tile the county evenly as real ones roughly do
    cloud = sample_in(inner, 30000, rng)
    centres = [seat]
    d = np.hypot(*(cloud - seat).T)
    for _ in TOWNS:  # farthest-point start
        i = int(np.argmax(d))
        centres.append(cloud[i])
        d = np.minimum(d, np.hypot(*(cloud - cloud[i]).T))
    centres = np.array(centres)
    for _ in range(60):
        lab = cKDTree(centres).query(cloud)[1]
        for k in range(1, len(centres)):
            centres[k] = cloud[lab == k].mean(axis=0)
    # a cell mean can fall outside a concave county; snap it to the nearest interior sample
    centres[1:] = cloud[cKDTree(cloud).query(centres[1:])[1]]
    lab = cKDTree(centres).query(cloud)[1]
    # the mountain Yao townships take the cells farthest from the seat; the others go round clockwise
    far = np.argsort(-np.hypot(*(centres[1:] - seat).T), kind="stable")[:3] + 1
    rest = [k for k in range(1, len(centres)) if k not in set(far.tolist())]
    ang = {
        k: math.atan2(centres[k][0] - seat[0], centres[k][1] - seat[1]) % (2 * math.pi)
        for k in rest
    }
    rest.sort(key=lambda k: ang[k])
    town_of = {0: "县城"}
    for k, name in zip(rest, [t for t in TOWNS if t not in YAO]):
        town_of[k] = name
    for k, name in zip(far.tolist(), sorted(YAO)):
        town_of[int(k)] = name

    # -- urban footprint: the seat plus the development zone to its east-north-east
    dz = None
    for deg in (20, 40, 0, 60, 340, 80):
        c = seat + 4800 * np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))])
        if inner.buffer(-1800).contains(Point(c)):
            dz = c
            break
    assert dz is not None
    dz_area = Point(dz).buffer(1700)
    city_core = shapely.affinity.scale(Point(seat).buffer(1000), 3.4, 2.8)
    footprint = unary_union([city_core, dz_area, LineString([seat, dz]).buffer(900)]).intersection(
        inner
    )

    # -- the river 潇水: south to north, just west of the centre (西洲 is the west bank)
    ys = np.arange(seat[1] - 45000, seat[1] + 45000, 250.0)
    s = (ys - seat[1]) / 1000.0
    xs = (
        seat[0]
        - 700
        + 0.12 * (ys - seat[1])
        + 900 * np.sin(s / 2.3 + 0.4)
        - 900 * math.sin(0.4)
        + 2500 * np.sin(s / 9.0 + 1.1)
        - 2500 * math.sin(1.1)
    )
    river_full = LineString(np.column_stack([xs, ys])).intersection(b_m.buffer(-60))
    river_parts = [g for g in getattr(river_full, "geoms", [river_full]) if g.length > 3000]
    river = unary_union(river_parts)

    # -- city street grid (slightly rotated, jittered), bridges only on three streets
    theta = math.radians(8)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    step = 300.0
    idx = range(-24, 25)
    nodes: dict[tuple[int, int], np.ndarray] = {}
    shapely.prepare(footprint)
    for i in idx:
        for j in idx:
            p = seat + rot @ np.array([i * step, j * step])
            if (i, j) != (0, 0):
                p = p + rng.normal(0, 25, 2)
            if shapely.contains_xy(footprint, p[0], p[1]):
                nodes[(i, j)] = p
    bridge_rows = {-6, 0, 5}
    gg = nx.Graph()
    for (i, j), p in nodes.items():
        for di, dj in ((1, 0), (0, 1)):
            q = nodes.get((i + di, j + dj))
            if q is None:
                continue
            line = LineString([p, q])
            if line.intersects(river) and not (dj == 0 and j in bridge_rows):
                continue
            gg.add_edge((i, j), (i + di, j + dj))
    main_comp = max(nx.connected_components(gg), key=lambda c: (len(c), (0, 0) in c))
    assert (0, 0) in main_comp
    roads = Roads()
    for a, b in sorted(gg.subgraph(main_comp).edges()):
        major = a[0] % 5 == 0 and b[0] % 5 == 0 or a[1] % 5 == 0 and b[1] % 5 == 0
        roads.add(np.array([nodes[a], nodes[b]]), "城市道路", 50 if major else 30)
    grid_keys = sorted(main_comp)
    grid_xy = np.array([nodes[k] for k in grid_keys])
    grid_tree = cKDTree(grid_xy)

    # -- population totals
    urban_total = round(total_pop * urban_share)
    new_pop = allocate(
        35400,
        np.array([1.0, 0.38, 0.5, 0.22, 0.3]) * rng.uniform(0.95, 1.05, 5),
        [10500, 4000, 4000, 3000, 3000],
        [16000, 10000, 10000, 9000, 9000],
    )
    reloc_pop = int(rng.integers(2900, 3150))
    city_pop_total = urban_total - int(new_pop.sum()) - reloc_pop
    n_city = 32
    city_pop = allocate(city_pop_total, rng.lognormal(math.log(7500), 0.45, n_city), 3000, 15000)
    rural_total = total_pop - urban_total

    # -- city communities: denser towards the centre, none inside the development zone
    cand = seat + rng.normal(0, 1600, (6000, 2))
    ok = shapely.contains_xy(footprint, cand[:, 0], cand[:, 1]) & ~shapely.contains_xy(
        dz_area.buffer(300), cand[:, 0], cand[:, 1]
    )
    cand = cand[ok]
    city_xy = pick_spaced(cand, np.ones(len(cand)), n_city, 420, rng)
    assert len(city_xy) == n_city
    # biggest communities nearest the old town
    order = np.argsort(np.hypot(*(city_xy - seat).T), kind="stable")
    city_xy = city_xy[order]
    # mostly, not strictly: a few large estates sit on the edge of town
    city_pop = np.sort(city_pop)[::-1][np.argsort(np.arange(n_city) + rng.normal(0, 4, n_city))]

    def street_of(p: np.ndarray) -> str:
        if np.hypot(*(p - seat)) < 1100:
            return STREETS[0]
        a = math.atan2(p[1] - seat[1], p[0] - seat[0]) % (2 * math.pi)
        return STREETS[1 + int(a // (math.pi / 2)) % 4]

    dz_cand = sample_in(dz_area.intersection(inner), 3000, rng)
    new_xy = pick_spaced(dz_cand, np.ones(len(dz_cand)), 5, 650, rng, taken=city_xy)
    assert len(new_xy) == 5

    reloc_xy = None
    for deg in (-45, -70, -20, 200, 160, 120):
        c = seat + 6000 * np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg))])
        if inner.buffer(-500).contains(Point(c)) and not footprint.buffer(800).contains(Point(c)):
            reloc_xy = c
            break
    assert reloc_xy is not None

    # -- townships: centre communities and villages
    town_ids = list(range(1, len(centres)))
    factor = np.array([0.6 if town_of[k] in YAO else 1.0 for k in town_ids])
    area = np.array([(lab == k).sum() for k in town_ids], dtype=float)
    centre_pop = allocate(
        round(rural_total * 0.22), area * factor * rng.uniform(0.8, 1.2, len(town_ids)), 3000, 9000
    )
    village_pop_total = rural_total - int(centre_pop.sum())
    n_villages = 240
    exclude = footprint.buffer(600).union(Point(reloc_xy).buffer(900))
    cloud_ok = ~shapely.contains_xy(exclude, cloud[:, 0], cloud[:, 1])
    seat_area = float(((lab == 0) & cloud_ok).sum())
    cell_area = np.concatenate([[seat_area], area])
    cell_factor = np.concatenate([[1.0], factor])
    n_per = allocate(n_villages, cell_area * cell_factor, 4, 40)
    vil_xy_l: list[np.ndarray] = []
    vil_cell: list[int] = []
    taken = np.vstack([centres, city_xy, new_xy, reloc_xy[None, :]])
    for k in range(len(centres)):
        m = (lab == k) & cloud_ok & (np.hypot(*(cloud - centres[k]).T) > 900)
        c = cloud[m]
        w = np.exp(-np.hypot(*(c - centres[k]).T) / 5000.0) + 0.15
        got = pick_spaced(c, w, int(n_per[k]), 850, rng, taken=taken)
        taken = np.vstack([taken, got])
        vil_xy_l.append(got)
        vil_cell += [k] * len(got)
    vil_xy = np.vstack(vil_xy_l)
    vil_cell_a = np.array(vil_cell)
    vw = rng.lognormal(math.log(850), 0.6, len(vil_xy)) * cell_factor[vil_cell_a]
    vil_pop = allocate(village_pop_total, vw, 300, 3900)

    used: set[str] = set()
    vil_names = names_unique(len(vil_xy), rng, used)

    # -- the population layer
    units: list[dict] = []

    def add_unit(uid: str, name: str, pop: int, kind: str, town: str, xy: np.ndarray) -> None:
        units.append(
            {"编号": uid, "名称": name, "人口": int(pop), "类型": kind, "乡镇": town, "xy": xy}
        )

    comm_names = CITY_COMMUNITIES[:n_city]
    for i in range(n_city):
        st = street_of(city_xy[i])
        add_unit(f"C{i + 1:04d}", f"{st}{comm_names[i]}社区", city_pop[i], "社区", st, city_xy[i])
    for i, k in enumerate(town_ids):
        t = town_of[k]
        add_unit(
            f"C{n_city + i + 1:04d}", f"{t}{town_root(t)}社区", centre_pop[i], "社区", t, centres[k]
        )
    for i in range(5):
        add_unit(
            f"N{i + 1:04d}",
            f"{DEV_ZONE}{NEW_COMMUNITIES[i]}",
            new_pop[i],
            "新建小区",
            DEV_ZONE,
            new_xy[i],
        )
    add_unit(
        "R0001", "富塘街道幸福家园易地扶贫搬迁安置点", reloc_pop, "安置点", "富塘街道", reloc_xy
    )
    for i in range(len(vil_xy)):
        k = int(vil_cell_a[i])
        t = street_of(vil_xy[i]) if k == 0 else town_of[k]
        add_unit(f"V{i + 1:04d}", f"{t}{vil_names[i]}村", vil_pop[i], "村", t, vil_xy[i])

    # -- trunk roads between the seat and township centres
    tri = Delaunay(centres)
    edges: set[tuple[int, int]] = set()
    for simplex in tri.simplices:
        for a, b in ((0, 1), (1, 2), (0, 2)):
            u, v = sorted((int(simplex[a]), int(simplex[b])))
            edges.add((u, v))
    tg = nx.Graph()
    for u, v in sorted(edges):
        line = LineString([centres[u], centres[v]])
        if line.length < 30000 and inner.contains(line):
            tg.add_edge(u, v, weight=line.length)
    assert nx.is_connected(tg), "a township centre cannot be reached in a straight line"
    keep = set(nx.minimum_spanning_tree(tg).edges())
    keep = {tuple(sorted(e)) for e in keep}
    for u, v, dat in sorted(tg.edges(data=True)):
        if u == 0 or dat["weight"] < 15000:
            keep.add((min(u, v), max(u, v)))
    seat_edges = sorted(v for u, v in keep if u == 0)
    bearing = {
        v: math.degrees(math.atan2(centres[v][0] - seat[0], centres[v][1] - seat[1])) % 360
        for v in seat_edges
    }
    north = min(seat_edges, key=lambda v: min(bearing[v], 360 - bearing[v]))
    south = min(seat_edges, key=lambda v: abs(bearing[v] - 180))
    trunk_nodes: list[np.ndarray] = []
    for u, v in sorted(keep):
        a, b = centres[u], centres[v]
        if u == 0:
            exit_line = LineString([seat, b]).intersection(footprint)
            far_pt = (
                max(getattr(exit_line, "geoms", [exit_line]), key=lambda g: g.length)
                if not exit_line.is_empty
                else Point(seat)
            )
            # leave the city from the grid node where the road meets the edge of the built-up area
            edge_pt = np.array(far_pt.coords[-1]) if far_pt.geom_type == "LineString" else seat
            a = grid_xy[grid_tree.query(edge_pt)[1]]
            cls, speed = ("国道", 80) if v in (north, south) else ("省道", 60)
        else:
            cls, speed = "县道", 50
        length = float(np.hypot(*(b - a)))
        amp = min(0.06 * length, 1200.0)
        for _ in range(5):
            pts = wiggle(a, b, 300.0, amp, rng)
            if inner.contains(LineString(pts)):
                break
            amp /= 2
        else:
            pts = wiggle(a, b, 300.0, 0.0, rng)
        roads.add(pts, cls, speed)
        trunk_nodes.extend(pts)

    # -- local roads: grow a tree outward from the network (Prim), avoiding the river when possible
    net = np.vstack([grid_xy, np.array(trunk_nodes), centres])
    targets = np.array([u["xy"] for u in units])
    connected = cKDTree(net).query(targets)[0] < 1.0
    pts_net = [net]
    for _ in range(len(targets)):
        todo = np.where(~connected)[0]
        if len(todo) == 0:
            break
        all_net = np.vstack(pts_net)
        tree = cKDTree(all_net)
        dist, _ = tree.query(targets[todo])
        i = int(todo[np.argmin(dist)])
        p = targets[i]
        k = min(12, len(all_net))
        dd, nn = tree.query(p, k=k)
        best = None
        for q_i in np.atleast_1d(nn):
            q = all_net[q_i]
            line = LineString([q, p])
            if not inner.contains(line):
                continue
            if best is None:
                best = q
            if not line.intersects(river):
                best = q
                break
        assert best is not None
        in_city = footprint.contains(Point(p))
        length = float(np.hypot(*(p - best)))
        pts = wiggle(best, p, 250.0, min(0.08 * length, 400.0), rng)
        if not inner.contains(LineString(pts)):
            pts = np.array([best, p])
        on_trunk = cKDTree(net).query(best)[0] < 1.0
        if in_city:
            cls, speed = "城市道路", 30
        elif on_trunk:
            cls, speed = "乡道", 40
        else:
            cls, speed = "村道", 30
        roads.add(pts, cls, speed)
        pts_net.append(pts[1:])
        connected[i] = True
    assert connected.all()

    # -- schools
    schools: list[dict] = []

    def host_spot(host: np.ndarray, dist: tuple[float, float] = (120, 260)) -> np.ndarray:
        for _ in range(50):
            ang_ = rng.uniform(0, 2 * math.pi)
            r = rng.uniform(*dist)
            p = host + r * np.array([math.cos(ang_), math.sin(ang_)])
            line = LineString([host, p])
            if inner.contains(Point(p)) and not line.intersects(river):
                return p
        return host + np.array([30.0, 30.0])

    def add_school(
        name: str,
        level: str,
        classes: int,
        per_class: tuple[float, float],
        quality: str,
        location: str,
        host: np.ndarray,
        *,
        status: str = "现有",
        owner: str = "公办",
        kind: str = "普通",
    ) -> None:
        students = 0 if status == "待建" else int(round(classes * rng.uniform(*per_class)))
        # a small school still needs a teacher per class, whatever its pupil count
        teachers = (
            0 if status == "待建" else max(classes, int(round(students / rng.uniform(13, 17))))
        )
        p = host_spot(host)
        cls = "城市道路" if location == "城区" else "村道"
        roads.add(np.array([host, p]), cls, 30)
        schools.append(
            {
                "学校名称": name,
                "学段": level,
                "班级数": int(classes),
                "在校生数": students,
                "教师数": teachers,
                "办学质量": quality,
                "城乡类别": location,
                "状态": status,
                "办学性质": owner,
                "学校类型": kind,
                "xy": p,
            }
        )

    # county seat: spread schools over the communities, most central first
    hosts = [0]
    dmin = np.hypot(*(city_xy - city_xy[0]).T)
    while len(hosts) < n_city:
        j = int(np.argmax(dmin))
        hosts.append(j)
        dmin = np.minimum(dmin, np.hypot(*(city_xy - city_xy[j]).T))
    hq = iter(hosts * 2)

    def city_host() -> np.ndarray:
        return city_xy[next(hq)]

    urban_primary = [
        ("道县第一完全小学", 54, (55, 60), "优质"),
        ("道县第二完全小学", 48, (53, 59), "优质"),
        ("道县第三完全小学", 45, (52, 57), "优质"),
        ("道县濂溪小学", 42, (52, 57), "优质"),
        ("道县第四完全小学", 42, (50, 55), "优质"),
        ("道县第五完全小学", 42, (48, 54), "一般"),
        ("道县第六完全小学", 42, (47, 53), "一般"),
        ("道县第七完全小学", 30, (46, 52), "一般"),
        ("道县第八完全小学", 30, (45, 50), "一般"),
        ("道县西洲小学", 30, (46, 52), "一般"),
        ("道县富塘小学", 24, (44, 50), "一般"),
        ("道县上关小学", 18, (34, 40), "薄弱"),
    ]
    senior = [
        ("道县第一中学", "高中", 60, (55, 58), "优质"),
        ("道县第二中学", "高中", 84, (52, 56), "一般"),
        ("道县第五中学", "高中", 78, (50, 55), "一般"),
    ]
    urban_junior = [
        ("道县第六中学", 48, (54, 58), "优质"),
        ("道县第七中学", 45, (52, 56), "优质"),
        ("道县第八中学", 42, (48, 53), "一般"),
        ("道县濂溪中学", 36, (46, 51), "一般"),
        ("道县城南中学", 30, (40, 46), "薄弱"),
    ]
    for name, lvl, c, pc, q in senior:
        add_school(name, lvl, c, pc, q, "城区", city_host())
    add_school("道县第三中学", "完全中学", 90, (50, 55), "一般", "城区", city_host())
    for name, c, pc, q in urban_junior:
        add_school(name, "初中", c, pc, q, "城区", city_host())
    for name, c, pc, q in urban_primary:
        add_school(name, "小学", c, pc, q, "城区", city_host())
    add_school("道县濂溪九年一贯制学校", "九年一贯制", 45, (50, 55), "优质", "城区", city_host())
    add_school("道县西洲实验学校", "九年一贯制", 36, (46, 52), "一般", "城区", city_host())
    add_school("道县育英实验小学", "小学", 24, (40, 46), "一般", "城区", city_host(), owner="民办")
    add_school("道县明德中学", "完全中学", 48, (44, 50), "一般", "城区", city_host(), owner="民办")
    # development zone: planned schools that cover only part of the new housing
    dz_hosts = new_xy[np.argsort(-new_pop, kind="stable")]
    add_school("道县经开区实验小学", "小学", 24, (0, 0), "一般", "城区", dz_hosts[0], status="待建")
    add_school("道县经开区中学", "初中", 18, (0, 0), "一般", "城区", dz_hosts[1], status="待建")
    # relocation site
    add_school(
        "道县幸福家园学校", "小学", 12, (38, 44), "一般", "城区", reloc_xy, kind="安置点学校"
    )

    # townships
    town_pop = {town_of[k]: int(centre_pop[i]) for i, k in enumerate(town_ids)}
    for u in units:
        if u["类型"] == "村" and u["乡镇"] in town_pop:
            town_pop[u["乡镇"]] += u["人口"]
    big = sorted(town_pop, key=lambda t: -town_pop[t])
    weak_towns = {"洪塘营瑶族乡", "审章塘瑶族乡"}
    for k in town_ids:
        t = town_of[k]
        tp = town_pop[t]
        loc = centres[k]
        if t == "横岭瑶族乡":
            add_school(
                f"{t}九年一贯制学校", "九年一贯制", 18, (34, 42), "薄弱", "镇区", loc, kind="中心校"
            )
            continue
        pc = int(np.clip(round(tp * 0.085 * 0.5 / 44 / 6) * 6, 12, 36))
        q = "优质" if t == "寿雁镇" else ("薄弱" if t in weak_towns else "一般")
        add_school(f"{t}中心小学", "小学", pc, (44, 54), q, "镇区", loc, kind="中心校")
        jc = int(np.clip(round(tp * 0.043 * 0.75 / 48 / 3) * 3, 9, 30))
        add_school(
            f"{t}中学", "初中", jc, (42, 52), "薄弱" if t in weak_towns else "一般", "镇区", loc
        )
        if t in big[:3]:
            add_school(f"{t}第二完全小学", "小学", 18, (40, 48), "一般", "镇区", loc)
    centre_of = {town_of[k]: centres[k] for k in town_ids}
    add_school("道县第四中学", "高中", 72, (48, 54), "一般", "镇区", centre_of["寿雁镇"])
    add_school(
        "祥霖铺镇九年一贯制学校", "九年一贯制", 27, (40, 48), "一般", "镇区", centre_of["祥霖铺镇"]
    )

    # villages: complete primaries at the larger villages, teaching points at remote small ones
    vil_units = [u for u in units if u["类型"] == "村"]
    for k in range(len(centres)):
        # the seat's own rural cell is split among the five 街道
        towns_here = set(STREETS) if k == 0 else {town_of[k]}
        t_units = [u for u in vil_units if u["乡镇"] in towns_here]
        if not t_units:
            continue
        c = centres[k]
        far_units = [u for u in t_units if np.hypot(*(u["xy"] - c)) > 2500]
        n_full = max(1, round(len(t_units) * 0.2))
        n_tp = max(1, round(len(t_units) * 0.2))
        by_pop = sorted(far_units, key=lambda u: (-u["人口"], u["编号"]))
        full = by_pop[:n_full]
        rest_u = [u for u in far_units if u not in full]
        remote = sorted(rest_u, key=lambda u: (-np.hypot(*(u["xy"] - c)), u["编号"]))[:n_tp]
        for u in full:
            vname = u["名称"][len(u["乡镇"]) :].removesuffix("村")
            weak = rng.random() < 0.12
            add_school(
                f"{u['乡镇']}{vname}小学",
                "小学",
                6,
                (8, 14) if weak else (22, 38),
                "薄弱" if weak else "一般",
                "乡村",
                u["xy"],
                kind="完小",
            )
        for u in remote:
            weak = rng.random() < 0.2
            add_school(
                f"{u['名称']}教学点",
                "小学",
                int(rng.integers(1, 5)),
                (3, 12),
                "薄弱" if weak else "一般",
                "乡村",
                u["xy"],
                kind="教学点",
            )

    # -- candidate sites
    cands: list[dict] = []
    dz_c = pick_spaced(dz_cand, np.ones(len(dz_cand)), 6, 450, rng, taken=new_xy)
    for i, (p, lvl) in enumerate(zip(dz_c, ["小学", "初中", "小学", "", "高中", "小学"])):
        cands.append({"名称": f"经开区候选地块{chr(65 + i)}", "适用学段": lvl, "xy": p})
    ring = cloud[
        shapely.contains_xy(footprint, cloud[:, 0], cloud[:, 1])
        & (np.hypot(*(cloud - seat).T) > 2200)
        & ~shapely.contains_xy(dz_area, cloud[:, 0], cloud[:, 1])
    ]
    ring_c = pick_spaced(ring, np.ones(len(ring)), 8, 900, rng, taken=city_xy)
    for i, p in enumerate(ring_c):
        cands.append(
            {
                "名称": f"{street_of(p)}城郊候选地块{i + 1}",
                "适用学段": ["小学", "初中", ""][i % 3],
                "xy": p,
            }
        )
    for k in [k for k in town_ids if town_of[k] in big[:12]]:
        p = host_spot(centres[k], (400, 700))
        cands.append(
            {"名称": f"{town_of[k]}集镇候选地块", "适用学段": ["小学", "初中", ""][k % 3], "xy": p}
        )
    cands.append(
        {
            "名称": "幸福家园安置点旁候选地块",
            "适用学段": "小学",
            "xy": host_spot(reloc_xy, (300, 500)),
        }
    )
    all_net = np.vstack(pts_net)
    net_tree = cKDTree(all_net)
    for c in cands:
        q = all_net[net_tree.query(c["xy"])[1]]
        if not np.allclose(q, c["xy"]):
            roads.add(
                np.array([q, c["xy"]]),
                "城市道路" if footprint.contains(Point(c["xy"])) else "村道",
                30,
            )

    write(boundary, units, schools, cands, roads, river_parts, total_pop, urban_share)


def to_wgs(xy: np.ndarray) -> np.ndarray:
    from pyproj import Transformer

    tr = Transformer.from_crs(METRIC, WGS84, always_xy=True)
    lon, lat = tr.transform(xy[:, 0], xy[:, 1])
    # 7 decimals ≈ 1 cm: stable across PROJ builds while keeping shared road endpoints identical
    return np.round(np.column_stack([lon, lat]), 7)


def write(
    boundary: gpd.GeoDataFrame,
    units: list[dict],
    schools: list[dict],
    cands: list[dict],
    roads: Roads,
    rivers: list[LineString],
    total_pop: int,
    urban_share: float,
) -> None:
    pts = to_wgs(np.array([u["xy"] for u in units]))
    pop = gpd.GeoDataFrame(
        [{k: v for k, v in u.items() if k != "xy"} for u in units],
        geometry=shapely.points(pts),
        crs=WGS84,
    )
    level_digit = {"小学": 1, "初中": 2, "高中": 3, "九年一贯制": 4, "完全中学": 5}
    seq: dict[str, int] = {}
    codes = []
    for s in schools:
        seq[s["学段"]] = seq.get(s["学段"], 0) + 1
        codes.append(f"{CODE}{level_digit[s['学段']]}{seq[s['学段']]:03d}")
    sch = gpd.GeoDataFrame(
        {"学校代码": codes} | {k: [s[k] for s in schools] for k in schools[0] if k != "xy"},
        geometry=shapely.points(to_wgs(np.array([s["xy"] for s in schools]))),
        crs=WGS84,
    )
    cand = gpd.GeoDataFrame(
        {
            "编号": [f"X{i + 1:02d}" for i in range(len(cands))],
            "名称": [c["名称"] for c in cands],
            "适用学段": [c["适用学段"] for c in cands],
        },
        geometry=shapely.points(to_wgs(np.array([c["xy"] for c in cands]))),
        crs=WGS84,
    )
    a = to_wgs(np.array([s[0] for s in roads.segs]))
    b = to_wgs(np.array([s[1] for s in roads.segs]))
    rd = gpd.GeoDataFrame(
        {"道路等级": [s[2] for s in roads.segs], "设计速度": [s[3] for s in roads.segs]},
        geometry=shapely.linestrings(np.stack([a, b], axis=1)),
        crs=WGS84,
    )
    riv = gpd.GeoDataFrame(
        {"名称": ["潇水"] * len(rivers)},
        geometry=[shapely.linestrings(to_wgs(np.array(r.coords))) for r in rivers],
        crs=WGS84,
    )
    if GPKG.exists():
        GPKG.unlink()
    for name, df in [
        ("boundary", boundary),
        ("population", pop),
        ("schools", sch),
        ("roads", rd),
        ("candidates", cand),
        ("rivers", riv),
    ]:
        df.to_file(GPKG, layer=name, driver="GPKG", engine="pyogrio")
    report(boundary, pop, sch, rd, cand, total_pop, urban_share)


def report(
    boundary: gpd.GeoDataFrame,
    pop: gpd.GeoDataFrame,
    sch: gpd.GeoDataFrame,
    rd: gpd.GeoDataFrame,
    cand: gpd.GeoDataFrame,
    total_pop: int,
    urban_share: float,
) -> None:
    P = int(pop["人口"].sum())
    print(
        f"县域: {boundary['名称'].iloc[0]} {boundary['行政区划代码'].iloc[0]}  人口合计 {P:,} (普查 {total_pop:,})"
    )
    assert P == total_pop
    by = pop.groupby("类型")["人口"].agg(["count", "sum", "min", "max"])
    print(by.to_string())
    urban = pop.loc[pop["乡镇"].isin(STREETS + [DEV_ZONE]) & (pop["类型"] != "村"), "人口"].sum()
    print(f"县城+开发区人口 {urban:,} = {urban / P:.3f} (普查城镇化率 {urban_share})")
    print(f"乡镇数 {pop['乡镇'].nunique()}  人口单元 {len(pop)}")
    print(f"学校 {len(sch)}  学段: {sch['学段'].value_counts().to_dict()}")
    print(
        f"质量: {sch['办学质量'].value_counts().to_dict()}  类型: {sch['学校类型'].value_counts().to_dict()}"
    )
    print(
        f"城乡: {sch['城乡类别'].value_counts().to_dict()}  状态/性质: {sch['状态'].value_counts().to_dict()} {sch['办学性质'].value_counts().to_dict()}"
    )
    # split combined schools by grades the way the tool does (6-3-3)
    split = {
        "小学": {"primary": 1.0},
        "初中": {"junior": 1.0},
        "高中": {"senior": 1.0},
        "九年一贯制": {"primary": 6 / 9, "junior": 3 / 9},
        "完全中学": {"junior": 0.5, "senior": 0.5},
    }
    size = {"primary": 45, "junior": 50, "senior": 50}
    rate = {"primary": 0.085, "junior": 0.043, "senior": 0.035}
    existing = sch[sch["状态"] == "现有"]
    print(
        "学段    班级  在校生  容量(标准班额)  需求(默认比例)  在校生/人口  容量/需求  大班额(>=56)校数"
    )
    for lvl in ("primary", "junior", "senior"):
        cl = st = 0.0
        over = 0
        for _, s in existing.iterrows():
            f = split[s["学段"]].get(lvl, 0.0)
            cl += s["班级数"] * f
            st += s["在校生数"] * f
            if f and s["在校生数"] / max(s["班级数"], 1) >= 56:
                over += 1
        cap = cl * size[lvl]
        dem = P * rate[lvl]
        print(
            f"{lvl:8s}{cl:6.0f}{st:8.0f}{cap:14.0f}{dem:14.0f}{st / P:12.3%}{cap / dem:10.2f}{over:8d}"
        )
    print(
        f"教师 {int(existing['教师数'].sum()):,}  生师比 {existing['在校生数'].sum() / existing['教师数'].sum():.1f}"
    )
    print(f"道路 {len(rd)} 段: {rd['道路等级'].value_counts().to_dict()}  候选地块 {len(cand)}")
    size_b = GPKG.stat().st_size
    print(
        f"{GPKG.name}: {size_b / 1e6:.2f} MB  sha256 {hashlib.sha256(GPKG.read_bytes()).hexdigest()[:16]}"
    )


if __name__ == "__main__":
    sys.exit(main())
