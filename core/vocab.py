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
    T("primary", "小学", "primary", ("小学", "完全小学", "小学部", "p")),
    T("junior", "初中", "junior", ("初中", "初级中学", "初中部", "j")),
    T("senior", "高中", "senior", ("高中", "普通高中", "高级中学", "高中部", "s")),
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
    T("core", "优质", "high", ("优质", "核心", "示范", "优质校", "high")),
    T("ordinary", "一般", "ordinary", ("一般", "普通", "中等", "normal")),
    T("weak", "薄弱", "weak", ("薄弱", "薄弱校", "较弱")),
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
    T("teaching_point", "教学点", "teaching point", ("教学点", "村小", "小学教学点")),
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

# ---- engines' reason and rule codes: each engine's block below, in the order of the pipeline ----

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

# ---- end of the table ----
# Every module-level Vocab above, by name: declaring a vocabulary is enough to register it.
VOCABS: dict[str, Vocab] = {v.name: v for v in list(globals().values()) if isinstance(v, Vocab)}


def label(vocab: str, code: object, lang: str = "zh", **fields: object) -> str:
    return VOCABS[vocab].label(code, lang, **fields)


def yes_no(value: object, lang: str = "zh") -> str:
    return YES_NO.label("yes" if bool(value) else "no", lang)
