"""Road graph: built once from the road layer; distances along it with scipy.sparse.csgraph.

Every consecutive pair of vertices of a road line is an edge (length in metres). Vertices closer
than ``node_tol_m`` are one node, so lines that share an end or a vertex connect; lines that only
cross without a shared vertex do not (bridges and overpasses stay apart, as on the ground).

A place (unit, school) joins the network at the nearest point of the nearest segment; the straight
leg from the place to that point counts in its distance ("off-road leg"). Places farther than
``snap_max_m`` from every road are not on the network (distance inf). Pieces of the network that
do not connect are kept and reported (``components``), never dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    import geopandas as gpd

# Default of ``distance.snap_max_m`` (planning.rules): farther from every road is off the network.
SNAP_MAX_M = 5000.0
# Dijkstra rows kept in memory at once: about this many float64 cells (≈ 16 MB; bigger fresh arrays cost page faults).
_CHUNK_CELLS = 2_000_000
# Junction rows kept for repeated full tables (siting): about this many float64 cells (128 MB).
_ROW_CACHE_CELLS = 16_000_000
# Snapping: block radii (in grid cells) tried in turn for the places not yet proven. Places
# farther from every road go to a k-d tree of the samples (a block around a far place would
# name much of the network), built only then.
_SNAP_BLOCKS = (1, 2, 4, 8, 16)
_SNAP_CHUNK = 32_768  # block columns per pass (about 4 candidate segments each)
# k-nearest by road: first search radius (quantile of the places' straight k-th distance, and
# the factor on it), and the growth of the radius for the places not yet proven. Tuned on the
# bench county (jittered lattice, road ≈ 1.3 × straight); factor 2 rather than 1.5 re-searches
# less on the generated prefecture project (15,000 villages, 1,097 schools, k = 10: 1.0-1.1 s
# -> 0.75-0.86 s; the bench villages +5 %).
_KNN_START = (0.9, 2.0)
_KNN_GROW = 1.5
# ... and the share of the network's box the first search disc may cover before one unbounded
# search per destination is cheaper. Measured (k = 10, bounded vs unbounded s): bench county
# 24 % 0.11 vs 0.40; generated county project 219 schools 25 % 0.16 vs 0.32; generated
# prefecture project 150 schools 39 % 0.56 vs 0.33, 41 schools 184 % 1.9 vs 0.15.
_KNN_FULL = 1 / 3


@dataclass(frozen=True)
class Snap:
    """Where each place joins the network. ``seg`` is -1 for places off the network."""

    seg: np.ndarray  # (n,) segment index or -1
    t: np.ndarray  # (n,) position along the segment, 0 at node a, 1 at node b
    off_m: np.ndarray  # (n,) straight leg from the place to the road, metres
    node_a: np.ndarray  # (n,) node index (0 when off network)
    node_b: np.ndarray
    cost_a_m: np.ndarray  # off-road leg + along-segment distance to node a (inf when off)
    cost_b_m: np.ndarray
    road_xy: np.ndarray  # (n, 2) the point where the place joins the road (nan when off)

    @property
    def on_network(self) -> np.ndarray:
        return self.seg >= 0

    def __len__(self) -> int:
        return len(self.seg)


class RoadGraph:
    """Undirected road graph as CSR arrays, with segment geometry for snapping."""

    def __init__(self, node_xy: np.ndarray, seg_a: np.ndarray, seg_b: np.ndarray):
        self.node_xy = node_xy
        self.seg_a = seg_a
        self.seg_b = seg_b
        x, y = node_xy[:, 0], node_xy[:, 1]
        self._seg_ax, self._seg_ay = x[seg_a], y[seg_a]
        self._seg_dx, self._seg_dy = x[seg_b] - self._seg_ax, y[seg_b] - self._seg_ay
        self.seg_len = np.hypot(self._seg_dx, self._seg_dy)
        # Searches run on the junction graph: every chain of degree-2 vertices (a road's shape
        # points) is one edge between its end junctions. Real road layers are mostly shape
        # points (the sample county: 73 % of nodes), so Dijkstra settles several times fewer
        # nodes; places still snap to the exact segments and ride along their chain.
        ch = _chains(len(node_xy), seg_a, seg_b, self.seg_len)
        self.seg_chain, self.seg_pos_a, self.seg_pos_b = ch["seg_chain"], ch["pos_a"], ch["pos_b"]
        self.chain_len, self.chain_u, self.chain_v = ch["length"], ch["u"], ch["v"]
        self.junction = ch["junction"]  # original node id of each search-graph node
        k = len(self.junction)
        u, v, w = self.chain_u, self.chain_v, self.chain_len
        loop = u == v  # a loop never shortens a path; its places still reach u both ways
        u, v, w = u[~loop], v[~loop], w[~loop]
        # Parallel chains between two junctions: the search graph keeps the shortest.
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        order = np.lexsort((w, lo * max(k, 1) + hi))
        key = (lo * max(k, 1) + hi)[order]
        first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
        lo, hi, w = lo[order[first]], hi[order[first]], w[order[first]]
        # Both directions stored: shortest paths run with directed=True, which spares csgraph
        # the symmetrising copy of the graph it makes on every undirected call. csgraph reads
        # a stored 0 as "no edge": keep weights strictly positive.
        rows = np.concatenate([lo, hi])
        cols = np.concatenate([hi, lo])
        order = np.argsort(rows, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=k))])
        self.csr = csr_matrix(
            (np.maximum(np.concatenate([w, w]), 1e-9)[order], cols[order], indptr), shape=(k, k)
        )
        self.n_components, comp_k = connected_components(self.csr, directed=False)
        node_chain = np.zeros(len(node_xy), np.int64)
        node_chain[seg_a] = self.seg_chain
        node_chain[seg_b] = self.seg_chain
        self.component = comp_k[self.chain_u[node_chain]] if k else np.zeros(0, np.int64)
        self.component[self.junction] = comp_k
        self.search_component = comp_k  # per search-graph node (junction)
        self._seg_inv: np.ndarray | None = None  # snapping index, built on the first snap
        self._grid: _SegGrid | None = None
        self._seg_tree: shapely.STRtree | None = None
        self._jx: np.ndarray | None = None  # junctions sorted by x, for bounded searches
        self._row_cache: dict[int, np.ndarray] = {}  # junction -> Dijkstra row (metres)

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    @property
    def n_edges(self) -> int:
        return len(self.seg_a)

    @property
    def n_search_nodes(self) -> int:
        """Nodes of the junction graph the shortest-path searches run on."""
        return int(self.csr.shape[0])

    def dense_is_columnwise(self, n_org: int, n_dst: int) -> bool:
        """True when ``dense`` for these sizes builds every (origin, dest) cell on its own from
        the destination's cached junction rows: a table over a subset of the origins or the
        destinations then equals the slice of a bigger table bit for bit, so callers asking
        for many overlapping subsets may compute once and slice."""
        return n_org >= n_dst and 2 * n_dst * self.n_search_nodes <= _ROW_CACHE_CELLS // 4

    # ----------------------------------------------------------------- snapping
    def prepare(self) -> None:
        """Build the snapping index and the junction boxes now rather than on first use (a
        plan builds the network once, in its own stage, and every later stage snaps)."""
        if self._seg_inv is None and self.n_edges:
            self._build_snap_index()
        self._box_index()

    def _build_snap_index(self) -> None:
        length = self.seg_len
        self._h = max(float(np.median(length)) if len(length) else 1.0, 1e-6)
        ax, ay, dx, dy = self._seg_ax, self._seg_ay, self._seg_dx, self._seg_dy
        ll = dx**2 + dy**2
        self._seg_inv = np.where(ll > 0, 1.0 / np.where(ll > 0, ll, 1.0), 0.0)
        self._grid = _SegGrid(ax, ay, dx, dy, length, self._h) if len(length) else None

    def snap(self, xy: np.ndarray, max_m: float = np.inf) -> Snap:
        """Join points (n, 2) to the nearest point of the nearest road segment."""
        xy = np.asarray(xy, float).reshape(-1, 2)
        n = len(xy)
        seg = np.full(n, -1, np.int64)
        t = np.zeros(n)
        off = np.full(n, np.inf)
        if n and self.n_edges and self._seg_inv is None:
            self._build_snap_index()
        grid = self._grid
        todo = np.arange(n) if grid is not None else np.zeros(0, np.int64)
        for r in _SNAP_BLOCKS:
            if grid is None or not len(todo):
                break
            s_, d_, t_ = self._grid_nearest(xy[todo], r)
            proven = d_ < grid.reach(r)
            seg[todo[proven]], off[todo[proven]], t[todo[proven]] = (
                s_[proven],
                d_[proven],
                t_[proven],
            )
            # Not proven at a reach beyond max_m: nearer than the reach there is nothing.
            todo = todo[~proven] if grid.reach(r) <= max_m else todo[:0]
        if len(todo):
            seg[todo], off[todo], t[todo] = self._snap_far(xy[todo])
        far = ~(off <= max_m)
        seg[far] = -1
        off[far] = np.inf
        t[far] = 0.0
        on = seg >= 0
        na = np.where(on, self.seg_a[np.maximum(seg, 0)], 0)
        nb = np.where(on, self.seg_b[np.maximum(seg, 0)], 0)
        length = np.where(on, self.seg_len[np.maximum(seg, 0)], 0.0)
        a, b = self.node_xy[na], self.node_xy[nb]
        road = np.where(on[:, None], a + (b - a) * t[:, None], np.nan)
        return Snap(seg, t, off, na, nb, off + t * length, off + (1 - t) * length, road)

    def _grid_nearest(self, xy: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest of the segments the grid names within ``r`` cells of each point: (segment,
        metres, t), ties by segment index; (-1, inf, 0) where it names none."""
        n = len(xy)
        # Places per pass: the candidate arrays stay small enough for the cache (fresh large
        # temporaries cost more in page faults than the arithmetic).
        step = max(1, _SNAP_CHUNK // (2 * r + 1))
        if n > step:
            parts = [self._grid_nearest(xy[s : s + step], r) for s in range(0, n, step)]
            seg_, d_, t_ = (np.concatenate(p) for p in zip(*parts, strict=True))
            return seg_, d_, t_
        seg = np.full(n, -1, np.int64)
        best = np.full(n, np.inf)
        tt = np.zeros(n)
        assert self._grid is not None  # snap builds it before asking
        pi, cand, per_pt = self._grid.near(xy, r)
        if len(cand) == 0:
            return seg, best, tt
        d, t = self._project(xy[pi], cand)
        has = per_pt > 0
        first = (np.cumsum(per_pt) - per_pt)[has]
        best[has] = np.minimum.reduceat(d, first)
        at_best = d == best[pi]
        seg[has] = np.minimum.reduceat(np.where(at_best, cand, np.iinfo(np.int64).max), first)
        pick = np.flatnonzero(at_best & (cand == seg[pi]))
        tt[pi[pick]] = t[pick]  # a segment named twice has one t
        return seg, best, tt

    def on_chains(self, s: Snap) -> Snap:
        """The same places on the junction graph: ``seg`` is the chain, ``t`` the position along
        it, ``node_a``/``node_b`` its end junctions (search-graph ids) with the costs to them.
        All searches take snaps in this form."""
        on = s.seg >= 0
        if not len(self.seg_chain):
            on = np.zeros(len(s), bool)
        sg = np.where(on, s.seg, 0)
        ch = np.where(on, self.seg_chain[sg] if on.any() else 0, 0)
        if on.any():
            pa, pb, length = self.seg_pos_a[sg], self.seg_pos_b[sg], self.chain_len[ch]
            u, v = self.chain_u[ch], self.chain_v[ch]
        else:
            pa = pb = u = v = np.zeros(len(s), np.int64)  # unused: every place is off the network
            length = np.ones(len(s))
        pos = pa + s.t * (pb - pa)
        return Snap(
            np.where(on, ch, -1),
            np.where(on, pos / np.where(length > 0, length, 1.0), 0.0),
            s.off_m,
            np.where(on, u, 0),
            np.where(on, v, 0),
            np.where(on, s.off_m + pos, np.inf),
            np.where(on, s.off_m + (length - pos), np.inf),
            s.road_xy,
        )

    def _project(self, p: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance from points p (..., 2) to segments seg (...) and the position t along them."""
        if self._seg_inv is None:
            self._build_snap_index()
        inv = self._seg_inv
        assert inv is not None  # just built
        ax, ay = self._seg_ax[seg], self._seg_ay[seg]
        dx, dy = self._seg_dx[seg], self._seg_dy[seg]
        px, py = p[..., 0] - ax, p[..., 1] - ay
        t = np.clip((px * dx + py * dy) * inv[seg], 0.0, 1.0)
        return np.hypot(px - dx * t, py - dy * t), t

    def _snap_far(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest segment of places far from every road: k nearest samples, proven when the
        k-th is beyond the best segment + h/2; the few left go to an STRtree."""
        grid = self._grid
        assert grid is not None  # snap builds it before asking
        if grid.tree is None:
            grid.tree = cKDTree(grid.sample_xy, balanced_tree=False, compact_nodes=False)
        tree = grid.tree
        n = len(xy)
        seg = np.full(n, -1, np.int64)
        t = np.zeros(n)
        off = np.full(n, np.inf)
        todo = np.arange(n)
        k = 12
        while len(todo):
            k = min(k, tree.n)
            dq, iq = tree.query(xy[todo], k=k)
            dq, iq = dq.reshape(len(todo), k), iq.reshape(len(todo), k)
            cand = grid.sample_seg[iq]
            d, tt = self._project(xy[todo, None, :], cand)
            best = d.min(axis=1)  # nearest candidate, ties by segment index
            j = np.where(d == best[:, None], cand, np.iinfo(np.int64).max).argmin(axis=1)
            rows = np.arange(len(todo))
            seg[todo], off[todo], t[todo] = cand[rows, j], d[rows, j], tt[rows, j]
            proven = dq[:, -1] >= off[todo] + self._h / 2
            if k >= tree.n:
                break
            todo = todo[~proven]
            if k >= 64 and len(todo):
                s2, d2, t2 = self._snap_exact(xy[todo])
                better = (d2 < off[todo]) | ((d2 == off[todo]) & (s2 < seg[todo]))
                sel = todo[better]
                seg[sel], off[sel], t[sel] = s2[better], d2[better], t2[better]
                break
            k *= 4
        return seg, off, t

    def _snap_exact(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest segment by an STRtree of all segments (places far from every road), ties by
        segment index like the grid."""
        if self._seg_tree is None:
            lines = shapely.linestrings(
                np.stack([self.node_xy[self.seg_a], self.node_xy[self.seg_b]], axis=1)
            )
            self._seg_tree = shapely.STRtree(lines)
        pi, si = self._seg_tree.query_nearest(shapely.points(xy), all_matches=True)
        order = np.lexsort((si, pi))
        pi, si = pi[order], si[order]
        d, t = self._project(xy[pi], si)
        per_pt = np.bincount(pi, minlength=len(xy))
        first = np.cumsum(per_pt) - per_pt
        best = np.minimum.reduceat(d, first)
        at_best = d == best[pi]
        seg = np.minimum.reduceat(np.where(at_best, si, np.iinfo(np.int64).max), first)
        pick = np.flatnonzero(at_best & (si == seg[pi]))
        tt = np.zeros(len(xy))
        tt[pi[pick]] = t[pick]
        return seg, best, tt

    # ---------------------------------------------------------------- distances
    def _augmented(self, dst: Snap) -> tuple[csr_matrix, np.ndarray]:
        """The graph plus one virtual node per on-network destination, with edges *out* of it to
        the two ends of its segment (off-road leg + the way along it), and the virtual node ids
        (-1 when off network). Searches start at virtual nodes only, so no edge needs to lead
        in; the rows are appended to the CSR arrays without touching the others."""
        n = self.n_search_nodes
        on = np.flatnonzero(dst.on_network)
        vid = np.full(len(dst), -1, np.int64)
        vid[on] = n + np.arange(len(on))
        # csgraph reads a stored 0 as "no edge": keep virtual edges strictly positive.
        wa = np.maximum(dst.cost_a_m[on], 1e-9)
        wb = np.maximum(dst.cost_b_m[on], 1e-9)
        cols = np.column_stack([dst.node_a[on], dst.node_b[on]]).ravel()
        w = np.column_stack([wa, wb]).ravel()
        base = self.csr
        m = n + len(on)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + 2 * np.arange(1, len(on) + 1)])
        aug = csr_matrix(
            (np.concatenate([base.data, w]), np.concatenate([base.indices, cols]), indptr),
            shape=(m, m),
        )
        return aug, vid

    def _same_segment(self, org: Snap, dst: Snap) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(origin, dest, metres) for pairs on one chain: the direct way along it, which the
        junction-based paths miss (chain snaps)."""
        od = np.flatnonzero(dst.on_network)
        if len(od) == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
        order = od[np.argsort(dst.seg[od], kind="stable")]
        dseg = dst.seg[order]
        oo = np.flatnonzero(org.on_network)
        lo = np.searchsorted(dseg, org.seg[oo], "left")
        hi = np.searchsorted(dseg, org.seg[oo], "right")
        cnt = hi - lo
        oi = np.repeat(oo, cnt)
        pos = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())
        di = order[pos]
        length = self.chain_len[org.seg[oi]]
        dist = org.off_m[oi] + dst.off_m[di] + np.abs(org.t[oi] - dst.t[di]) * length
        return oi, di, dist

    def nearest(self, org: Snap, dst: Snap) -> tuple[np.ndarray, np.ndarray]:
        """Nearest destination of every origin: (metres, dest index); inf / -1 if unreachable.
        One multi-source Dijkstra (min_only) over the whole graph."""
        return self._nearest(self.on_chains(org), self.on_chains(dst))

    def _nearest(self, org: Snap, dst: Snap) -> tuple[np.ndarray, np.ndarray]:
        n = len(org)
        dist = np.full(n, np.inf)
        idx = np.full(n, -1, np.int64)
        if n == 0 or not dst.on_network.any():
            return dist, idx
        aug, vid = self._augmented(dst)
        srcs = vid[vid >= 0]
        d, _, src = dijkstra(
            aug, directed=True, indices=srcs, min_only=True, return_predecessors=True
        )
        dest_of_vnode = np.full(aug.shape[0], -1, np.int64)
        dest_of_vnode[srcs] = np.flatnonzero(vid >= 0)
        on = org.on_network
        va = org.cost_a_m + d[org.node_a]
        vb = org.cost_b_m + d[org.node_b]
        ia = np.where(np.isfinite(va), dest_of_vnode[np.maximum(src[org.node_a], 0)], -1)
        ib = np.where(np.isfinite(vb), dest_of_vnode[np.maximum(src[org.node_b], 0)], -1)
        use_b = (vb < va) | ((vb == va) & (ib >= 0) & ((ib < ia) | (ia < 0)))
        dist = np.where(on, np.where(use_b, vb, va), np.inf)
        idx = np.where(on & np.isfinite(dist), np.where(use_b, ib, ia), -1)
        oi, di, dd = self._same_segment(org, dst)
        for o, j, v in zip(oi, di, dd, strict=True):
            if v < dist[o] or (v == dist[o] and j < idx[o]):
                dist[o], idx[o] = v, j
        return dist, idx

    def _tables(
        self, org: Snap, dst: Snap, dests: np.ndarray, limit: float
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Yield (dest indices, origin rows, (rows, chunk) metres) for the given destinations,
        searching each no farther than ``limit``; same-chain shortcuts are not included here.
        With a finite limit only the origins inside the chunk's box grown by it are returned
        (road ≥ straight: the others cannot be reached), and the search runs on the junctions
        inside that box only: every node within ``limit`` of a destination by road is inside,
        so the distances up to the limit are the same, and csgraph's work per search (which
        touches every node of the graph it is given) shrinks to the box."""
        if not np.isfinite(limit):
            yield from self._tables_full(org, dst, dests, limit)
            return
        on = dst.on_network[dests]
        dests = dests[on]
        if len(dests) == 0:
            return
        # Chunks of nearby destinations: small boxes.
        cell = np.floor(dst.road_xy[dests] / max(limit, 1.0)).astype(np.int64)
        cell -= cell.min(axis=0)
        dests = dests[np.lexsort((dests, cell[:, 1], cell[:, 0]))]
        oxy = org.road_xy
        n = self.n_search_nodes
        step = int(max(4, min(64, _CHUNK_CELLS // max(n, len(org), 1))))
        box_lo, box_hi = self.node_xy.min(axis=0), self.node_xy.max(axis=0)
        box_area = float(np.prod(box_hi - box_lo))
        aug = vid = None
        for s in range(0, len(dests), step):
            chunk = dests[s : s + step]
            cxy = dst.road_xy[chunk]
            lo, hi = cxy.min(axis=0) - limit, cxy.max(axis=0) + limit
            rows = np.flatnonzero(np.all((oxy >= lo) & (oxy <= hi), axis=1))
            if len(rows) == 0:
                continue
            span = np.minimum(hi, box_hi) - np.maximum(lo, box_lo)
            if np.prod(np.maximum(span, 0.0)) > 0.5 * box_area:
                # The box holds most of the network: cutting it out would not pay.
                if aug is None or vid is None:
                    aug, vid = self._augmented(dst)
                d = dijkstra(aug, directed=True, indices=vid[chunk], limit=limit)
                ia, ib = org.node_a[rows], org.node_b[rows]
            else:
                sub, (ia, ib) = self._box_graph(
                    lo, hi, dst, chunk, org.node_a[rows], org.node_b[rows]
                )
                src = np.arange(sub.shape[0] - len(chunk), sub.shape[0])
                d = dijkstra(sub, directed=True, indices=src, limit=limit)
                d = np.concatenate([d, np.full((len(chunk), 1), np.inf)], axis=1)  # "outside"
            va = org.cost_a_m[rows, None] + d[:, ia].T
            vb = org.cost_b_m[rows, None] + d[:, ib].T
            yield chunk, rows, np.minimum(va, vb)

    def _tables_full(
        self, org: Snap, dst: Snap, dests: np.ndarray, limit: float
    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        aug, vid = self._augmented(dst)
        dests = dests[vid[dests] >= 0]
        all_rows = np.arange(len(org))
        step = int(max(4, min(64, _CHUNK_CELLS // max(aug.shape[0], len(org), 1))))
        for s in range(0, len(dests), step):
            chunk = dests[s : s + step]
            d = dijkstra(aug, directed=True, indices=vid[chunk], limit=limit)
            va = org.cost_a_m[:, None] + d[:, org.node_a].T
            vb = org.cost_b_m[:, None] + d[:, org.node_b].T
            yield chunk, all_rows, np.minimum(va, vb)

    def _box_graph(
        self,
        lo: np.ndarray,
        hi: np.ndarray,
        dst: Snap | None,
        chunk: np.ndarray,
        *targets: np.ndarray,
    ) -> tuple[csr_matrix, list[np.ndarray]]:
        """The junction graph inside the box [lo, hi] plus one virtual node per destination of
        ``chunk`` (last, in chunk order; edges out to its chain's ends inside the box), and
        each of ``targets`` (search-graph node ids) as ids in it, those outside the box as the
        graph's size (callers append a column of inf there)."""
        jx, jx_order, jy, sub_id = self._box_index()
        i0 = int(np.searchsorted(jx, lo[0], side="left"))
        i1 = int(np.searchsorted(jx, hi[0], side="right"))
        cand = jx_order[i0:i1]
        nodes = np.sort(cand[(jy[cand] >= lo[1]) & (jy[cand] <= hi[1])])
        k, m = len(nodes), len(nodes) + len(chunk)
        sub_id[nodes] = np.arange(k)
        try:
            indptr, indices, data = self.csr.indptr, self.csr.indices, self.csr.data
            starts = indptr[nodes]
            cnt = indptr[nodes + 1] - starts
            pos = np.repeat(starts - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
            cols = sub_id[indices[pos]]
            keep = cols >= 0
            row_cnt = np.bincount(np.repeat(np.arange(k), cnt)[keep], minlength=k)
            if len(chunk):
                assert dst is not None  # destinations come with their snap
                ends = np.column_stack([sub_id[dst.node_a[chunk]], sub_id[dst.node_b[chunk]]])
                # csgraph reads a stored 0 as "no edge": keep virtual edges strictly positive.
                w = np.maximum(np.column_stack([dst.cost_a_m[chunk], dst.cost_b_m[chunk]]), 1e-9)
            else:
                ends, w = np.zeros((0, 2), np.int64), np.zeros((0, 2))
            inside = ends >= 0
            indptr2 = np.zeros(m + 1, np.int64)
            np.cumsum(np.concatenate([row_cnt, inside.sum(axis=1)]), out=indptr2[1:])
            sub = csr_matrix(
                (
                    np.concatenate([data[pos][keep], w[inside]]),
                    np.concatenate([cols[keep], ends[inside]]),
                    indptr2,
                ),
                shape=(m, m),
            )
            mapped = [np.where(sub_id[t] >= 0, sub_id[t], m) for t in targets]
        finally:
            sub_id[nodes] = -1
        return sub, mapped

    def _box_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Junction x sorted, the order sorting them, junction y, and a scratch id per node."""
        if self._jx is None:
            jxy = self.node_xy[self.junction]
            self._jx_order = np.argsort(jxy[:, 0], kind="stable")
            self._jx = jxy[self._jx_order, 0]
            self._jy = jxy[:, 1].copy()
            self._sub_id = np.full(self.n_search_nodes, -1, np.int64)
        return self._jx, self._jx_order, self._jy, self._sub_id

    def knn(self, org: Snap, dst: Snap, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each origin its k nearest destinations by road: (metres, dest index), (n, k),
        sorted by distance then index, padded with inf / -1.

        Bounded Dijkstra from the destinations, widened until exact: with search radius R, an
        origin whose k-th distance is ≤ R has its true k nearest (any other is beyond R)."""
        return self._knn(self.on_chains(org), self.on_chains(dst), k)

    def _knn(self, org: Snap, dst: Snap, k: int) -> tuple[np.ndarray, np.ndarray]:
        n, m = len(org), len(dst)
        out_d = np.full((n, k), np.inf)
        out_i = np.full((n, k), -1, np.int64)
        if n == 0 or m == 0 or not dst.on_network.any() or not org.on_network.any():
            return out_d, out_i
        pending = np.flatnonzero(org.on_network)
        dest_ok = np.flatnonzero(dst.on_network)
        # Per origin, how many destinations its piece of the network holds: an origin on a
        # piece with fewer than k is done once it has them all (the search no longer widens to
        # the whole network for it: a province of many pieces searched everything for them).
        comp = self.search_component
        in_piece = np.bincount(comp[dst.node_a[dest_ok]], minlength=self.n_components)
        need = np.minimum(k, in_piece[comp[org.node_a]])
        radius = self._search_radius(self._first_radius(org, dst, k))
        while len(pending):
            if np.isfinite(radius):
                # Road ≥ straight line: only destinations within the radius of some pending
                # origin (straight) can be within it by road.
                dd, _ = cKDTree(self._place_xy(org, pending)).query(
                    self._place_xy(dst, dest_ok), k=1, distance_upper_bound=radius
                )
                dests = dest_ok[np.isfinite(dd)]
            else:
                dests = dest_ok
            if np.isfinite(radius) and len(dests) > 1:
                # Chunks of nearby destinations: a bounded search then reaches few origins,
                # and only those rows are merged (the merge over all rows was quadratic).
                cell = np.floor(self._place_xy(dst, dests) / max(radius, 1.0)).astype(np.int64)
                cell -= cell.min(axis=0)
                dests = dests[np.lexsort((dests, cell[:, 1], cell[:, 0]))]
            sub = _take(org, pending)
            cd = np.full((len(pending), k), np.inf)
            ci = np.full((len(pending), k), -1, np.int64)
            for chunk, rows, table in self._tables(sub, dst, dests, radius):
                hit = np.isfinite(table).any(axis=1)
                rows, table = rows[hit], table[hit]
                if len(rows):
                    cd[rows], ci[rows] = _merge_topk(
                        cd[rows], ci[rows], table,
                        np.broadcast_to(chunk, (len(rows), len(chunk))), k, m,
                    )  # fmt: skip
            oi, di, dd = self._same_segment(sub, dst)
            if len(oi):
                # The way along a shared chain may be shorter than the junction way: lower the
                # entry already there, add the others (several per origin possible).
                hit = ci[oi] == di[:, None]
                r, c = np.nonzero(hit)
                np.minimum.at(cd, (oi[r], c), dd[r])
                rest = ~hit.any(axis=1)
                order = np.argsort(oi[rest], kind="stable")
                o2, d2, v2 = oi[rest][order], di[rest][order], dd[rest][order]
                cnt = np.bincount(o2, minlength=len(pending))
                slot = np.arange(len(o2)) - np.repeat(np.cumsum(cnt) - cnt, cnt)
                extra_d = np.full((len(pending), max(int(cnt.max()), 1)), np.inf)
                extra_i = np.full(extra_d.shape, -1, np.int64)
                extra_d[o2, slot], extra_i[o2, slot] = v2, d2
                cd, ci = _merge_topk(cd, ci, extra_d, extra_i, k, m)
            if not np.isfinite(radius):
                done = np.ones(len(pending), bool)
            else:
                want = need[pending]
                col = np.clip(want - 1, 0, cd.shape[1] - 1)
                kth = cd[np.arange(len(pending)), col]
                done = (want == 0) | ((want <= cd.shape[1]) & (kth <= radius))
            kk = cd.shape[1]
            out_d[pending[done], :kk] = cd[done]
            out_i[pending[done], :kk] = ci[done]
            pending = pending[~done]
            grown = radius * _KNN_GROW
            radius = grown if grown < self._diameter_bound() else np.inf
        return out_d, out_i

    def dense(self, org: Snap, dst: Snap, limit: float = np.inf) -> np.ndarray:
        """Full (n_org, n_dst) metres; Dijkstra from the smaller side (the graph is undirected).
        Pairs farther than ``limit`` metres are inf: a bounded search only visits a small ball
        of the graph, which makes service-distance tables cheap on large networks."""
        out = self._dense(self.on_chains(org), self.on_chains(dst), limit)
        if np.isfinite(limit):
            out[out > limit] = np.inf
        return out

    def _dense(self, org: Snap, dst: Snap, limit: float = np.inf) -> np.ndarray:
        n, m = len(org), len(dst)
        if n < m:
            return self._dense(dst, org, limit).T
        out = np.full((n, m), np.inf)
        if n == 0 or m == 0:
            return out
        if 2 * m * self.n_search_nodes <= _ROW_CACHE_CELLS // 4:
            return self._dense_by_rows(org, dst, out, limit)
        for chunk, rows, table in self._tables(org, dst, np.arange(m), limit):
            if np.isfinite(limit):
                out[np.ix_(rows, chunk)] = table
            else:
                out[:, chunk] = table
        oi, di, dd = self._same_segment(org, dst)
        np.minimum.at(out, (oi, di), dd)
        return out

    def _dense_by_rows(
        self, org: Snap, dst: Snap, out: np.ndarray, limit: float = np.inf
    ) -> np.ndarray:
        """Full table from cached junction rows: siting asks for tables over the same few
        places again and again (new sites against units), so each junction's Dijkstra row is
        computed once and kept (bounded by ``_ROW_CACHE_CELLS``)."""
        on = np.flatnonzero(dst.on_network)
        if len(on) and org.on_network.any():
            n = len(org)
            cols = np.concatenate([org.node_a, org.node_b])  # the only columns read
            ra = self._rows(dst.node_a[on], limit, cols)
            rb = self._rows(dst.node_b[on], limit, cols)
            ca, cb = dst.cost_a_m[on, None], dst.cost_b_m[on, None]
            to_a = np.minimum(ca + ra[:, :n], cb + rb[:, :n])
            to_b = np.minimum(ca + ra[:, n:], cb + rb[:, n:])
            t = np.minimum(to_a + org.cost_a_m, to_b + org.cost_b_m).T
            out[:, on] = np.where(org.on_network[:, None], t, np.inf)
        oi, di, dd = self._same_segment(org, dst)
        np.minimum.at(out, (oi, di), dd)
        return out

    def _rows(self, nodes: np.ndarray, limit: float, cols: np.ndarray) -> np.ndarray:
        """Distances (len(nodes), len(cols)) from junctions to junctions: cached full rows, or
        for a finite ``limit`` and rows not cached, a bounded search on the box around them
        (exact up to ``limit``; every cell built on an entry beyond it is beyond it too, and
        dense() cuts those). Bounded rows are unfit for later unbounded tables: not cached."""
        cache = self._row_cache
        need, inv = np.unique(nodes, return_inverse=True)
        missing = np.array([x for x in need.tolist() if x not in cache], np.int64)
        vals = np.empty((len(need), len(cols)))
        if len(missing) and np.isfinite(limit):
            jxy = self.node_xy[self.junction[missing]]
            lo, hi = jxy.min(axis=0) - limit, jxy.max(axis=0) + limit
            sub, (src, at) = self._box_graph(lo, hi, None, missing[:0], missing, cols)
            d = dijkstra(sub, directed=True, indices=src, limit=limit)
            d = np.concatenate([d, np.full((len(missing), 1), np.inf)], axis=1)  # "outside"
            vals[np.searchsorted(need, missing)] = d[:, at]
        elif len(missing):
            if (len(cache) + len(missing)) * self.n_search_nodes > _ROW_CACHE_CELLS:
                cache.clear()
                missing = need  # rows of this call cached before are gone too
            d = dijkstra(self.csr, directed=True, indices=missing)
            for x, row in zip(missing.tolist(), d, strict=True):
                cache[x] = row
        for j, x in enumerate(need.tolist()):
            if x in cache:
                vals[j] = cache[x][cols]
        return vals[inv.reshape(-1)]

    # ------------------------------------------------------------------ helpers
    def _place_xy(self, s: Snap, idx: np.ndarray) -> np.ndarray:
        # Points on the road where the places join; straight distance between them bounds the
        # road distance from below, which is all the radius filter needs.
        return np.asarray(s.road_xy[idx])

    def _first_radius(self, org: Snap, dst: Snap, k: int) -> float:
        ok_o, ok_d = np.flatnonzero(org.on_network), np.flatnonzero(dst.on_network)
        kk = min(k, len(ok_d))
        dd, _ = cKDTree(self._place_xy(dst, ok_d)).query(self._place_xy(org, ok_o), k=kk)
        dd = np.asarray(dd).reshape(len(ok_o), kk)[:, -1]
        # Roads wind: start at a multiple of the straight k-th distance of many places plus
        # their legs; places whose k-th road distance is beyond it are searched again wider.
        legs = np.quantile(org.off_m[ok_o], 0.9) + np.quantile(dst.off_m[ok_d], 0.9)
        return float(_KNN_START[1] * np.quantile(dd, _KNN_START[0]) + legs + self._h)

    def _search_radius(self, radius: float) -> float:
        """The first search radius, or inf (unbounded searches) where bounded ones would cost
        more: beyond any path, or when its disc covers a large share of the network's box (the
        rounds then search most destinations over most of the graph, some more than once).
        Only the work changes: the k nearest are the same either way."""
        if not radius < self._diameter_bound():
            return np.inf
        w, h = np.ptp(self.node_xy, axis=0) if self.n_nodes else (0.0, 0.0)
        return np.inf if np.pi * radius**2 > _KNN_FULL * w * h else radius

    def _diameter_bound(self) -> float:
        return float(self.seg_len.sum()) if len(self.seg_len) else 0.0

    def components(self) -> list[dict[str, Any]]:
        """Connected pieces of the network, largest first: nodes, edges and length km."""
        if self.n_nodes == 0:
            return []
        comp_len = np.bincount(self.component[self.seg_a], self.seg_len, self.n_components)
        comp_edges = np.bincount(self.component[self.seg_a], minlength=self.n_components)
        comp_nodes = np.bincount(self.component, minlength=self.n_components)
        order = np.lexsort((np.arange(self.n_components), -comp_len))
        return [
            {
                "component": int(c),
                "nodes": int(comp_nodes[c]),
                "edges": int(comp_edges[c]),
                "length_km": float(comp_len[c] / 1000.0),
            }
            for c in order
        ]


class _SegGrid:
    """Segments of a road layer in a grid of square cells, to find the segments near places.

    Samples along every segment at most ``h`` apart, at (i + ½)/count of its length, each naming
    its one segment: a segment with a point within d of a place has a sample within d + h/2 of
    it, so the segments named in the (2r + 1)² cells around the place include every segment
    nearer than ``reach(r)``. Built with two sorts (one array of (cell, segment), one start per
    cell), several times cheaper than a k-d tree of the samples."""

    def __init__(
        self,
        ax: np.ndarray,
        ay: np.ndarray,
        dx: np.ndarray,
        dy: np.ndarray,
        length: np.ndarray,
        h: float,
    ) -> None:
        m = len(length)
        self.h = h
        cnt = np.maximum(np.ceil(length / h).astype(np.int64), 1)
        if int(cnt.max()) == 1:
            seg_of = np.arange(m)
            sx, sy = ax + dx * 0.5, ay + dy * 0.5
        else:
            seg_of = np.repeat(np.arange(m), cnt)
            first = np.repeat(np.cumsum(cnt) - cnt, cnt)
            frac = (np.arange(len(seg_of)) - first + 0.5) / np.repeat(cnt, cnt)
            sx, sy = ax[seg_of] + dx[seg_of] * frac, ay[seg_of] + dy[seg_of] * frac
        self.x0, self.y0 = float(sx.min()), float(sy.min())
        area = max(float(sx.max()) - self.x0, h) * max(float(sy.max()) - self.y0, h)
        # Cells of 2h (a place near a road is proven by its 3 × 3 block), larger when the
        # network is sparse in a large extent (at most ~4 cells per sample).
        self.cell = max(2.0 * h, float(np.sqrt(area / (4.0 * len(sx)))))
        cx = np.floor((sx - self.x0) / self.cell).astype(np.int64)
        cy = np.floor((sy - self.y0) / self.cell).astype(np.int64)
        self.nx, self.ny = int(cx.max()) + 1, int(cy.max()) + 1
        bits = max(int(m - 1).bit_length(), 1)
        pair = np.sort(((cx * self.ny + cy) << bits) | seg_of)
        keep = np.ones(len(pair), bool)
        keep[1:] = pair[1:] != pair[:-1]  # a segment once per cell
        pair = pair[keep]
        self.start = np.zeros(self.nx * self.ny + 1, np.int64)
        np.cumsum(np.bincount(pair >> bits, minlength=self.nx * self.ny), out=self.start[1:])
        self.seg = pair & ((1 << bits) - 1)
        self.sample_xy = np.column_stack([sx, sy])  # for the k-d tree of far places
        self.sample_seg = seg_of
        self.tree: cKDTree | None = None

    def reach(self, r: int) -> float:
        """Every segment nearer than this to a place is named within ``r`` cells of it."""
        return r * self.cell * (1 - 1e-9) - self.h / 2

    def near(self, xy: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(place index, segment) of the segments named within ``r`` cells of each place,
        grouped by place, and the count per place (a segment may come more than once)."""
        n = len(xy)
        lim = float(1 << 40)
        cx = np.clip(np.floor((xy[:, 0] - self.x0) / self.cell), -lim, lim).astype(np.int64)
        cy = np.clip(np.floor((xy[:, 1] - self.y0) / self.cell), -lim, lim).astype(np.int64)
        # Cell key = column · ny + row: one block column is one run of keys.
        col = cx[:, None] + np.arange(-r, r + 1)
        ylo = np.maximum(cy - r, 0)[:, None]
        yhi = np.minimum(cy + r, self.ny - 1)[:, None]
        ok = (col >= 0) & (col < self.nx) & (ylo <= yhi)
        base = np.where(ok, col, 0) * self.ny
        lo = np.where(ok, self.start[base + np.where(ok, ylo, 0)], 0).ravel()
        hi = np.where(ok, self.start[base + np.where(ok, yhi, 0) + 1], 0).ravel()
        cnt = hi - lo
        per_pt = cnt.reshape(n, -1).sum(axis=1)
        total = int(per_pt.sum())
        pi = np.repeat(np.arange(n), per_pt)
        pos = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(total)
        return pi, self.seg[pos], per_pt


def _chains(n: int, a: np.ndarray, b: np.ndarray, length: np.ndarray) -> dict[str, np.ndarray]:
    """Chains of degree-2 nodes between junctions (nodes of any other degree).

    Every segment end at a junction is a "copy" (id 2·seg + side, side 0 at node a), so each
    chain is a path from one copy to another; it runs from its lower copy, and a node's position
    along it is the running sum of the segment lengths from there (the same additions, in the
    same order, as a Dijkstra along the path). A closed ring without any junction gets its
    lowest node as one. Chains are numbered by their lowest inner node, then (chains of one
    segment) by their start copy.

    Vectorised over half-edges (segment s walked a→b is 2s, b→a is 2s + 1): all chains are
    walked at once from both ends, one segment per round, which labels every half-edge with the
    end copy its walk came from and the segments before it."""
    m = len(a)
    deg = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    junction = deg != 2
    if m == 0:
        return {
            "seg_chain": np.zeros(0, np.int64), "pos_a": np.zeros(0), "pos_b": np.zeros(0),
            "length": np.zeros(0), "u": np.zeros(0, np.int64), "v": np.zeros(0, np.int64),
            "junction": np.flatnonzero(junction),
        }  # fmt: skip
    walker, step, out1 = _walk_half_edges(n, a, b, junction)
    # A segment's two walks start at its chain's two end copies; the chain runs from the lower.
    w_ab, w_ba = walker[0::2], walker[1::2]
    start, end = np.minimum(w_ab, w_ba), np.maximum(w_ab, w_ba)
    ab_forward = w_ab < w_ba
    rank = np.where(ab_forward, step[0::2], step[1::2])  # segments before it on its chain
    # Chain numbers: by lowest inner node, then by start copy (single-segment chains).
    inner = np.flatnonzero(~junction)
    owner = start[out1[inner] >> 1]  # start copy of each inner node's chain
    lowest = _first_of_groups(owner, inner)  # (start copy, lowest inner node) per chain
    label = np.empty(2 * m, np.int64)
    label[lowest[0][np.argsort(lowest[1])]] = np.arange(len(lowest[0]))
    single = np.flatnonzero(junction[a] & junction[b])
    label[2 * single] = len(lowest[0]) + np.arange(len(single))
    seg_chain = label[start]
    n_chains = len(lowest[0]) + len(single)
    count = np.bincount(seg_chain, minlength=n_chains)
    run, offset = _chain_cumsum(seg_chain, rank, np.maximum(length, 1e-9), count)
    at = offset[seg_chain] + rank
    far = run[at]
    near = np.where(rank > 0, run[at - 1], 0.0)
    ch_start = np.empty(n_chains, np.int64)
    ch_end = np.empty(n_chains, np.int64)
    ch_start[seg_chain], ch_end[seg_chain] = start, end
    ends_ab = np.stack([a, b], axis=1).ravel()  # node of copy 2s + side
    kid = np.cumsum(junction) - 1
    return {
        "seg_chain": seg_chain,
        "pos_a": np.where(ab_forward, near, far),
        "pos_b": np.where(ab_forward, far, near),
        "length": run[offset + count - 1],
        "u": kid[ends_ab[ch_start]],
        "v": kid[ends_ab[ch_end]],
        "junction": np.flatnonzero(junction),
    }


def _walk_half_edges(
    n: int, a: np.ndarray, b: np.ndarray, junction: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each half-edge the end copy its walk came from and the segments before it, and one
    half-edge leaving each node. A closed ring's lowest node is made a junction (in place)."""
    m = len(a)
    # Half-edge 2s walks segment s from a to b, 2s + 1 from b to a.
    h = np.arange(2 * m)
    tail = np.empty(2 * m, np.int64)
    tail[0::2], tail[1::2] = a, b
    head = np.empty(2 * m, np.int64)
    head[0::2], head[1::2] = b, a
    # The two half-edges leaving a degree-2 node: any one, then the other.
    out1 = np.full(n, -1, np.int64)
    out1[tail] = h
    other = out1[tail] != h
    out2 = np.full(n, -1, np.int64)
    out2[tail[other]] = h[other]
    o1 = out1[head]
    succ = np.where(o1 != (h ^ 1), o1, out2[head])
    succ[junction[head]] = -1
    walker = np.full(2 * m, -1, np.int64)
    step = np.zeros(2 * m, np.int64)
    if not _walk(succ, np.flatnonzero(junction[tail]), walker, step):
        walker, step = _walk_by_doubling(succ)
    ring = np.flatnonzero(walker < 0)
    if len(ring):
        # Walks no junction reaches: closed rings. Their lowest node becomes a junction.
        rs = np.unique(ring >> 1)
        nodes = np.unique(np.concatenate([a[rs], b[rs]]))
        la, lb = np.searchsorted(nodes, a[rs]), np.searchsorted(nodes, b[rs])
        g = csr_matrix((np.ones(len(rs)), (la, lb)), shape=(len(nodes), len(nodes)))
        _, lab = connected_components(g, directed=False)
        _, first = np.unique(lab, return_index=True)
        junction[nodes[first]] = True
        succ[ring[junction[head[ring]]]] = -1
        if not _walk(succ, ring[junction[tail[ring]]], walker, step):
            walker, step = _walk_by_doubling(succ)
    return walker, step, out1


def _walk(
    succ: np.ndarray,
    starts: np.ndarray,
    walker: np.ndarray,
    step: np.ndarray,
    max_steps: int = 4096,
) -> bool:
    """Walk every chain from each of its start half-edges at once, one segment per round:
    ``walker[h]`` = the half-edge (= end copy) its walk started from, ``step[h]`` = segments
    before it. False when a chain is longer than ``max_steps`` (rounds cost numpy overhead; the
    caller then uses pointer doubling)."""
    cur, who = starts, starts
    t = 0
    while len(cur):
        if t >= max_steps:
            return False
        walker[cur], step[cur] = who, t
        nxt = succ[cur]
        going = nxt >= 0
        cur, who = nxt[going], who[going]
        t += 1
    return True


def _walk_by_doubling(succ: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same as ``_walk`` by pointer doubling, O(log longest chain) rounds, for very long
    chains: follow every half-edge's reversed walk to its start. Half-edges of closed rings
    keep walker -1."""
    n2 = len(succ)
    h = np.arange(n2)
    # pred of a half-edge: the reverse of the successor of its reverse.
    rs = succ[h ^ 1]
    pred = np.where(rs >= 0, rs ^ 1, -1)
    jump = np.where(pred >= 0, pred, h)
    steps = (pred >= 0).astype(np.int64)
    act = np.flatnonzero(pred >= 0)
    while len(act):
        j = jump[act]
        steps[act] += steps[j]
        jump[act] = jump[j]
        going = pred[jump[act]] >= 0
        if going.all():  # every round finishes some open walk: only rings are left
            break
        act = act[going]
    walker = np.where(pred[jump] < 0, jump, -1)
    return walker, steps


def _first_of_groups(key: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys (int64 ≥ 0, ascending) and the first value of each (the smallest when
    ``val`` is ascending)."""
    if len(key) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = _stable_argsort(key)  # ties keep val's order: val must be ascending
    k = key[order]
    first = np.r_[True, k[1:] != k[:-1]]
    return k[first], val[order[first]]


def _chain_cumsum(
    chain: np.ndarray, rank: np.ndarray, w: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Running sums of the weights ``w`` along every chain (item with ``rank`` r is the r-th of
    its chain), each an exact left-to-right sum like a Dijkstra along the path: the chains are
    rows of padded tables, one per width (the next power of two of the length, so at most twice
    the cells), summed along the rows. Returns the flat padded sums and each chain's offset in
    them."""
    width_bits = np.frexp((count - 1).astype(float))[1]
    order = np.argsort(width_bits, kind="stable")
    widths = np.left_shift(1, width_bits[order])
    offset = np.empty(len(count), np.int64)
    offset[order] = np.cumsum(widths) - widths
    run = np.zeros(int(widths.sum()))
    run[offset[chain] + rank] = w
    bits_sorted = width_bits[order]
    bounds = np.flatnonzero(np.r_[True, bits_sorted[1:] != bits_sorted[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        width = int(widths[lo])
        block = run[offset[order[lo]] : offset[order[lo]] + (hi - lo) * width]
        np.cumsum(block.reshape(-1, width), axis=1, out=block.reshape(-1, width))
    return run, offset


def _stable_argsort(key: np.ndarray) -> np.ndarray:
    """np.argsort(key, kind="stable") for int64 keys ≥ 0, by sorting key·2^b + position as one
    int64 when it fits (a plain sort is several times faster than a stable argsort here)."""
    n = len(key)
    bits = max(int(n - 1).bit_length(), 1)
    if n == 0 or int(key.max()) >= 1 << (62 - bits):
        return np.argsort(key, kind="stable")
    packed = np.sort((key << bits) | np.arange(n, dtype=np.int64))
    return packed & ((1 << bits) - 1)


def _take(s: Snap, idx: np.ndarray) -> Snap:
    return Snap(*(getattr(s, f)[idx] for f in Snap.__dataclass_fields__))


def _merge_topk(
    cd: np.ndarray, ci: np.ndarray, nd: np.ndarray, ni: np.ndarray, k: int, m: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the k smallest of two candidate sets per row, ties by dest index."""
    d = np.concatenate([cd, nd], axis=1)
    i = np.concatenate([ci, ni], axis=1)
    # One exact int64 key: distance in mm, then index, so ties break by index.
    with np.errstate(invalid="ignore"):
        key = np.where(np.isfinite(d), np.rint(d * 1000.0) * (m + 1) + np.maximum(i, 0), np.inf)
    kk = min(k, d.shape[1])
    if d.shape[1] > kk:
        part = np.argpartition(key, kk - 1, axis=1)[:, :kk]
        key = np.take_along_axis(key, part, 1)
        d, i = np.take_along_axis(d, part, 1), np.take_along_axis(i, part, 1)
    order = np.argsort(key, axis=1, kind="stable")
    d, i = np.take_along_axis(d, order, 1), np.take_along_axis(i, order, 1)
    i = np.where(np.isfinite(d), i, -1)
    return d, i


def build_road_graph(
    roads: gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray,
    *,
    node_tol_m: float = 0.5,
    join_ends: bool = True,
) -> RoadGraph:
    """Road graph from a GeoDataFrame/GeoSeries/array of (Multi)LineStrings in a metric CRS.

    Lines connect where they share a vertex; with ``join_ends`` also where a line *ends* on
    another line's segment (a T-junction digitised without a vertex on the through road). Two
    lines that merely cross stay apart (bridges, overpasses). ``node_tol_m`` is a technical
    tolerance for digitising noise, not a planning rule."""
    geoms = roads.geometry.values if hasattr(roads, "geometry") else np.asarray(roads)
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    tid = shapely.get_type_id(geoms)
    # LineString and LinearRing; MultiLineStrings are exploded (get_parts is slow)
    parts = geoms[(tid == 1) | (tid == 2)]
    if (tid == 5).any():
        parts = np.concatenate([parts, shapely.get_parts(geoms[tid == 5])])
    coords, part_of = shapely.get_coordinates(parts, return_index=True)
    if len(coords) < 2:
        return RoadGraph(np.zeros((0, 2)), np.zeros(0, np.int64), np.zeros(0, np.int64))
    # Merge vertices on a tolerance grid: one int64 key per cell; nodes in key order, each at
    # the first vertex of its cell (np.unique(return_inverse) by hand, with a stable sort).
    g = coords - coords.min(axis=0)
    g /= node_tol_m
    g = np.floor(g, out=g).astype(np.int64)
    key = g[:, 0] * (int(g[:, 1].max()) + 1) + g[:, 1]
    order = _stable_argsort(key)
    ks = key[order]
    start = np.r_[True, ks[1:] != ks[:-1]]
    inv = np.empty(len(key), np.int64)
    inv[order] = np.cumsum(start) - 1
    node_xy = coords[order[start]]
    same_line = part_of[1:] == part_of[:-1]
    a, b = inv[:-1][same_line], inv[1:][same_line]
    keep = a != b
    a, b = a[keep], b[keep]
    if join_ends and len(a):
        is_end = np.ones(len(coords), bool)
        is_end[1:-1] = (part_of[1:-1] != part_of[:-2]) | (part_of[1:-1] != part_of[2:])
        end_node = np.zeros(len(node_xy), bool)
        end_node[inv[is_end]] = True
        ends = np.flatnonzero(end_node)
        # Only a dead end (one edge) can be a T-junction that lacks its vertex.
        deg = np.bincount(np.concatenate([a, b]), minlength=len(node_xy))
        a, b = _join_ends(node_xy, a, b, ends[deg[ends] == 1], node_tol_m)
    # Duplicate edges (digitised twice): once, in a canonical direction, sorted by end nodes.
    nn = len(node_xy)
    ekey = np.sort(np.minimum(a, b) * nn + np.maximum(a, b))
    first = np.ones(len(ekey), bool)
    first[1:] = ekey[1:] != ekey[:-1]
    ekey = ekey[first]
    return RoadGraph(node_xy, ekey // nn, ekey % nn)


def _join_ends(
    node_xy: np.ndarray, a: np.ndarray, b: np.ndarray, ends: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray]:
    """Split segments at line ends that lie on their interior (within ``tol``)."""
    if len(ends) == 0:
        return a, b
    # Candidate segments from a grid of segment samples: every segment within tol of an end.
    ax, ay = node_xy[a, 0], node_xy[a, 1]
    dx, dy = node_xy[b, 0] - ax, node_xy[b, 1] - ay
    length = np.hypot(dx, dy)
    grid = _SegGrid(ax, ay, dx, dy, length, max(float(np.median(length)), 1e-6))
    r = 1
    while grid.reach(r) <= tol:
        r *= 2
    pi, si, _ = grid.near(node_xy[ends], r)
    pair = np.sort(pi * len(a) + si)
    pair = pair[np.r_[True, pair[1:] != pair[:-1]]]  # a segment named in two cells once
    pi, si = pair // len(a), pair % len(a)
    pa, pb, p = node_xy[a[si]], node_xy[b[si]], node_xy[ends[pi]]
    ab = pb - pa
    tt = np.clip(
        np.einsum("ij,ij->i", p - pa, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300), 0, 1
    )
    close = np.hypot(*(p - pa - ab * tt[:, None]).T) <= tol
    pi, si = pi[close], si[close]
    node = ends[pi]
    inner = (a[si] != node) & (b[si] != node)
    node, si = node[inner], si[inner]
    if len(node) == 0:
        return a, b
    p, pa, pb = node_xy[node], node_xy[a[si]], node_xy[b[si]]
    ab = pb - pa
    t = np.einsum("ij,ij->i", p - pa, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300)
    ok = (t > 0) & (t < 1)
    node, si, t = node[ok], si[ok], t[ok]
    if len(node) == 0:
        return a, b
    # Each split segment becomes a chain through its joined ends, ordered along it.
    order = np.lexsort((node, t, si))
    node, si = node[order], si[order]
    first = np.r_[True, si[1:] != si[:-1]]
    last = np.r_[si[1:] != si[:-1], True]
    split = np.zeros(len(a), bool)
    split[si] = True
    # Pieces: a → first end, end → next end along the same segment, last end → b.
    a2 = np.concatenate([a[~split], a[si[first]], node[:-1][~last[:-1]], node[last]])
    b2 = np.concatenate([b[~split], node[first], node[1:][~last[:-1]], b[si[last]]])
    keep = a2 != b2
    return a2[keep], b2[keep]
