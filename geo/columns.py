"""Recognised column names and values, Chinese and English, for every input layer.

A county's spreadsheet rarely uses our names: these tables let common Chinese and English
headings work without a mapping in project.toml.
"""

from __future__ import annotations

import re

from core import vocab


def current_school_headings(level: str) -> tuple[str, ...]:
    """Headings of the units' ``current_school_<level>`` column: the school id each unit is
    zoned to now (现学校_小学, 现就读小学, 小学现学校, 现划片小学 …; the level's word from the
    vocabulary)."""
    zh = vocab.LEVEL.label(level, "zh")
    return (
        f"current_school_{level}",
        f"现学校_{zh}",
        f"现就读学校_{zh}",
        f"现就读{zh}",
        f"{zh}现学校",
        f"{zh}现就读学校",
        f"现划片{zh}",
        f"现学区_{zh}",
    )


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
        # 000 §七(二): a weak school's funding comes from the budget it belongs to
        "affiliation": ("affiliation", "隶属", "隶属关系", "主管部门", "举办者", "隶属层级"),
    },
    "population": {
        "unit_id": ("unit_id", "id", "编号", "代码", "村代码", "区划代码", "code"),
        "name": (
            "name",
            "名称",
            "村名",
            "社区名称",
            "村社区",
            "村(社区)名称",
            "村名称",
            "行政村",
            "行政村名称",
            "小区名称",
            "小区",
            "单元名称",
            "地名",
        ),
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
        # The school each unit is zoned to now (a re-zoning baseline, issue 15): optional.
        **{f"current_school_{lv}": current_school_headings(lv) for lv in vocab.LEVELS},
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
    "townships": {
        "name": (
            "name",
            "乡镇",
            "乡镇名称",
            "乡镇街道",
            "乡镇(街道)",
            "乡镇街道名称",
            "街道",
            "名称",
            "township",
            "town",
            "xzqmc",
        ),
        "code": ("code", "乡镇代码", "区划代码", "行政区划代码", "代码", "xzqdm"),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    # Without ids, rows are numbered; without classes and pupils, capacity is assumed.
    "schools": ("level",),
    "population": ("population",),
    "boundary": (),
    "roads": (),
    "candidates": (),
    # The name is needed, but a townships layer only draws the maps: its absence is a warning
    # (geo.checks.normalise_townships), not a required-column error.
    "townships": (),
}

LON_NAMES = ("经度", "lon", "lng", "long", "longitude", "x", "x坐标", "东经")
LAT_NAMES = ("纬度", "lat", "latitude", "y", "y坐标", "北纬")

# Value vocabularies (canonical value -> accepted spellings) come from the one vocabulary table.
LEVEL_VALUES: dict[str, tuple[str, ...]] = {**vocab.LEVEL.spellings(), **vocab.COMBINED.spellings()}
COMBINED_LEVELS = vocab.COMBINED_LEVELS
QUALITY_VALUES = vocab.QUALITY.spellings()
LOCATION_VALUES = vocab.LOCATION.spellings()
STATUS_VALUES = vocab.STATUS.spellings()
OWNERSHIP_VALUES = vocab.OWNERSHIP.spellings()
SCHOOL_TYPE_VALUES = vocab.SCHOOL_TYPE.spellings()
UNIT_KIND_VALUES = vocab.UNIT_KIND.spellings()
CANDIDATE_LEVEL_VALUES = vocab.CANDIDATE_LEVEL.spellings()

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


_key = vocab.normal_key


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


def normalise_value(table: dict[str, tuple[str, ...]], value: object) -> str | None:
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
