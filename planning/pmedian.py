"""Numeric p-median: choose p sites among candidates minimising weighted distance to demand.

Greedy addition followed by vertex substitution (Teitz–Bart) with best-improvement swaps. Each
swap is priced for every (open, closed) pair at once with the gain/loss/extra decomposition of
Resende & Werneck (2004, "A fast swap-based local search procedure for location problems"):

    saving(r out, c in) = gain(c) - loss(r) + extra(r, c)

and after a swap only the demand rows whose two nearest open sites changed are re-priced, so a
swap costs O(affected rows x candidates) instead of O(p x n x m). Deterministic: ties go to the
lowest column index. Plain numpy arrays in, so tests can feed it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PMedianSolution:
    open: np.ndarray  # sorted column indices of the chosen sites (length p)
    assign: np.ndarray  # per demand row, the chosen column it is nearest to
    objective: float  # sum of weight x cost (inf when a weighted row reaches no chosen site)
    swaps: int  # improving substitutions made after the greedy start
    greedy_objective: float


def objective(cost: np.ndarray, weights: np.ndarray, open_cols) -> float:
    """Sum over demand rows of weight x cost to the nearest of ``open_cols``."""
    cols = np.asarray(open_cols, dtype=np.int64)
    if cost.shape[0] == 0:
        return 0.0
    if cols.size == 0:
        return float("inf") if np.any(weights > 0) else 0.0
    best = np.asarray(cost, float)[:, cols].min(axis=1)
    w = np.asarray(weights, float)
    mask = w > 0
    return float(np.sum(w[mask] * best[mask]))


def _prepare(cost: np.ndarray) -> tuple[np.ndarray, float]:
    """Finite cost matrix: unreachable pairs cost ten times the largest finite cost.

    A finite stand-in keeps the incremental sums exact enough (no inf - inf), and ten times the
    largest distance makes reaching a demand row worth more than any distance saving elsewhere
    for that row.
    """
    d = np.asarray(cost, dtype=np.float64)
    finite = np.isfinite(d)
    top = float(d.max(initial=0.0, where=finite))
    penalty = 10.0 * (top + 1.0)
    if not finite.all():
        d = np.where(finite, d, penalty)  # a copy: the caller's matrix is never written
    return d, penalty


def _greedy(d: np.ndarray, w: np.ndarray, p: int) -> list[int]:
    n, m = d.shape
    first = int(np.argmin(w @ d))
    chosen = [first]
    is_open = np.zeros(m, dtype=bool)
    is_open[first] = True
    d1 = d[:, first].copy()
    # gain[c]: saving if c were added now; updated only for rows whose nearest site changes.
    gain = w @ np.maximum(d1[:, None] - d, 0.0)
    for _ in range(1, p):
        g = np.where(is_open, -np.inf, gain)
        f = int(np.argmax(g))
        chosen.append(f)
        is_open[f] = True
        col = d[:, f]
        rows = np.nonzero(col < d1)[0]
        if rows.size:
            old, new = d1[rows], col[rows]
            # Row i's saving towards site c shrinks by old_i - max(d_ic, new_i) where d_ic < old_i;
            # those entries are few, so sum them sparsely.
            sub = d[rows]
            k, c = np.divmod(np.flatnonzero(sub < old[:, None]), m)
            drop = old[k] - np.maximum(sub[k, c], new[k])
            gain -= np.bincount(c, weights=w[rows][k] * drop, minlength=m)
            d1[rows] = new
    return chosen


class _SwapState:
    """Two nearest open sites per row and the gain/loss/extra tables of the swap search."""

    def __init__(self, d: np.ndarray, w: np.ndarray, open_cols: list[int], far: float):
        self.d, self.w, self.far = d, w, far
        n, m = d.shape
        self.is_open = np.zeros(m, dtype=bool)
        self.is_open[open_cols] = True
        self.phi1 = np.zeros(n, dtype=np.int64)
        self.phi2 = np.full(n, -1, dtype=np.int64)
        self.d1 = np.zeros(n)
        self.d2 = np.full(n, far)
        self.rebuild()

    def _nearest_two(self, rows: np.ndarray) -> None:
        cols = np.nonzero(self.is_open)[0]  # ascending, so a stable sort breaks ties by index
        sub = self.d[np.ix_(rows, cols)]
        order = np.argsort(sub, axis=1, kind="stable")
        self.phi1[rows] = cols[order[:, 0]]
        self.d1[rows] = np.take_along_axis(sub, order[:, :1], axis=1)[:, 0]
        if cols.size > 1:
            self.phi2[rows] = cols[order[:, 1]]
            self.d2[rows] = np.take_along_axis(sub, order[:, 1:2], axis=1)[:, 0]
        else:
            self.phi2[rows] = -1
            self.d2[rows] = self.far

    def _apply(self, rows: np.ndarray, sign: float) -> None:
        """Add (sign=+1) or remove (sign=-1) the contributions of ``rows`` to the tables.

        Only sites closer than a row's second-nearest open site contribute to gain or extra, a
        small share of the matrix once p > 2, so the sums run over those entries only.
        """
        if rows.size == 0:
            return
        m = self.loss.size
        w, d1, d2, phi1 = self.w[rows], self.d1[rows], self.d2[rows], self.phi1[rows]
        self.loss += sign * np.bincount(phi1, weights=w * (d2 - d1), minlength=m)
        sub = self.d[rows]
        # flatnonzero + divmod is about twice as fast as a 2-D nonzero here.
        ii, cc = np.divmod(np.flatnonzero(sub < d2[:, None]), m)
        dic = sub[ii, cc]
        wi, d1i = w[ii], d1[ii]
        self.gain += sign * np.bincount(cc, weights=wi * np.maximum(d1i - dic, 0.0), minlength=m)
        ext = wi * (d2[ii] - np.maximum(dic, d1i))
        # extra is (site x site) but only the rows of the few sites these rows are nearest to
        # change: sum on a compact (k x m) table, then add those k rows.
        owners, slot = np.unique(phi1[ii], return_inverse=True)
        flat = np.bincount(slot * m + cc, weights=ext, minlength=owners.size * m)
        self.extra[owners] += sign * flat.reshape(owners.size, m)

    def rebuild(self) -> None:
        n, m = self.d.shape
        rows = np.arange(n)
        self._nearest_two(rows)
        self.gain = np.zeros(m)
        self.loss = np.zeros(m)
        self.extra = np.zeros((m, m))
        self._apply(rows, 1.0)

    def best_swap(self) -> tuple[float, int, int]:
        opened = np.nonzero(self.is_open)[0]
        closed = np.nonzero(~self.is_open)[0]
        if closed.size == 0 or opened.size == 0:
            return 0.0, -1, -1
        saving = (
            self.gain[closed][None, :]
            - self.loss[opened][:, None]
            + self.extra[np.ix_(opened, closed)]
        )
        k = int(np.argmax(saving))  # first maximum: lowest (out, in) indices on ties
        i, j = divmod(k, closed.size)
        return float(saving[i, j]), int(opened[i]), int(closed[j])

    def swap(self, out: int, into: int) -> None:
        affected = np.nonzero(
            (self.phi1 == out) | (self.phi2 == out) | (self.d[:, into] < self.d2)
        )[0]
        self._apply(affected, -1.0)
        self.is_open[out] = False
        self.is_open[into] = True
        self._nearest_two(affected)
        self._apply(affected, 1.0)

    def total(self) -> float:
        return float(self.w @ self.d1)


def solve_pmedian(
    cost: np.ndarray,
    weights: np.ndarray,
    p: int,
    *,
    max_swaps: int = 10_000,
) -> PMedianSolution:
    """Choose ``p`` columns of ``cost`` (n demand x m sites) minimising sum w_i min_j cost_ij.

    ``cost`` may hold inf for unreachable pairs; ``weights`` must be >= 0. When p >= m every site
    is chosen. The result is a swap-local optimum: no single exchange of a chosen site for an
    unchosen one lowers the objective.
    """
    cost = np.asarray(cost)
    w = np.asarray(weights, dtype=np.float64)
    if cost.ndim != 2 or w.shape != (cost.shape[0],):
        raise ValueError(f"cost must be (n, m) and weights (n,), got {cost.shape} and {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and >= 0")
    n, m = cost.shape
    p = int(min(max(p, 0), m))
    if p == 0:
        return PMedianSolution(
            np.zeros(0, np.int64), np.full(n, -1, np.int64), objective(cost, w, []), 0, np.nan
        )
    if p == m or n == 0:
        cols = np.arange(p, dtype=np.int64)
        assign = np.argmin(np.asarray(cost, float)[:, cols], axis=1) if n else np.zeros(0, np.int64)
        obj = objective(cost, w, cols)
        return PMedianSolution(cols, cols[assign].astype(np.int64), obj, 0, obj)

    d, penalty = _prepare(cost)
    chosen = _greedy(d, w, p)
    state = _SwapState(d, w, chosen, far=2.0 * penalty)
    greedy_obj = objective(cost, w, chosen)
    swaps = 0
    current = state.total()
    while swaps < max_swaps:
        saving, out, into = state.best_swap()
        if saving <= 1e-9 * max(1.0, abs(current)):
            break
        state.swap(out, into)
        after = state.total()  # exact: recomputed from each row's nearest distance
        if after >= current - 1e-12 * max(1.0, abs(current)):
            # Rounding drift in the incremental tables priced a swap that does not pay:
            # undo it, rebuild the tables from scratch and look again.
            state.swap(into, out)
            state.rebuild()
            saving, out, into = state.best_swap()
            if saving <= 1e-9 * max(1.0, abs(current)):
                break
            state.swap(out, into)
            after = state.total()
            if after >= current:
                state.swap(into, out)
                break
        current = after
        swaps += 1
    cols = np.nonzero(state.is_open)[0].astype(np.int64)
    return PMedianSolution(cols, state.phi1.copy(), objective(cost, w, cols), swaps, greedy_obj)


__all__ = ["PMedianSolution", "solve_pmedian", "objective"]
