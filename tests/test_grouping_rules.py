"""Every group rule, checked on a result from first principles (not with the engine's helpers).

``rule_violations`` is shared by the other grouping tests and by the sample-county test, which
runs it on the written plan.gpkg.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from planning.grouping import GROUP_COLUMNS, MODES, PATTERNS, GroupChoices, GroupingSummary
from planning.rules import GroupingParams

LEVEL_RANK = {"primary": 0, "junior": 1, "senior": 2}
QUALITY_RANK = {"weak": 0, "ordinary": 1, "core": 2}


def make_schools(rows: list[dict], crs: int = 32649) -> gpd.GeoDataFrame:
    """Canonical schools from short dicts: id, x, y (km) and whatever differs from the defaults."""
    full = []
    for k, r in enumerate(rows):
        full.append(
            {
                "school_id": r["id"],
                "name": r.get("name", f"学校{r['id']}"),
                "level": r.get("level", "primary"),
                "classes": r.get("classes", 6),
                "students": r.get("students", 200),
                "capacity": r.get("capacity", 270),
                "teachers": r.get("teachers", 15.0),
                "quality": r.get("quality", "ordinary"),
                "location": r.get("location", "rural"),
                "status": r.get("status", "existing"),
                "ownership": r.get("ownership", "public"),
                "school_type": r.get("school_type", "regular"),
                "combined": "",
                "src_row": k + 1,
                "geometry": Point(r["x"] * 1000.0, r["y"] * 1000.0),
            }
        )
    return gpd.GeoDataFrame(full, geometry="geometry", crs=crs)


def core(id_, x, y, **kw):
    return {"id": id_, "x": x, "y": y, "quality": "core", "classes": 24, "location": "urban", **kw}


def member(id_, x, y, **kw):
    return {"id": id_, "x": x, "y": y, "quality": "weak", "location": "rural", **kw}


def may_lead(s: pd.Series, p: GroupingParams) -> tuple[bool, bool]:
    """(may lead anything, may lead rural schools only) from the rules, independently written."""
    if s["status"] != "existing":
        return False, False
    if s["ownership"] == "private" and not (p.private_may_join and p.private_may_lead):
        return False, False
    big = s["classes"] >= p.core_min_classes
    if big and QUALITY_RANK[s["quality"]] >= QUALITY_RANK[p.core_min_quality]:
        return True, False
    central = (
        p.central_may_lead and s["school_type"] == "central" and s["quality"] != "weak" and big
    )
    return False, bool(central)


def is_member_type(s: pd.Series, p: GroupingParams) -> bool:
    rural = s["location"] in ("rural", "town") or s["school_type"] == "teaching_point"
    return bool(
        (p.member_weak and s["quality"] == "weak")
        or (p.member_rural and rural)
        or (p.member_new and s["status"] == "planned")
        or (p.member_relocation and s["school_type"] == "relocation_site")
    )


def rule_violations(
    groups: pd.DataFrame,
    schools: pd.DataFrame,
    params: GroupingParams,
    choices: GroupChoices | None = None,
    summary: GroupingSummary | None = None,
    costs=None,
) -> list[str]:
    """Every rule of POLICY §1 and of the planner's choices that the output breaks.

    ``schools`` must carry group_id, group_role, group_reason (the plan's schools layer or the
    input joined with ``school_groups``). ``costs``: the distance model the plan used (straight
    line when None).
    """
    choices = choices or GroupChoices()
    bad: list[str] = []
    if list(c for c in groups.columns if c != "geometry") != GROUP_COLUMNS:
        bad.append(f"groups columns {list(groups.columns)}")
    key = {(str(a), b): i for i, a, b in zip(schools.index, schools["school_id"], schools["level"])}
    locked = {(m, lv): (c, lv) for c, m, lv in choices.locked_pairs}
    excluded = set()
    for sid, lv in choices.excluded:
        for (a, b), _ in key.items():
            if a == sid and (lv in ("", "*") or lv == b):
                excluded.add((a, b))
    forced = set(choices.forced_cores)
    seen: dict = {}
    role_in_groups: dict = {}
    for g in groups.itertuples(index=False):
        gid = g.group_id
        if g.pattern not in PATTERNS or g.mode not in MODES:
            bad.append(f"{gid}: unknown pattern/mode {g.pattern}/{g.mode}")
        ck = (str(g.core_id), g.level)
        if ck not in key:
            bad.append(f"{gid}: core {ck} not in schools")
            continue
        cs = schools.loc[key[ck]]
        core_xy = np.array([cs.geometry.x, cs.geometry.y])
        m_ids = [m for m in str(g.member_ids).split(",") if m]
        if len(m_ids) != g.n_members or g.n_members < 1:
            bad.append(f"{gid}: n_members {g.n_members} vs {m_ids}")
        lead_all, lead_rural = may_lead(cs, params)
        if not (lead_all or lead_rural or ck in forced or any(v == ck for v in locked.values())):
            bad.append(f"{gid}: core {ck} may not lead")
        if ck in excluded:
            bad.append(f"{gid}: core {ck} is excluded")
        cap = (
            params.central_max_members
            if (
                lead_rural
                and not lead_all
                and ck not in forced
                and not any(v == ck for v in locked.values())
            )
            else params.max_members
        )
        if g.n_members > cap:
            bad.append(f"{gid}: {g.n_members} members > {cap}")
        n_locked = 0
        n_private = 0
        dists = []
        teachers = [cs["teachers"]]
        member_rows = []
        for m in m_ids:
            # the member's row: group level, else a lower level when cross-level groups are on
            cands = [
                (m, lv)
                for lv in LEVEL_RANK
                if (m, lv) in key
                and schools.at[key[(m, lv)], "group_id"] == gid
                and schools.at[key[(m, lv)], "group_role"] == "member"
            ]
            if len(cands) != 1:
                bad.append(f"{gid}: member {m} has {len(cands)} member rows in the group")
                continue
            mk = cands[0]
            ms = schools.loc[key[mk]]
            member_rows.append(ms)
            if mk in seen:
                bad.append(f"{mk} in two groups")
            seen[mk] = gid
            if mk[0] == ck[0]:
                bad.append(f"{gid}: a school leads itself")
            ok_level = mk[1] == ck[1] or (
                params.cross_level and LEVEL_RANK[ck[1]] > LEVEL_RANK[mk[1]]
            )
            if not ok_level:
                bad.append(f"{gid}: member {mk} level vs core {ck}")
            if mk in excluded:
                bad.append(f"{gid}: member {mk} is excluded")
            if costs is None:
                d = float(np.hypot(ms.geometry.x - core_xy[0], ms.geometry.y - core_xy[1])) / 1000
            else:
                m_xy = np.array([[ms.geometry.x, ms.geometry.y]])
                d = float(np.asarray(costs.dense_km(m_xy, core_xy[None, :]))[0, 0])
            dists.append(d)
            is_locked = locked.get(mk) == ck
            n_locked += is_locked
            if not is_locked:
                if d > params.radius_km + 1e-6:
                    bad.append(f"{gid}: member {mk} at {d:.2f} km > radius")
                if not is_member_type(ms, params):
                    bad.append(f"{gid}: {mk} is not a member type")
                if lead_rural and not lead_all and ck not in forced:
                    rural = (
                        ms["location"] in ("rural", "town") or ms["school_type"] == "teaching_point"
                    )
                    if not rural:
                        bad.append(f"{gid}: central core leads non-rural {mk}")
                l_all, l_rural = may_lead(ms, params)
                if l_all or l_rural or mk in forced:
                    bad.append(f"{gid}: member {mk} could lead: it must be a core candidate")
            if ms["ownership"] == "private":
                n_private += 1
                if not params.private_may_join:
                    bad.append(f"{gid}: private member {mk} not allowed")
            # a school still to be built has no teachers yet (001 §二(四)2: the core sends them)
            planned_none = ms["status"] == "planned" and pd.isna(ms["teachers"])
            teachers.append(0.0 if planned_none else ms["teachers"])
        if n_private > params.private_max_members:
            bad.append(f"{gid}: {n_private} private members")
        if g.n_members < params.min_members and n_locked == 0:
            bad.append(f"{gid}: {g.n_members} members < min {params.min_members}")
        if dists and abs(max(dists) - g.max_distance_km) > 0.01:
            bad.append(f"{gid}: max_distance_km {g.max_distance_km} vs {max(dists):.3f}")
        if ck in seen:
            bad.append(f"core {ck} is also a member")
        role_in_groups[ck] = ("core", gid)
        # Teacher exchange ≥ 10 % of the group's teachers, rounded up; NaN when any is unknown.
        t = np.array(teachers, float)
        if np.isfinite(t).all():
            want = math.ceil(t.sum() * params.teacher_exchange_pct / 100 - 1e-9)
            if g.teacher_exchange_min != want:
                bad.append(f"{gid}: teacher_exchange_min {g.teacher_exchange_min} != {want}")
        elif not pd.isna(g.teacher_exchange_min):
            bad.append(f"{gid}: exchange given although a teacher count is unknown")
        # 000 §七(二): ≥ 300,000 per weak school a group leads (every mode unless the rules
        # restrict it to entrusted groups), ≥ 100,000 per township school.
        fund = 0.0
        weak_ok = params.funding_weak_any_mode or g.mode == "entrusted"
        for ms in member_rows:
            rural = ms["location"] in ("rural", "town") or ms["school_type"] == "teaching_point"
            if weak_ok and ms["quality"] == "weak":
                fund += params.funding_entrusted_weak_yuan
            elif rural:
                fund += params.funding_township_yuan
        if abs(fund - g.funding_min_yuan) > 0.5:
            bad.append(f"{gid}: funding {g.funding_min_yuan} != {fund}")
        if g.mode == "entrusted" and max(dists, default=0) > params.tight_max_km + 1e-6:
            bad.append(f"{gid}: entrusted beyond {params.tight_max_km} km")
        # geometry: one line from the core to each member
        geom = getattr(g, "geometry", None)
        if geom is not None and len(geom.geoms) != g.n_members:
            bad.append(f"{gid}: {len(geom.geoms)} lines for {g.n_members} members")
    for mk, ck in locked.items():
        if seen.get(mk) is None or role_in_groups.get(ck, ("", ""))[1] != seen.get(mk):
            bad.append(f"locked pair {ck}→{mk} not kept")
    # The schools' columns agree with the groups and every school has a reason.
    for (sid, lv), i in key.items():
        role = schools.at[i, "group_role"]
        gid = schools.at[i, "group_id"]
        want = "member" if (sid, lv) in seen else "core" if (sid, lv) in role_in_groups else "none"
        if role != want:
            bad.append(f"{(sid, lv)}: role {role}, groups say {want}")
        if want != "none" and gid != (seen.get((sid, lv)) or role_in_groups[(sid, lv)][1]):
            bad.append(f"{(sid, lv)}: group_id {gid}")
        if want == "none" and gid not in ("", None) and not pd.isna(gid):
            bad.append(f"{(sid, lv)}: group_id {gid} but role none")
        if not str(schools.at[i, "group_reason"]).strip():
            bad.append(f"{(sid, lv)}: no reason")
        if (sid, lv) in excluded and role != "none":
            bad.append(f"{(sid, lv)}: excluded but in a group")
    if summary is not None:
        lock_rows = set(locked) | set(locked.values())
        # 000 §六 coverage: schools in a group ÷ the open schools of the levels that group
        # (rules' coverage_basis "open"), or ÷ the schools eligible to group ("eligible").
        eligible = in_group = 0
        elig_levels: set = set()
        open_rows = []
        for (sid, lv), i in key.items():
            s = schools.loc[i]
            blocked = s["ownership"] == "private" and not params.private_may_join
            la, lr = may_lead(s, params)
            elig = (
                (sid, lv) not in excluded
                and not blocked
                and (la or lr or is_member_type(s, params))
            )
            elig = elig or (sid, lv) in forced or (sid, lv) in lock_rows
            if elig:
                elig_levels.add(lv)
            open_rows.append((lv, elig, schools.at[i, "group_role"] != "none"))
        for lv, elig, grouped in open_rows:
            counted = elig if params.coverage_basis == "eligible" else lv in elig_levels
            eligible += counted
            in_group += counted and grouped
        cov = round(100.0 * in_group / eligible, 1) if eligible else 0.0
        if abs(cov - summary.coverage_pct) > 0.051:
            bad.append(f"coverage {summary.coverage_pct} != {cov}")
        if summary.count != len(groups):
            bad.append("summary count")
    return bad


def joined(schools: gpd.GeoDataFrame, result) -> gpd.GeoDataFrame:
    out = schools.copy()
    for col in result.school_groups.columns:
        out[col] = result.school_groups[col]
    return out
