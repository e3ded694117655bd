"""Recognised column names and values, Chinese and English, for every input layer.

A county's spreadsheet rarely uses our names: these tables let common Chinese and English
headings work without a mapping in project.toml.
"""

from __future__ import annotations

import re

# Canonical column -> accepted headings (compared case-insensitively, spaces and _ ignored).
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "schools": {
        "school_id": ("school_id", "id", "编号", "学校代码", "学校编号", "学校标识码", "code"),
        "name": ("name", "名称", "学校名称", "学校", "校名", "school_name"),
        "level": ("level", "学段", "办学层次", "学校类别", "层次"),
        "classes": ("classes", "班级数", "班数", "班级", "教学班数"),
        "students": ("students", "在校生数", "在校生", "学生数", "在校学生数", "学生人数"),
        "capacity": ("capacity", "学位数", "学位", "容量", "核定学位"),
        "teachers": ("teachers", "教师数", "教职工数", "专任教师数", "教师"),
        "quality": ("quality", "办学质量", "质量", "学校质量", "办学水平"),
        "location": ("location", "城乡类别", "城乡", "所在地", "城乡分类"),
        "status": ("status", "状态", "建设状态", "办学状态"),
        "ownership": ("ownership", "办学性质", "公办民办", "性质", "public", "public_private"),
        "school_type": ("school_type", "学校类型", "类型", "type"),
    },
    "population": {
        "unit_id": ("unit_id", "id", "编号", "代码", "村代码", "区划代码", "code"),
        "name": ("name", "名称", "村名", "社区名称", "村社区"),
        "population": ("population", "人口", "人口数", "常住人口", "总人口", "户籍人口", "pop"),
        "kind": ("kind", "类型", "单元类型", "type"),
        "town": ("town", "乡镇", "乡镇街道", "所属乡镇", "街道", "township"),
        "students_primary": (
            "students_primary",
            "小学学龄人数",
            "小学适龄儿童",
            "小学学龄人口",
            "小学生数",
        ),
        "students_junior": (
            "students_junior",
            "初中学龄人数",
            "初中适龄少年",
            "初中学龄人口",
            "初中生数",
        ),
        "students_senior": ("students_senior", "高中学龄人数", "高中学龄人口", "高中生数"),
    },
    "boundary": {
        "name": ("name", "名称", "行政区名称", "县名"),
        "code": ("code", "行政区划代码", "区划代码", "代码"),
    },
    "roads": {
        "road_class": ("road_class", "道路等级", "等级", "class", "fclass", "highway"),
        "speed_kmh": ("speed_kmh", "设计速度", "速度", "限速", "speed", "maxspeed"),
    },
    "candidates": {
        "candidate_id": ("candidate_id", "id", "编号", "地块编号", "code"),
        "name": ("name", "名称", "地块名称"),
        "level": ("level", "适用学段", "学段"),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "schools": ("school_id", "name", "level", "classes", "students"),
    "population": ("unit_id", "population"),
    "boundary": (),
    "roads": (),
    "candidates": (),
}

LON_NAMES = ("经度", "lon", "lng", "long", "longitude", "x", "x坐标", "东经")
LAT_NAMES = ("纬度", "lat", "latitude", "y", "y坐标", "北纬")

# Value vocabularies: canonical value -> accepted spellings.
LEVEL_VALUES: dict[str, tuple[str, ...]] = {
    "primary": ("primary", "小学", "完全小学", "小学部", "p"),
    "junior": ("junior", "初中", "初级中学", "初中部", "j"),
    "senior": ("senior", "高中", "普通高中", "高级中学", "高中部", "s"),
    "nine_year": ("nine_year", "九年一贯制", "九年一贯制学校", "九年制"),
    "complete_middle": ("complete_middle", "完全中学", "完中"),
    "twelve_year": ("twelve_year", "十二年一贯制", "十二年一贯制学校", "十二年制"),
}
COMBINED_LEVELS: dict[str, tuple[str, ...]] = {
    "primary": ("primary",),
    "junior": ("junior",),
    "senior": ("senior",),
    "nine_year": ("primary", "junior"),
    "complete_middle": ("junior", "senior"),
    "twelve_year": ("primary", "junior", "senior"),
}
QUALITY_VALUES = {
    "core": ("core", "优质", "核心", "示范", "优质校", "high"),
    "ordinary": ("ordinary", "一般", "普通", "中等", "normal"),
    "weak": ("weak", "薄弱", "薄弱校", "较弱"),
}
LOCATION_VALUES = {
    "urban": ("urban", "城区", "城市", "县城", "城镇"),
    "town": ("town", "镇区", "乡镇", "镇"),
    "rural": ("rural", "乡村", "农村", "村"),
}
STATUS_VALUES = {
    "existing": ("existing", "现有", "已建", "在用", "保留"),
    "planned": ("planned", "待建", "规划", "新建", "拟建", "在建"),
}
OWNERSHIP_VALUES = {
    "public": ("public", "公办", "公立"),
    "private": ("private", "民办", "私立"),
}
SCHOOL_TYPE_VALUES = {
    "regular": ("regular", "普通", "完小", "完全小学", "中学", "学校", "特殊教育"),
    "central": ("central", "中心校", "中心小学", "乡镇中心校", "乡镇中心小学"),
    "teaching_point": ("teaching_point", "教学点", "村小", "小学教学点"),
    "relocation_site": ("relocation_site", "安置点学校", "安置点", "易地扶贫搬迁安置点学校"),
}
UNIT_KIND_VALUES = {
    "village": ("village", "村", "行政村", "自然村"),
    "community": ("community", "社区", "居委会"),
    "new_community": ("new_community", "新建小区", "新社区", "新建社区", "小区"),
    "relocation_site": ("relocation_site", "安置点", "易地扶贫搬迁安置点", "易地搬迁安置点"),
}
CANDIDATE_LEVEL_VALUES = {**LEVEL_VALUES, "": ("", "any", "全部", "不限", "任意")}

VALUE_TABLES = {
    ("schools", "level"): LEVEL_VALUES,
    ("schools", "quality"): QUALITY_VALUES,
    ("schools", "location"): LOCATION_VALUES,
    ("schools", "status"): STATUS_VALUES,
    ("schools", "ownership"): OWNERSHIP_VALUES,
    ("schools", "school_type"): SCHOOL_TYPE_VALUES,
    ("population", "kind"): UNIT_KIND_VALUES,
    ("candidates", "level"): CANDIDATE_LEVEL_VALUES,
}
DEFAULT_VALUES = {
    ("schools", "quality"): "ordinary",
    ("schools", "location"): "rural",
    ("schools", "status"): "existing",
    ("schools", "ownership"): "public",
    ("schools", "school_type"): "regular",
    ("population", "kind"): "village",
    ("population", "town"): "",
    ("candidates", "level"): "",
}


def _key(text: str) -> str:
    return re.sub(r"[\s_\-()（）]", "", str(text)).lower()


def match_column(kind: str, canonical: str, headings: list[str]) -> str | None:
    """The heading in ``headings`` that means ``canonical``, by the alias table, or None."""
    aliases = [_key(a) for a in COLUMNS[kind].get(canonical, (canonical,))]
    keyed = {_key(h): h for h in headings}
    for alias in aliases:
        if alias in keyed:
            return keyed[alias]
    return None


def match_lonlat(headings: list[str]) -> tuple[str | None, str | None]:
    keyed = {_key(h): h for h in headings}
    lon = next((keyed[_key(a)] for a in LON_NAMES if _key(a) in keyed), None)
    lat = next((keyed[_key(a)] for a in LAT_NAMES if _key(a) in keyed), None)
    return lon, lat


def normalise_value(table: dict[str, tuple[str, ...]], value) -> str | None:
    """Canonical value for a cell, or None when it is not recognised."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    k = _key(value)
    for canonical, spellings in table.items():
        if k in (_key(s) for s in spellings):
            return canonical
    return None


def accepted(table: dict[str, tuple[str, ...]]) -> str:
    """'primary (小学), junior (初中), …' for a fix message."""
    parts = []
    for canonical, spellings in table.items():
        zh = next((s for s in spellings if re.search(r"[\u4e00-\u9fff]", s)), "")
        parts.append(f"{canonical} ({zh})" if zh else canonical or '""')
    return ", ".join(parts)
