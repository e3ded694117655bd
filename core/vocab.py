"""One vocabulary for every coded value: code -> Chinese label, English label, accepted spellings.

Every table, map, legend, widget, sheet and report takes its words from here, and the column
recognisers (geo.columns) take their accepted input spellings from here, so a code is spelled once.
A label may hold ``str.format`` fields (``{radius_km:g}``) that ``Vocab.label`` fills.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    code: str
    zh: str
    en: str
    spellings: tuple[str, ...] = ()  # accepted on input, besides the code itself


def normal_key(text: object) -> str:
    """A spelling compared without case, spaces, underscores, hyphens or brackets."""
    return re.sub(r"[\s_\-()（）]", "", str(text)).lower()


@dataclass(frozen=True)
class Vocab:
    name: str
    terms: tuple[Term, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.terms)

    def term(self, code: str) -> Term:
        for t in self.terms:
            if t.code == code:
                return t
        raise KeyError(f"{self.name}: unknown code {code!r}")

    def label(self, code: object, lang: str = "zh", **fields: object) -> str:
        """The label of ``code`` in ``lang``; an unknown code is shown as itself."""
        for t in self.terms:
            if t.code == code:
                text = t.en if lang == "en" else t.zh
                return text.format(**fields) if fields else text
        return "" if code is None else str(code)

    def labels(self, lang: str = "zh") -> dict[str, str]:
        return {t.code: (t.en if lang == "en" else t.zh) for t in self.terms}

    def spellings(self) -> dict[str, tuple[str, ...]]:
        """code -> accepted input spellings (the code first), for the column recognisers."""
        return {t.code: (t.code, *t.spellings) for t in self.terms}

    def parse(self, value: object) -> str | None:
        """The code a cell means, or None when it is not recognised."""
        if value is None or (isinstance(value, float) and value != value):
            return None
        k = normal_key(value)
        for t in self.terms:
            if k in (normal_key(s) for s in (t.code, *t.spellings)):
                return t.code
        return None


def _v(name: str, *terms: Term) -> Vocab:
    return Vocab(name, terms)


T = Term

LEVEL = _v(
    "level",
    T(
        "primary",
        "小学",
        "primary",
        (
            "小学",
            "完全小学",
            "小学部",
            "p",
            "elementary",
            "elementary school",
            "primary school",
            "ELEM",
            "ES",
        ),
    ),
    T(
        "junior",
        "初中",
        "junior",
        (
            "初中",
            "初级中学",
            "初中部",
            "j",
            "middle",
            "middle school",
            "junior high",
            "junior high school",
            "MS",
            "JHS",
        ),
    ),
    T(
        "senior",
        "高中",
        "senior",
        (
            "高中",
            "普通高中",
            "高级中学",
            "高中部",
            "s",
            "high",
            "high school",
            "senior high",
            "senior high school",
            "HS",
            "SHS",
        ),
    ),
)
# Combined school forms, read as several level rows (geo.checks.expand_levels).
COMBINED = _v(
    "combined",
    T("nine_year", "九年一贯制", "nine-year", ("九年一贯制", "九年一贯制学校", "九年制")),
    T("complete_middle", "完全中学", "complete middle", ("完全中学", "完中")),
    T(
        "twelve_year",
        "十二年一贯制",
        "twelve-year",
        ("十二年一贯制", "十二年一贯制学校", "十二年制"),
    ),
)
COMBINED_LEVELS: dict[str, tuple[str, ...]] = {
    "primary": ("primary",),
    "junior": ("junior",),
    "senior": ("senior",),
    "nine_year": ("primary", "junior"),
    "complete_middle": ("junior", "senior"),
    "twelve_year": ("primary", "junior", "senior"),
}
LEVELS: tuple[str, ...] = LEVEL.codes

QUALITY = _v(
    "quality",
    T(
        "core",
        "优质",
        "high",
        (
            "优质",
            "核心",
            "示范",
            "优质校",
            "核心校",
            "示范校",
            "示范学校",
            "重点",
            "重点校",
            "high",
        ),
    ),
    T("ordinary", "一般", "ordinary", ("一般", "普通", "中等", "normal")),
    T("weak", "薄弱", "weak", ("薄弱", "薄弱校", "薄弱学校", "较弱", "low")),
)
LOCATION = _v(
    "location",
    T("urban", "城区", "urban", ("城区", "城市", "县城", "城镇")),
    T("town", "镇区", "town", ("镇区", "乡镇", "镇")),
    T("rural", "乡村", "rural", ("乡村", "农村", "村")),
)
STATUS = _v(
    "status",
    T("existing", "现有", "existing", ("现有", "已建", "在用", "保留")),
    T("planned", "规划", "planned", ("待建", "规划", "新建", "拟建", "在建")),
)
OWNERSHIP = _v(
    "ownership",
    T("public", "公办", "public", ("公办", "公立")),
    T("private", "民办", "private", ("民办", "私立")),
)
SCHOOL_TYPE = _v(
    "school_type",
    T("regular", "普通学校", "regular", ("普通", "完小", "完全小学", "中学", "学校", "特殊教育")),
    T(
        "central",
        "乡镇中心校",
        "central",
        ("中心校", "中心小学", "乡镇中心校", "乡镇中心小学"),
    ),
    T(
        "teaching_point",
        "教学点",
        "teaching point",
        ("教学点", "村小", "村小学", "小学教学点", "村级小学"),
    ),
    T(
        "relocation_site",
        "安置点学校",
        "relocation site",
        ("安置点学校", "安置点", "易地扶贫搬迁安置点学校"),
    ),
)
UNIT_KIND = _v(
    "unit_kind",
    T("village", "村", "village", ("村", "行政村", "自然村")),
    T("community", "社区", "community", ("社区", "居委会")),
    T("new_community", "新建小区", "new community", ("新建小区", "新社区", "新建社区", "小区")),
    T(
        "relocation_site",
        "安置点",
        "relocation site",
        ("安置点", "易地扶贫搬迁安置点", "易地搬迁安置点"),
    ),
    # Demand points made by the tool, not read from data: a uniform grid, or population raster cells.
    T("grid", "均匀格网", "uniform grid"),
    T("cell", "人口格网", "population cell"),
)
# A candidate site's level: "" = any level.
ANY_LEVEL = Term("", "不限", "any", ("any", "全部", "不限", "任意"))
CANDIDATE_LEVEL = Vocab("candidate_level", (*LEVEL.terms, *COMBINED.terms, ANY_LEVEL))
LAYOUT_STATUS = _v(
    "layout_status",
    T("permanent", "永久性保留", "permanent"),
    T("transitional", "过渡性保留", "transitional"),
    T("to_merge", "撤并", "to merge"),
    T("new", "新建", "new"),
)
GROUP_ROLE = _v(
    "group_role",
    T("core", "核心校", "core"),
    T("member", "成员校", "member"),
    T("none", "未入集团", "not grouped"),
)
PATTERN = _v(
    "pattern",
    T("core_weak", "核心校+薄弱学校", "core + weak school"),
    T("core_rural", "核心校+乡村学校", "core + rural school"),
    T("core_new", "核心校+新建学校", "core + new school"),
    T("urban_township_central", "城区优质学校+乡镇中心校", "urban quality + township central"),
    T("township_central_rural", "乡镇中心校+农村学校", "township central + rural schools"),
    T("core_relocation", "城区优质学校+安置点学校", "urban quality + relocation-site school"),
    T("other", "其他共建", "other pairing"),
)
MODE = _v(
    "mode",
    T("entrusted", "托管型", "entrusted (tight)"),
    T("alliance", "联盟型", "alliance"),
    T("cooperative", "协作型", "cooperative"),
    T("bundled", "捆绑型", "bundled"),
)
# A unit's standing at a level after zoning (demand layer, status_<level>).
DEMAND_STATUS = _v(
    "demand_status",
    T("assigned", "已安排学位", "placed"),
    T("too_far", "超出最远就学距离", "too far"),
    T("unserved", "无学位", "no place"),
)
# 000 §七(八) 优质学校不得把集团内成员学校变成生源基地: a village whose nearest school is a group
# member is never zoned to that group's core (demand column feeder_<level>).
FEEDER = _v(
    "feeder",
    T(
        "at_member",
        "最近学校为集团成员校,就近入该校",
        "nearest school is a group member: placed there",
    ),
    T(
        "member_full",
        "最近学校为集团成员校但学位不足,不划入其核心校",
        "nearest school is a group member without room: not zoned to its core",
    ),
)
# Why an open school has no zone of its own (catchments zone_reason_code, schools zone_reason).
ZONE_REASON = _v(
    "zone_reason",
    T(
        "nearer_other",
        "周边村/社区均离其他学校更近",
        "every village is nearer another school",
    ),
    T(
        "too_small",
        "学位少于就近村/社区的学生数(村/社区整体安置,由其他有学位的学校接收)",
        "fewer places than the pupils of any village nearest to it (villages are placed "
        "whole, at other schools with room)",
    ),
    T(
        "others_cheaper",
        "就近村/社区由其他有学位的学校以更短总距离安置",
        "the villages nearest to it are placed at other schools with room at less total distance",
    ),
    T("no_capacity", "无学位", "no places"),
    T("no_pupils", "无该学段学生", "no pupils of its level"),
)
SEVERITY = _v(
    "severity",
    T("error", "错误", "error"),
    T("warning", "警告", "warning"),
    T("info", "提示", "info"),
)
BATCH_STATUS = _v(
    "batch_status",
    T("done", "完成", "done"),
    T("skipped", "跳过(已完成)", "skipped (done before)"),
    T("failed", "失败", "failed"),
)
YES_NO = _v("yes_no", T("yes", "是", "yes"), T("no", "否", "no"))

# Road classes (OpenStreetMap highway=*, also accepted in a bureau's road layer). Motorways are
# left out when roads are read from OSM: no pupil walks or cycles on them.
ROAD_CLASS = _v(
    "road_class",
    T("trunk", "国道/快速路", "trunk road", ("trunk_link", "国道", "快速路")),
    T("primary", "主干道/省道", "primary road", ("primary_link", "省道", "主干路", "主干道")),
    T("secondary", "次干道/县道", "secondary road", ("secondary_link", "县道", "次干路", "次干道")),
    T("tertiary", "支路/乡道", "tertiary road", ("tertiary_link", "乡道", "支路")),
    T("unclassified", "村道", "minor road", ("村道",)),
    T("residential", "街巷", "residential street", ("living_street", "街道", "巷")),
    T("service", "内部道路", "service road"),
    T("track", "机耕道", "track", ("机耕路",)),
    T("path", "步道", "path", ("footway", "pedestrian", "steps", "cycleway", "bridleway", "小路")),
)

# Where the township boundaries of a plan's maps come from (geo.townships, the ``source`` column
# of the townships layer): a layer the bureau gave, or approximated from the villages' points.
TOWNSHIP_SOURCE = _v(
    "township_source",
    T("given", "乡镇界", "Township boundaries"),
    T("derived", "乡镇界(按村点推算)", "Township boundaries (approx., from villages)"),
)

# ---- engines' reason and rule codes: each engine's block below, in the order of the pipeline ----

# -- education groups (planning.grouping): why a school is or is not in a group. The code is the
# school's group_reason_code; a "wording variant" shares its school's code but reads differently.
GROUP_REASON = _v(
    "group_reason",
    T(
        "core",
        "核心校:带领{n_members}所成员校({pattern},{mode})",
        "core: leads {n_members} member(s) ({pattern}, {mode})",
    ),
    T(
        "member",
        "成员校:由{core_name}带领,相距{distance_km:.1f} km",
        "member: led by {core_name} ({core_id}), {distance_km:.1f} km away",
    ),
    T(
        "member_locked",
        "成员校:由{core_name}带领,相距{distance_km:.1f} km(规划人员锁定)",
        "member: led by {core_name} ({core_id}), {distance_km:.1f} km away (locked by the planner)",
    ),
    T("excluded", "规划人员将其排除在集团之外", "excluded from grouping by the planner"),
    T(
        "private_not_allowed",
        "民办学校:规则不允许民办学校加入集团",
        "private school: the rules do not let private schools join",
    ),
    T(
        "core_no_member_in_reach",
        "可作核心校,但{radius_km:g} km内没有可带领的成员校",
        "may lead, but no member school of a compatible level within {radius_km:g} km",
    ),
    # wording variant of core_no_member_in_reach: a township central school leads rural schools only
    T(
        "core_no_rural_member_in_reach",
        "可作核心校,但{radius_km:g} km内没有可带领的农村学校",
        "may lead, but no rural member school of a compatible level within {radius_km:g} km",
    ),
    T(
        "core_below_min",
        "可作核心校,但凑不足{min_members}所成员校(附近成员校由其他核心校带领更优)",
        "may lead, but cannot reach {min_members} members (nearby members are better led by "
        "other cores)",
    ),
    T(
        "core_members_taken",
        "可作核心校,但半径内的成员校由其他核心校带领总距离更短",
        "may lead, but the members within reach are led by other cores at less total distance",
    ),
    T(
        "no_core_in_reach",
        "{radius_km:g} km内没有核心校",
        "no eligible core within {radius_km:g} km",
    ),
    T(
        "central_rural_only",
        "{radius_km:g} km内同学段的核心校只有乡镇中心校,只带领农村学校",
        "the only cores of its level within {radius_km:g} km are township central schools, "
        "which lead rural schools only",
    ),
    T(
        "level_mismatch",
        "学段不符:{radius_km:g} km内只有其他学段的核心校",
        "level mismatch: every core within {radius_km:g} km is of another level",
    ),
    T(
        "cores_below_min",
        "{radius_km:g} km内的核心校凑不足{min_members}所成员校,未组建集团",
        "cores within {radius_km:g} km cannot reach {min_members} members, so they form no group",
    ),
    T(
        "private_quota_full",
        "{radius_km:g} km内核心校的民办成员校名额(每集团{private_max_members}所)已满",
        "every core within {radius_km:g} km already has its {private_max_members} private member(s)",
    ),
    T(
        "cores_full",
        "{radius_km:g} km内的核心校均已满员(每集团最多{max_members}所成员校)",
        "every core within {radius_km:g} km is full (at most {max_members} members)",
    ),
    T(
        "not_eligible",
        "不属于成员校类型(薄弱/乡村乡镇/新建/安置点),也不具备核心校条件({quality_zh},{classes}班)",
        "not a member type (weak, rural/township, new, relocation site) and does not qualify "
        "to lead (quality {quality}, {classes} classes)",
    ),
)
# Why coverage stays below the target (groups summary note_zh / note_en).
GROUP_NOTE = _v(
    "group_note",
    T(
        "too_few_places",
        "覆盖率未达目标:{n_cores}所可作核心校的学校全部满员也只能覆盖{bound_pct}%;"
        "可增加核心校、提高每集团成员校上限或允许乡镇中心校带领农村学校",
        "below target: even with all {n_cores} possible cores full, coverage is at most "
        "{bound_pct} %; add cores, raise the members per group, or let township central "
        "schools lead rural schools",
    ),
    T(
        "radius",
        "覆盖率未达目标:主要受集团辐射半径限制(见未入集团学校的理由)",
        "below target: mostly limited by the group radius (see the reasons of schools left out)",
    ),
)
# The seed 003 pairing form (附件1) names levels in full in English and marks planned schools.
PAIRING_LEVEL = _v(
    "pairing_level",
    T("primary", "小学", "primary"),
    T("junior", "初中", "junior middle"),
    T("senior", "高中", "senior high"),
)
PAIRING_MARK = _v("pairing_mark", T("planned", "(待建)", " (to be built)"))
# 共建形式 of seed 003 附件1 (rules.groups.pairing_form_<pattern> choose one per group pattern).
PAIRING_FORM = _v(
    "pairing_form",
    T("group", "集团校共建", "group-school pairing"),
    T("district", "区内共建", "in-district pairing"),
    T("county", "县内共建", "in-county pairing"),
    T("city", "市区共建", "city–district pairing"),
)

# ---- new schools (planning.newschools.explain): BEGIN ----
# Threshold that fired (or did not), per requirement reason code; then an adjustment suffix.
NEW_SCHOOL_RULE = _v(
    "new_school_rule",
    T(
        "primary_below",
        "常住人口 {pop:,.0f} 人 < {min_pop:,} 人,不设小学",
        "population {pop:,.0f} < {min_pop:,}: no primary school",
    ),
    T(
        "primary_small",
        "常住人口 {pop:,.0f} 人,在 {min_pop:,}–{max_pop:,} 人之间,设 1 所 {lo}–{hi} 班完全小学",
        "population {pop:,.0f} in {min_pop:,}–{max_pop:,}: one complete primary of {lo}–{hi} classes",
    ),
    T(
        "primary_large",
        "常住人口 {pop:,.0f} 人 > {max_pop:,} 人,每 {per:,} 人设 1 所 {lo}–{hi} 班小学,应设 {n} 所",
        "population {pop:,.0f} > {max_pop:,}: one primary of {lo}–{hi} classes per {per:,} people, "
        "{n} required",
    ),
    T(
        "junior_below",
        "常住人口 {pop:,.0f} 人 < {min_pop:,} 人,不单设初中",
        "population {pop:,.0f} < {min_pop:,}: no junior school of its own",
    ),
    T(
        "junior",
        "常住人口 {pop:,.0f} 人,每 {per:,} 人设 1 所 {lo} 班以上初中,应设 {n} 所",
        "population {pop:,.0f}: one junior of ≥ {lo} classes per {per:,} people, {n} required",
    ),
    T("senior_none", "无高中学龄人口", "no senior-age children"),
    T(
        "senior",
        "高中学龄人口 {children:,.0f} 人,新建高中规模不超过 {max_students:,} 人({hi} 班),应设 {n} 所",
        "{children:,.0f} senior-age children; a new senior high school holds at most "
        "{max_students:,} ({hi} classes), {n} required",
    ),
    # Suffixes: one complete primary kept at the top of its range; more schools for the classes.
    T(
        "over_top",
        ";学龄儿童需 {need} 班,超出上限 {hi} 班,约 {over:,.0f} 人需附近学校容纳",
        "; the children need {need} classes, over {hi}: about {over:,.0f} left to nearby schools",
    ),
    T(
        "raised",
        ";学龄儿童需 {need} 班,超出每校上限 {hi} 班,增至 {schools} 所",
        "; the children need {need} classes, over {hi} per school: {schools} schools",
    ),
)
# Where a new school was put.
NEW_SCHOOL_SITE = _v(
    "new_school_site",
    T("centre", "人口加权中心(无可用候选地块)", "population-weighted centre (no candidate site)"),
    T(
        "centre_shared",
        "人口加权中心(同址,需细化选址)",
        "population-weighted centre (shared; site to be refined)",
    ),
    T("candidate", "候选地块 {name}", "candidate site {name}"),
    T("demand_point", "人口分布点(候选地块不足)", "demand point (too few candidate sites)"),
    T(
        "proposed",
        "建议选址 {name}(按人口分布提出,可调整)",
        "proposed site {name} (from the population; move it as needed)",
    ),
)
# The same codes in a word or two: the new schools' ``site`` column in tables, maps and QGIS.
NEW_SCHOOL_SITE_KIND = _v(
    "new_school_site_kind",
    T("centre", "人口加权中心", "weighted centre"),
    T("centre_shared", "人口加权中心(同址)", "weighted centre (shared)"),
    T("candidate", "候选地块", "candidate site"),
    T("demand_point", "人口分布点", "demand point"),
    T("proposed", "建议选址", "proposed site"),
)
# Where a candidate site came from: the project's data, or proposed from the population
# (planning.proposals) when the project has no candidate sites.
CANDIDATE_ORIGIN = _v(
    "candidate_origin",
    T("data", "资料", "from the data"),
    T("proposed", "建议选址", "proposed"),
)
# Why an area with a gap got no new school (requirements table, note column).
NEW_SCHOOL_NOTE = _v(
    "new_school_note",
    T(
        "below_min",
        "缺口 {gap:,.0f} 人,不足规则最小学校({min_classes} 班)的 {share:.0%},建议附近学校扩容",
        "gap of {gap:,.0f} is under {share:.0%} of the rule's smallest school "
        "({min_classes} classes): expand a nearby school",
    ),
    T("below_threshold", "人口未达设校标准,不新建", "population below the threshold"),
)
# A new school's rule text: supply, then what new schools nearby give, then the school built.
NEW_SCHOOL_REASON = _v(
    "new_school_reason",
    T(
        "supply",
        "{level}:{area} {threshold};学龄儿童 {children:,.0f} 人,"
        "{service:g} km 内现有及规划学校可提供 {supplied:,.0f} 个学位",
        "{level}: {area} {threshold}; {children:,.0f} children, existing and "
        "planned schools within {service:g} km give {supplied:,.0f} places",
    ),
    T(
        "absorbed",
        ",邻近新建学校可再提供 {absorbed:,.0f} 个",
        ", new schools nearby {absorbed:,.0f} more",
    ),
    T(
        "build",
        ",缺口 {gap:,.0f} 人 → 新建 {n} 所,本校 {classes} 班({capacity:,} 个学位);选址:{site}",
        "; gap {gap:,.0f} → {n} new, this one {classes} classes ({capacity:,} places); site: {site}",
    ),
)
# Layout status of an existing school, "build before closing" (layout_reason column).
LAYOUT_REASON = _v(
    "layout_reason",
    T("planned", "规划学校,保留", "planned school, kept"),
    T(
        "to_merge",
        "在校生 {students} 人 ≤ {merge_max} 人;{km:.1f} km 内{level}{target}有空余学位 {room} 个,"
        "可全部接收,先建后撤",
        "{students} pupils ≤ {merge_max}; {target} {km:.1f} km away has {room} free places for "
        "all of them (build before closing)",
    ),
    T(
        "to_merge_once_built",
        "在校生 {students} 人 ≤ {merge_max} 人;{km:.1f} km 内{level}{target}有空余学位 {room} 个,"
        "可全部接收,先建后撤(待其建成后撤并)",
        "{students} pupils ≤ {merge_max}; {target} {km:.1f} km away has {room} free places for "
        "all of them once it is built (build before closing)",
    ),
    T(
        "no_receiver",
        "在校生 {students} 人,{within_km:g} km 内无学位足够的较大同学段学校,先建后撤,过渡性保留",
        "{students} pupils; no larger school of the level with room within {within_km:g} km, "
        "so kept (build before closing)",
    ),
    T(
        "transitional",
        "在校生 {students} 人 ≤ {transitional_max} 人,过渡性保留",
        "{students} pupils ≤ {transitional_max}: transitional",
    ),
    T("permanent", "在校生 {students} 人,永久性保留", "{students} pupils: permanent"),
    T(
        "receiving",
        "在校生 {students} 人,永久性保留,接收撤并学校学生",
        "{students} pupils: permanent, receives pupils of merged schools",
    ),
)
# ---- new schools: END ----

# -- projection and phased schedule (planning.projection, planning.schedule) --
TERM = _v(
    "term",
    T("present", "现状", "present"),
    T("near", "近期", "near term"),
    T("long", "远期", "long term"),
    T("beyond", "规划期外", "beyond the horizon"),
)
SCHEDULE_ACTION = _v(
    "schedule_action",
    T("build", "新建", "build"),
    T("close", "撤并", "close / merge"),
    T("transitional", "过渡性保留", "keep as transitional"),
)
SCHEDULE_REASON = _v(
    "schedule_reason",
    T(
        "needed",
        "{year}年学区学龄儿童达到{threshold:,.0f}人,需建成",
        "needed from {year}: the zone reaches {threshold:,.0f} children",
    ),
    T(
        "not_needed",
        "至{year}年学区学龄儿童未达{threshold:,.0f}人,暂缓建设、预留用地",
        "the zone stays below {threshold:,.0f} children up to {year}: site reserved, not built yet",
    ),
    T(
        "places_ready",
        "{year}年起{receiver}学位足够接收,先建后撤",
        "from {year} {receiver} has places for every pupil (build before closing)",
    ),
    T(
        "no_places",
        "至{year}年{receiver}学位不足,暂不撤并",
        "{receiver} lacks places up to {year}: not closed yet",
    ),
    T(
        "small_by_horizon",
        "{year}年学区学龄儿童约{children:,.0f}人,低于{threshold:,.0f}人,建议过渡性保留",
        "about {children:,.0f} children by {year}, below {threshold:,.0f}: keep as transitional",
    ),
)
CLASS_CHANGE = _v(
    "class_change",
    T("expand", "扩班", "expand"),
    T("keep", "维持", "keep"),
    T("shrink", "减班", "shrink"),
)

# ---- rule choices (the rules form's drop-downs; the codes are planning.rules' choices) ----
RULE_CHOICE = _v(
    "rule_choice",
    T("unit", "人口单元", "population unit"),
    T("town", "乡镇", "township"),
    T("county", "全县", "whole county"),
    T("round", "四舍五入", "round"),
    T("ceil", "向上取整", "round up"),
    T("floor", "向下取整", "round down"),
    T("nearest", "就近", "nearest school"),
    T("capacity", "按学位容量", "within capacity"),
    T("auto", "自动(有路网用路网)", "automatic (roads when available)"),
    T("straight", "直线距离", "straight line"),
    T("road", "道路距离", "along roads"),
    T("open", "开办学校", "open schools"),
    T("eligible", "可入集团学校", "schools eligible to group"),
)

# ---- headline figures (planning.figures) ----
# The words of every figure (zh, en); ``{level}`` is the level's name. "now" figures are 现状,
# the others 规划后.
FIGURE = _v(
    "figure",
    Term("groups", "教育集团数", "Education groups"),
    Term("coverage_pct", "集团化覆盖率", "Group coverage"),
    Term(
        "coverage_basis_open",
        "{in_groups} / {base} 所开办学校",
        "{in_groups} / {base} open schools",
    ),
    Term(
        "coverage_basis_eligible",
        "{in_groups} / {base} 所可入集团学校",
        "{in_groups} / {base} schools eligible to group",
    ),
    Term("coverage_target_pct", "覆盖率目标", "Coverage target"),
    Term("members_not_placed", "未入集团的成员校", "Member schools not placed"),
    Term("funding_min_yuan", "集团最低年度经费", "Minimum yearly group funding"),
    Term("new_schools", "{level}新建学校", "{level}: new schools"),
    Term("new_classes", "{level}新建班级", "{level}: new classes"),
    Term("placed", "{level}已安排学位学生(规划后)", "{level}: pupils placed (after)"),
    Term(
        "too_far",
        "{level}超出最远就学距离(规划后)",
        "{level}: beyond the distance limit (after)",
    ),
    Term("no_place", "{level}距离内但学位不足(规划后)", "{level}: within reach, no place (after)"),
    Term("mean_km", "{level}平均就学距离(规划后)", "{level}: mean distance (after)"),
    Term("p95_km", "{level}95%学生就学距离(规划后)", "{level}: 95th percentile distance (after)"),
    Term("max_km", "{level}最远就学距离(规划后)", "{level}: farthest distance (after)"),
    Term(
        "off_road",
        "{level}距离含无路段估算的学生(规划后)",
        "{level}: pupils whose distance has an off-road leg (after)",
    ),
    Term("schools_now", "{level}学校数(现状)", "{level}: schools (present)"),
    Term("students_now", "{level}在校学生数(现状)", "{level}: pupils (present)"),
    Term("capacity_now", "{level}学位数(现状)", "{level}: places (present)"),
    Term("utilization_now", "{level}学位利用率(现状)", "{level}: utilisation (present)"),
    Term(
        "over_capacity_level_now",
        "{level}超出学位学校(现状)",
        "{level}: schools over capacity (present)",
    ),
    Term(
        "oversized_level_now",
        "{level}大班额学校(现状)",
        "{level}: schools with oversized classes (present)",
    ),
    Term("open_schools", "{level}开办学校(规划后)", "{level}: open schools (after)"),
    Term("new_places", "{level}新增学位", "{level}: new places"),
    Term("transitional", "{level}过渡保留学校(规划后)", "{level}: transitional schools (after)"),
    Term("to_merge", "{level}撤并学校(规划后)", "{level}: schools to merge (after)"),
    Term("zoned", "{level}学区学生数(规划后)", "{level}: zoned pupils (after)"),
    Term("utilization_after", "{level}学位利用率(规划后)", "{level}: utilisation (after)"),
    Term(
        "over_capacity_level_after",
        "{level}超出学位学校(规划后)",
        "{level}: schools over capacity (after)",
    ),
    Term("over_capacity_now", "超出学位学校(现状)", "Schools over capacity (present)"),
    Term("oversized_now", "大班额学校(现状)", "Schools with oversized classes (present)"),
    Term("over_max_now", "高中超规模学校(现状)", "Senior schools over the size limit (present)"),
    Term(
        "junior_short_now",
        "初中不足的乡镇(现状)",
        "Townships short of junior classes (present)",
    ),
    Term("over_capacity_after", "超出学位学校(规划后)", "Schools over capacity (after)"),
    Term("no_zone", "无学区的开办学校(规划后)", "Open schools without a zone (after)"),
    Term("oversized_after", "大班额学校(规划后)", "Schools with oversized classes (after)"),
)

# ---- the output CRS keywords (planning.rules OutputParams.crs; any CRS code is accepted too) ----
OUTPUT_CRS = _v(
    "output_crs",
    T(
        "auto",
        "中国境内数据用 CGCS2000 3度带高斯-克吕格投影,其他用计算坐标系",
        "CGCS2000 3-degree Gauss–Krüger zone for data in China, else the project CRS",
    ),
    T("project", "计算坐标系(项目坐标系或 WGS 84 UTM)", "the metric CRS the plan is computed in"),
    T("CGCS2000", "CGCS2000 经纬度 (EPSG:4490)", "CGCS2000 longitude/latitude (EPSG:4490)"),
    T(
        "CGCS2000-GK",
        "CGCS2000 3度带,中央经线表示,无带号 (EPSG:4534–4554)",
        "CGCS2000 3-degree GK zone 'CM nnnE', no zone prefix (EPSG:4534–4554)",
    ),
    T(
        "CGCS2000-GK-zone",
        "CGCS2000 3度带,横坐标带带号 (EPSG:4513–4533)",
        "CGCS2000 3-degree GK zone with the zone number in the easting (EPSG:4513–4533)",
    ),
    T("WGS84", "WGS 84 经纬度 (EPSG:4326)", "WGS 84 longitude/latitude (EPSG:4326)"),
)

# ---- end of the table ----
# Every module-level Vocab above, by name: declaring a vocabulary is enough to register it.
VOCABS: dict[str, Vocab] = {v.name: v for v in list(globals().values()) if isinstance(v, Vocab)}


def label(vocab: str, code: object, lang: str = "zh", **fields: object) -> str:
    return VOCABS[vocab].label(code, lang, **fields)


def yes_no(value: object, lang: str = "zh") -> str:
    return YES_NO.label("yes" if bool(value) else "no", lang)
