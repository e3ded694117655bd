"""The planning rules: every number of the five policy documents, as defaults a county may change.

Sources are cited by seed file and section (see ../shared/POLICY.md); values marked "local
choice" are not in the documents and are the tool's suggested defaults.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyproj

from core.errors import RulesError
from core.params import ParamSpec, param, replace_checked, specs
from core.vocab import LEVEL, LEVELS, OUTPUT_CRS, PAIRING_FORM, ROAD_CLASS  # noqa: F401  (LEVELS re-exported for the engines)
from geo.plausibility import PlausibilityParams
from geo.roads import SNAP_MAX_M
from planning.data_rules import DataParams
from planning.projection.params import ProjectionParams

LEVEL_ZH = LEVEL.labels("zh")

# 共建形式 codes (core.vocab.PAIRING_FORM) a group pattern maps to in the 附件1 form.
_FORMS = PAIRING_FORM.codes
_FORMS_HELP = ";".join(f"{t.code}={t.zh}" for t in PAIRING_FORM.terms)
_FORMS_HELP_EN = "; ".join(f"{t.code}: {t.en}" for t in PAIRING_FORM.terms)
_NAT = "national standard class sizes; 000 §七(五) 按标准班额办学"
_LOCAL = "local choice (not set by the five documents)"


@dataclass(frozen=True)
class Standards:
    """Class sizes, oversize threshold and school-age rates shared by every job."""

    class_size_primary: int = param(
        45,
        zh="小学标准班额",
        en="Primary standard class size",
        unit="人/班",
        lo=20,
        hi=70,
        source=_NAT,
    )
    class_size_junior: int = param(
        50,
        zh="初中标准班额",
        en="Junior standard class size",
        unit="人/班",
        lo=20,
        hi=70,
        source=_NAT,
    )
    class_size_senior: int = param(
        50,
        zh="高中标准班额",
        en="Senior standard class size",
        unit="人/班",
        lo=20,
        hi=70,
        source=_NAT,
    )
    oversized_class: int = param(
        56,
        zh="大班额下限",
        en="Oversized class from",
        unit="人/班",
        lo=30,
        hi=100,
        source="004 §(四)1 大班额 56 人及以上",
    )
    rate_primary: float = param(
        0.085,
        zh="小学学龄人口比例",
        en="Primary school-age share of population",
        unit="比例",
        lo=0.0,
        hi=0.5,
        source=_LOCAL + "; 2020 census: 6 cohorts of ~1.4 %",
        help_zh="人口数据未给学龄人数时,用此比例估算",
        help_en="used when the data gives no school-age counts",
    )
    rate_junior: float = param(
        0.043,
        zh="初中学龄人口比例",
        en="Junior school-age share of population",
        unit="比例",
        lo=0.0,
        hi=0.5,
        source=_LOCAL + "; 2020 census: 3 cohorts",
    )
    rate_senior: float = param(
        0.035,
        zh="高中学龄人口比例",
        en="Senior school-age share of population",
        unit="比例",
        lo=0.0,
        hi=0.5,
        source=_LOCAL + "; 3 cohorts × ~90 % gross enrolment",
    )
    grades_primary: int = param(
        6,
        zh="小学年级数",
        en="Primary grades",
        unit="年级",
        lo=5,
        hi=6,
        source="学制 6-3-3",
        help_zh="九年一贯制等学校按年级数拆分班级与学生",
        help_en="combined schools split classes and pupils by grades",
    )
    grades_junior: int = param(
        3, zh="初中年级数", en="Junior grades", unit="年级", lo=3, hi=4, source="学制 6-3-3"
    )
    grades_senior: int = param(
        3, zh="高中年级数", en="Senior grades", unit="年级", lo=3, hi=3, source="学制 6-3-3"
    )

    def class_size(self, level: str) -> int:
        return int(getattr(self, f"class_size_{level}"))

    def rate(self, level: str) -> float:
        return float(getattr(self, f"rate_{level}"))

    def grades(self, level: str) -> int:
        return int(getattr(self, f"grades_{level}"))


@dataclass(frozen=True)
class GroupingParams:
    """Education groups (集团化办学), POLICY.md §1."""

    radius_km: float = param(
        20.0,
        zh="集团辐射半径",
        en="Group radius",
        unit="km",
        lo=0.5,
        hi=200,
        source="000 §五.2 辐射半径在20公里左右",
    )
    min_members: int = param(
        1,
        zh="成员校最少数",
        en="Fewest members per group",
        unit="所",
        lo=1,
        hi=20,
        source="000 §四(二) 1-3所",
    )
    max_members: int = param(
        3,
        zh="成员校最多数",
        en="Most members per group",
        unit="所",
        lo=1,
        hi=20,
        source="000 §四(二) 1-3所",
    )
    core_min_classes: int = param(
        12,
        zh="核心校最少班级数",
        en="Core school: fewest classes",
        unit="班",
        lo=0,
        hi=200,
        source="000 §四(一) 具有一定规模 (value: local choice)",
    )
    core_min_quality: str = param(
        "core",
        zh="核心校办学质量",
        en="Core school: quality",
        choices=("core", "ordinary"),
        source="000 §四(一) 办学规范、质量上乘",
        help_zh="core=仅优质学校可作核心校;ordinary=一般及以上",
        help_en="core: only high-quality schools lead; ordinary: ordinary or better",
    )
    cross_level: bool = param(
        False,
        zh="允许跨学段(向下兼容)",
        en="Allow cross-level groups (downward)",
        source="001 §二(二) 向下兼容…跨学段",
    )
    member_weak: bool = param(
        True, zh="薄弱学校可作成员校", en="Weak schools may be members", source="000 §四(四)"
    )
    member_rural: bool = param(
        True,
        zh="乡村/乡镇学校可作成员校",
        en="Rural/township schools may be members",
        source="000 §四(四); 001 §二(一)",
    )
    member_new: bool = param(
        True,
        zh="新建/待建学校可作成员校",
        en="New/planned schools may be members",
        source="000 §四(四); 003 附件1",
    )
    member_relocation: bool = param(
        True,
        zh="安置点学校可作成员校",
        en="Relocation-site schools may be members",
        source="001 §二(一)",
    )
    private_may_join: bool = param(
        True,
        zh="民办学校可加入",
        en="Private schools may join",
        source="000 §四(二) 民办学校可少量参与",
    )
    private_max_members: int = param(
        1,
        zh="每集团民办成员校最多",
        en="Most private members per group",
        unit="所",
        lo=0,
        hi=20,
        source="000 §四(二) (value: local choice)",
    )
    coverage_target_pct: float = param(
        80.0,
        zh="集团化覆盖率目标",
        en="Coverage target",
        unit="%",
        lo=0,
        hi=100,
        source="000 §六 第三阶段 ≥80%",
    )
    coverage_basis: str = param(
        "open",
        zh="覆盖率口径",
        en="Coverage counts",
        choices=("open", "eligible"),
        source="000 §六 集团化办学覆盖率 (basis: local choice)",
        help_zh="open=入集团学校数÷参与分组学段的开办学校数(现有未撤并的学校及新建学校);"
        "eligible=只计可作核心校或成员校的学校",
        help_en="open: schools in a group ÷ open schools of the grouped levels (existing ones not "
        "to merge, plus new ones); eligible: only schools that may lead or join a group",
    )
    cycle_years: int = param(
        3, zh="结对周期", en="Pairing cycle", unit="年", lo=1, hi=10, source="003 §四; 001 §二(四)4"
    )
    start_year: int = param(
        0,
        zh="结对起始年份",
        en="Pairing start year",
        unit="年",
        lo=0,
        hi=2100,
        source="003 §六(五) 秋季学期开始执行",
        help_zh="0=规划编制当年",
        help_en="0: the year the plan is made",
    )
    pairing_form_core_new: str = param(
        "group",
        zh="共建形式:核心校+新建学校",
        en="Pairing form: core + new school",
        choices=_FORMS,
        source="003 附件1 集团校共建(含待建)",
        help_zh=_FORMS_HELP,
        help_en=_FORMS_HELP_EN,
    )
    pairing_form_core_relocation: str = param(
        "group",
        zh="共建形式:城区优质学校+安置点学校",
        en="Pairing form: urban quality + relocation-site school",
        choices=_FORMS,
        source="003 附件1 集团校共建",
        help_zh=_FORMS_HELP,
        help_en=_FORMS_HELP_EN,
    )
    pairing_form_core_weak: str = param(
        "district",
        zh="共建形式:核心校+薄弱学校",
        en="Pairing form: core + weak school",
        choices=_FORMS,
        source="003 §四(三) 区内共建",
        help_zh=_FORMS_HELP,
        help_en=_FORMS_HELP_EN,
    )
    pairing_form_core_rural: str = param(
        "district",
        zh="共建形式:核心校+乡村学校",
        en="Pairing form: core + rural school",
        choices=_FORMS,
        source="003 §四(三) 区内共建",
        help_zh=_FORMS_HELP,
        help_en=_FORMS_HELP_EN,
    )
    pairing_form_urban_township_central: str = param(
        "district",
        zh="共建形式:城区优质学校+乡镇中心校",
        en="Pairing form: urban quality + township central",
        choices=_FORMS,
        source="003 §四(三) 区内共建",
        help_zh=_FORMS_HELP,
        help_en=_FORMS_HELP_EN,
    )
    pairing_form_township_central_rural: str = param(
        "district",
        zh="共建形式:乡镇中心校+农村学校",
        en="Pairing form: township central + rural schools",
        choices=_FORMS,
        source="003 §四(三) 区内共建",
        help_zh=_FORMS_HELP,
        help_en=_FORMS_HELP_EN,
    )
    pairing_form_other: str = param(
        "district",
        zh="共建形式:其他共建",
        en="Pairing form: other pairing",
        choices=_FORMS,
        source="003 §四(三) 区内共建",
        help_zh=_FORMS_HELP,
        help_en=_FORMS_HELP_EN,
    )
    pairing_form_entrusted: str = param(
        "group",
        zh="托管型集团的共建形式",
        en="Pairing form of entrusted groups",
        choices=("", *_FORMS),
        source="003 §四(一) 集团化办学; 000 §五.1 托管型",
        help_zh="空=按集团模式;" + _FORMS_HELP,
        help_en="empty: by the group's pattern; " + _FORMS_HELP_EN,
    )
    teacher_exchange_pct: float = param(
        10.0,
        zh="年度教师交流比例下限",
        en="Yearly teacher exchange, at least",
        unit="%",
        lo=0,
        hi=100,
        source="001 §二(四)2",
    )
    backbone_share_pct: float = param(
        40.0,
        zh="交流教师中骨干教师比例下限",
        en="Backbone share of exchanged teachers",
        unit="%",
        lo=0,
        hi=100,
        source="001 §二(四)3",
    )
    core_outflow_pct: float = param(
        10.0,
        zh="核心校每年输出教师比例下限",
        en="Core school's own teachers sent out yearly, at least",
        unit="%",
        lo=0,
        hi=100,
        source="001 §二(四)2 集团核心成员每年交流到其他成员的教师比例应不低于10%",
    )
    new_school_subjects: int = param(
        9,
        zh="新开办学校学科数(每学科至少1名骨干教师)",
        en="Subjects of a new school (one backbone teacher each)",
        unit="科",
        lo=0,
        hi=30,
        source="001 §二(四)2 为新开办学校每学科至少选派1名骨干教师 (subject count: local choice)",
    )
    funding_weak_any_mode: bool = param(
        True,
        zh="每所薄弱成员校的经费下限适用于所有模式",
        en="The weak-school funding floor applies in every mode",
        source="000 §七(二) 每托管一所薄弱学校不得低于30万元",
        help_zh="关闭时仅托管型集团的薄弱成员校按此计",
        help_en="off: only weak members of entrusted groups get it",
    )
    funding_entrusted_weak_yuan: float = param(
        300000.0,
        zh="每所带领薄弱学校年经费下限",
        en="Yearly funding per weak school led",
        unit="元",
        lo=0,
        hi=1e8,
        source="000 §七(二) 不低于30万元",
    )
    funding_township_yuan: float = param(
        100000.0,
        zh="每所带动乡镇学校年经费下限",
        en="Yearly funding per township school led",
        unit="元",
        lo=0,
        hi=1e8,
        source="000 §七(二) 不低于10万元",
    )
    tight_max_km: float = param(
        5.0,
        zh="紧密型(托管)最大距离",
        en="Entrusted/tight mode: farthest member",
        unit="km",
        lo=0,
        hi=200,
        source=_LOCAL + "; 000 §五.1 托管型",
        help_zh="成员校全部在此距离内且含薄弱校时建议托管型",
        help_en="suggest entrusted when every member is this close and one is weak",
    )
    cooperative_min_km: float = param(
        15.0,
        zh="协作型最小距离",
        en="Cooperative mode from",
        unit="km",
        lo=0,
        hi=200,
        source=_LOCAL + "; 000 §五.3 协作型",
    )
    private_may_lead: bool = param(
        False,
        zh="民办学校可作核心校",
        en="Private schools may lead a group",
        source="000 §四(二) 以公办学校为主、民办学校为辅",
    )
    central_may_lead: bool = param(
        True,
        zh="乡镇中心校可带领农村学校",
        en="Township central schools may lead rural schools",
        source="001 §二(一) 1所乡镇中心校+N所农村学校",
        help_zh="开启后,达到核心校规模、非薄弱的乡镇中心校作核心校带领农村学校,不再作成员校",
        help_en="on: a central school of core size that is not weak leads rural schools and is no longer a member",
    )
    central_max_members: int = param(
        6,
        zh="乡镇中心校带领农村学校最多",
        en="Most rural schools a central school leads",
        unit="所",
        lo=1,
        hi=30,
        source="001 §二(一) 乡镇中心校+N所农村学校 (N: local choice)",
    )
    mode_central_rural: str = param(
        "cooperative",
        zh="中心校+农村学校的建议模式",
        en="Suggested mode: central school + rural schools",
        choices=("entrusted", "alliance", "cooperative", "bundled"),
        source="001 §二(一) 组建协作型教育集团",
    )
    mode_private: str = param(
        "bundled",
        zh="含民办成员校的建议模式",
        en="Suggested mode when a member is private",
        choices=("entrusted", "alliance", "cooperative", "bundled"),
        source=_LOCAL + "; 000 §五.4 捆绑型 签订捆绑协议",
        help_zh="民办学校法人不同,不宜托管,默认按协议捆绑",
        help_en="a private school is a separate legal person: an agreement, not a merger",
    )
    pattern_priority: str = param(
        "core_relocation,core_new,urban_township_central,township_central_rural,core_weak,core_rural",
        zh="集团模式判定顺序",
        en="Pattern priority",
        source=_LOCAL + "; patterns from 000 §四(四), 001 §二(一)",
        help_zh="逗号分隔;集团按第一个符合的模式命名",
        help_en="comma-separated; a group takes the first pattern that fits",
    )


@dataclass(frozen=True)
class NewSchoolParams:
    """New schools from population thresholds and layout status, POLICY.md §2."""

    primary_min_population: int = param(
        4000,
        zh="设一所完全小学的最少人口",
        en="Population for one complete primary school",
        unit="人",
        lo=0,
        hi=1_000_000,
        source="002 §二.3 4000-10000人设1所6-12班完全小学",
    )
    primary_single_max_population: int = param(
        10000,
        zh="单所小学人口上限",
        en="Population up to which one primary suffices",
        unit="人",
        lo=0,
        hi=1_000_000,
        source="002 §二.3",
    )
    primary_small_min_classes: int = param(
        6,
        zh="完全小学最少班级",
        en="Complete primary: fewest classes",
        unit="班",
        lo=1,
        hi=60,
        source="002 §二.3 6-12班",
    )
    primary_small_max_classes: int = param(
        12,
        zh="完全小学最多班级",
        en="Complete primary: most classes",
        unit="班",
        lo=1,
        hi=60,
        source="002 §二.3 6-12班",
    )
    primary_per_population: int = param(
        10000,
        zh="每所较大小学服务人口",
        en="Population per larger primary",
        unit="人",
        lo=1000,
        hi=1_000_000,
        source="002 §二.3 每1万人设1所18-24班小学",
    )
    primary_large_min_classes: int = param(
        18,
        zh="较大小学最少班级",
        en="Larger primary: fewest classes",
        unit="班",
        lo=1,
        hi=90,
        source="002 §二.3 18-24班",
    )
    primary_large_max_classes: int = param(
        24,
        zh="较大小学最多班级",
        en="Larger primary: most classes",
        unit="班",
        lo=1,
        hi=90,
        source="002 §二.3 18-24班",
    )
    junior_per_population: int = param(
        20000,
        zh="每所初中服务人口",
        en="Population per junior middle school",
        unit="人",
        lo=1000,
        hi=1_000_000,
        source="002 §二.3 每2万人设1所18班以上初中",
    )
    junior_min_classes: int = param(
        18,
        zh="初中最少班级",
        en="Junior: fewest classes",
        unit="班",
        lo=1,
        hi=90,
        source="002 §二.3 18班以上",
    )
    junior_max_classes: int = param(
        36, zh="初中最多班级", en="Junior: most classes", unit="班", lo=1, hi=120, source=_LOCAL
    )
    senior_max_students: int = param(
        3000,
        zh="新建高中最大规模",
        en="New senior high school: most students",
        unit="人",
        lo=100,
        hi=10000,
        source="004 §(四)1 新建普通高中规模不超过3000人",
    )
    senior_min_classes: int = param(
        24,
        zh="新建高中最少班级",
        en="New senior high school: fewest classes",
        unit="班",
        lo=1,
        hi=120,
        source=_LOCAL,
    )
    service_km_primary: float = param(
        3.0,
        zh="小学服务半径",
        en="Primary service distance",
        unit="km",
        lo=0.1,
        hi=100,
        source=_LOCAL,
        help_zh="此距离内现有学校的学位计入供给",
        help_en="places of schools within this distance count as supply",
    )
    service_km_junior: float = param(
        6.0,
        zh="初中服务半径",
        en="Junior service distance",
        unit="km",
        lo=0.1,
        hi=100,
        source=_LOCAL,
    )
    service_km_senior: float = param(
        30.0,
        zh="高中服务半径",
        en="Senior service distance",
        unit="km",
        lo=0.1,
        hi=300,
        source=_LOCAL,
    )
    planning_unit: str = param(
        "unit",
        zh="规划单元",
        en="Planning unit",
        choices=("unit", "town"),
        source=_LOCAL,
        help_zh="unit=每个村/社区;town=按乡镇汇总",
        help_en="unit: each village/community; town: per township",
    )
    use_candidates: bool = param(
        True, zh="优先选用候选地块", en="Site at candidate sites", source=_LOCAL
    )
    merge_max_students: int = param(
        30,
        zh="建议撤并的最大在校生数",
        en="Merge suggestion: at most students",
        unit="人",
        lo=0,
        hi=1000,
        source="002 §二.3 撤并 (value: local choice)",
    )
    merge_within_km: float = param(
        3.0,
        zh="撤并接收学校最远距离",
        en="Merge: receiving school within",
        unit="km",
        lo=0,
        hi=50,
        source="002 §二.3 先建后撤 (value: local choice)",
    )
    transitional_max_students: int = param(
        100,
        zh="过渡性保留的最大在校生数",
        en="Transitional: at most students",
        unit="人",
        lo=0,
        hi=5000,
        source="002 §二.3 过渡性保留 (value: local choice)",
    )
    count_rounding: str = param(
        "round",
        zh="按人口折算学校数的取整方式",
        en="Rounding of schools per population",
        choices=("round", "ceil", "floor"),
        source=_LOCAL + "; 002 §二.3 每1万人/每2万人",
        help_zh="round=四舍五入(每校服务人口最接近标准);ceil=进一;floor=去尾。学龄儿童超出各校最多班级时自动增校",
        help_en="round: each school nearest the norm's population; ceil: round up; floor: round "
        "down. More schools are added whenever the children exceed the largest allowed size",
    )
    junior_min_population: int = param(
        20000,
        zh="设一所初中的最少人口",
        en="Population for one junior middle school",
        unit="人",
        lo=0,
        hi=1_000_000,
        source="002 §二.3 每2万人设1所初中 (minimum: local choice)",
    )
    junior_planning_unit: str = param(
        "town",
        zh="初中规划单元",
        en="Junior middle school: planning unit",
        choices=("county", "town", "unit"),
        source="002 §二.3 每2万人设1所初中 (unit: local choice)",
        help_zh="初中服务2万人,通常以乡镇/街道汇总;unit=每个村/社区单独计算",
        help_en="a junior school serves 20,000 people, usually a township; unit: each village/community alone",
    )
    senior_planning_unit: str = param(
        "county",
        zh="高中规划单元",
        en="Senior high: planning unit",
        choices=("county", "town", "unit"),
        source="004 §(四)1 县中 (value: local choice)",
        help_zh="高中通常全县统筹;county=全县汇总缺口",
        help_en="senior high schools are usually planned county-wide",
    )
    min_fill_share: float = param(
        0.5,
        zh="新建学校的最低生源比例",
        en="New school only when the gap fills this share",
        unit="比例",
        lo=0.0,
        hi=1.0,
        source=_LOCAL,
        help_zh="缺口学位不足规则最小学校规模的此比例时,不新建,建议附近学校扩容",
        help_en="a smaller gap than this share of the rule's smallest school is left to "
        "expanding nearby schools",
    )
    proposed_per_10k: float = param(
        2.0,
        zh="无候选地块时每万人建议选址数",
        en="No candidate sites: proposed sites per 10,000 people",
        unit="处/万人",
        lo=0.0,
        hi=20.0,
        source=_LOCAL + "; twice 002 §二.3 每1万人设1所小学, so the siting has a choice",
        help_zh="项目没有候选地块图层时,按人口加权聚类(k-means)提出建议选址,标为“建议选址”,"
        "可在地图上调整;0=不提出(新建学校落在人口加权中心或人口分布点)",
        help_en="when the project has no candidate sites layer, sites are proposed at the "
        "centres of a population-weighted k-means, marked 'proposed' for the planner to "
        "move; 0: none (new schools go to the weighted centre or a demand point)",
    )
    proposed_max: int = param(
        200,
        zh="建议选址最多处数",
        en="Proposed sites: at most",
        unit="处",
        lo=1,
        hi=5000,
        source=_LOCAL,
        help_zh="全县建议选址的上限",
        help_en="the most sites proposed for the whole county",
    )


@dataclass(frozen=True)
class CatchmentParams:
    """Catchment zones for nearby enrolment (划片就近入学), POLICY.md §3."""

    mode: str = param(
        "capacity",
        zh="划片方式",
        en="Assignment mode",
        choices=("nearest", "capacity"),
        source="000 §三(二)",
        help_zh="nearest=最近学校;capacity=不超学位、总距离最短",
        help_en="nearest school, or least total distance within capacity",
    )
    max_km_primary: float = param(
        3.0,
        zh="小学最远就学距离",
        en="Primary: farthest distance",
        unit="km",
        lo=0.1,
        hi=100,
        source=_LOCAL,
    )
    max_km_junior: float = param(
        6.0,
        zh="初中最远就学距离",
        en="Junior: farthest distance",
        unit="km",
        lo=0.1,
        hi=100,
        source=_LOCAL,
    )
    max_km_senior: float = param(
        30.0,
        zh="高中最远就学距离",
        en="Senior: farthest distance",
        unit="km",
        lo=0.1,
        hi=300,
        source=_LOCAL,
    )
    allow_split: bool = param(
        False, zh="允许拆分村/社区", en="Allow splitting a unit", source=_LOCAL
    )
    split_large_units: bool = param(
        True,
        zh="无法整体安置时拆分",
        en="Split a unit no school can take whole",
        source=_LOCAL,
        help_zh="不允许拆分时,若一个村/社区整体放不进任何一所学校,仍按学位分到多所学校,而非记为无学位",
        help_en="without splitting, a unit that fits whole in no school is still shared among "
        "schools with room instead of being left unserved",
    )
    no_feeder_pools: bool = param(
        True,
        zh="不把成员校生源划给核心校",
        en="No feeder pools: a member's villages stay off its core",
        source="000 §七(八) 优质学校不得把集团内成员学校变成生源基地",
        help_zh="村/社区最近的学校是集团成员校时,不划入该集团的核心校;成员校学位不足时逐村说明",
        help_en="a village whose nearest school is a group member is never zoned to that "
        "group's core; when the member has no room the plan says so per village",
    )
    k_nearest: int = param(
        10,
        zh="候选学校数(最近k所)",
        en="Schools considered per unit (k nearest)",
        unit="所",
        lo=1,
        hi=200,
        source=_LOCAL + "; widened when infeasible",
    )
    widen_factor: float = param(
        5.0,
        zh="无学位时扩大搜索的距离倍数",
        en="Search for a place up to this times the farthest distance",
        unit="×",
        lo=1.0,
        hi=100.0,
        source=_LOCAL + "; a village left without a place looks beyond its k nearest schools "
        "only for schools within this multiple of the level's farthest distance",
        help_zh="村/社区在最近k所学校中无学位时,只在该学段最远就学距离的此倍数内继续寻找;更远则记为无学位",
        help_en="a unit with no place among its k nearest schools looks further only within "
        "this multiple of the level's farthest distance; beyond, it is reported without a place",
    )
    keep_current_km: float = param(
        0.5,
        zh="保留现学区的距离优势",
        en="Keep the current school unless moving saves more than",
        unit="km/人",
        lo=0.0,
        hi=20.0,
        source=_LOCAL + "; a re-zoning moves a village only when needed (capacity, closure, "
        "new school) or when it saves more than this per pupil",
        help_zh="有现状划片(current_school_<学段> 列或基准方案)时,村/社区留在现学校,除非必须调整或每人节省超过此距离",
        help_en="with a baseline (current_school_<level> column or a base scenario) a unit "
        "keeps its school unless it must move or moving saves more than this per pupil",
    )
    grid_cell_m: float = param(
        1000.0,
        zh="无人口图层时网格边长",
        en="Grid cell when no population layer",
        unit="m",
        lo=50,
        hi=10000,
        source=_LOCAL,
    )
    zone_cell_m: float = param(
        200.0,
        zh="学区图绘制网格",
        en="Zone drawing cell",
        unit="m",
        lo=10,
        hi=5000,
        source=_LOCAL,
        help_zh="点状人口单元(村/社区点)按此网格划出学区边界;越小越细、越慢",
        help_en="zones of point units are traced on a raster of this cell; smaller is finer and slower",
    )
    zone_simplify_cells: float = param(
        0.0,
        zh="学区边界平滑",
        en="Zone outline smoothing",
        unit="cells",
        lo=0,
        hi=5,
        source=_LOCAL,
        help_zh="0 为按网格原样绘制(阶梯状边界);大于 0 时共享边界按此容差(网格数)平滑,"
        "无缝无重叠,但约 1–2% 的村点可能落在相邻学区图形内(分配结果不变)",
        help_en="0 draws the raster outline (stair-stepped); above 0 shared edges are smoothed "
        "within this many cells, gap-free and non-overlapping, but about 1–2 % of village points "
        "may then fall inside a neighbouring zone's drawing (assignments do not change)",
    )

    def max_km(self, level: str) -> float:
        return float(getattr(self, f"max_km_{level}"))


_SPEED_SOURCE = (
    "local choice; JTG B01-2014 公路工程技术标准 design speeds as a guide (国道 80, 省道 60, "
    "县道 40, 乡道 30 km/h)"
)


def _speed(default: float, code: str) -> Any:
    """The declared speed of one road class (``core.vocab.ROAD_CLASS`` code)."""
    return param(
        default,
        zh=f"{ROAD_CLASS.label(code, 'zh')}车速",
        en=f"Speed on {ROAD_CLASS.label(code, 'en')}",
        unit="km/h",
        lo=1.0,
        hi=130.0,
        source=_SPEED_SOURCE,
        help_zh="按道路等级的车速,供按时间计算的道路距离使用;目前道路距离按路段长度计算,不使用此值",
        help_en="the speed of this road class, for road distances by time; road distances are "
        "measured by length for now and do not use it",
    )


@dataclass(frozen=True)
class DistanceParams:
    """How distances are measured, by every engine alike (new schools, groups, catchments): one
    cost model per plan."""

    model: str = param(
        "auto",
        zh="距离计算",
        en="Distance",
        choices=("auto", "straight", "road"),
        source=_LOCAL,
        help_zh="auto=有道路图层时按道路",
        help_en="auto: by road when the project has roads",
    )
    snap_max_m: float = param(
        SNAP_MAX_M,
        zh="接入道路最远距离",
        en="Farthest snap to a road",
        unit="m",
        lo=0,
        hi=100000,
        source=_LOCAL,
        help_zh="离道路更远的地点按道路不可达",
        help_en="places farther from every road are unreachable by road",
    )
    offroad_detour: float = param(
        1.3,
        zh="无路段绕行系数",
        en="Detour factor off the road network",
        unit="×",
        lo=1.0,
        hi=3.0,
        source="local choice: paths and field tracks wind; 1.3 is the usual straight-line-to-"
        "route ratio of rural trips",
        help_zh="离道路超过接入距离的地点:直线距离×此系数(而非不可达)",
        help_en="places farther than the snap distance from every road: straight line × this "
        "(instead of unreachable)",
    )
    # Speeds per road class (the roads layer's road_class codes, core.vocab.ROAD_CLASS).
    speed_trunk_kmh: float = _speed(80.0, "trunk")
    speed_primary_kmh: float = _speed(60.0, "primary")
    speed_secondary_kmh: float = _speed(40.0, "secondary")
    speed_tertiary_kmh: float = _speed(30.0, "tertiary")
    speed_unclassified_kmh: float = _speed(20.0, "unclassified")
    speed_residential_kmh: float = _speed(20.0, "residential")
    speed_service_kmh: float = _speed(15.0, "service")
    speed_track_kmh: float = _speed(10.0, "track")
    speed_path_kmh: float = _speed(5.0, "path")

    def speed_kmh(self, road_class: str) -> float:
        """The declared speed of a road class code; NaN for a class without one."""
        return float(getattr(self, f"speed_{road_class}_kmh", float("nan")))


# Output CRS keywords (case-insensitive) of [output] crs; any other value is a CRS pyproj reads.
OUTPUT_CRS_KEYWORDS: dict[str, tuple[str, str]] = {t.code: (t.zh, t.en) for t in OUTPUT_CRS.terms}


def output_crs_keyword(value: str) -> str | None:
    """The keyword of ``OUTPUT_CRS_KEYWORDS`` that ``value`` names (any case; '' is 'project'),
    None when ``value`` is not a keyword (then it is a CRS such as 'EPSG:4547')."""
    text = value.strip()
    if text == "":
        return "project"
    return next((k for k in OUTPUT_CRS_KEYWORDS if k.lower() == text.lower()), None)


@dataclass(frozen=True)
class OutputParams:
    """What plan.gpkg is written in. Every computation stays in the project's metric CRS."""

    crs: str = param(
        "auto",
        zh="输出坐标系",
        en="Output CRS",
        source="2000 国家大地坐标系 (CGCS2000), China's national CRS since 2008; the choice: "
        + _LOCAL,
        help_zh="plan.gpkg 的坐标系。"
        + ";".join(f"{k}={zh}" for k, (zh, _) in OUTPUT_CRS_KEYWORDS.items())
        + ";或任一坐标系代码,如 EPSG:4547",
        help_en="the CRS of plan.gpkg. "
        + "; ".join(f"{k}: {en}" for k, (_, en) in OUTPUT_CRS_KEYWORDS.items())
        + "; or any CRS code, e.g. EPSG:4547",
    )

    def __post_init__(self) -> None:
        if output_crs_keyword(self.crs) is not None:
            return
        fix = "write one of " + ", ".join(OUTPUT_CRS_KEYWORDS) + ", or a code like EPSG:4547"
        try:
            crs = pyproj.CRS.from_user_input(self.crs.strip())
        except pyproj.exceptions.CRSError:
            raise RulesError(
                f"[output]: crs {self.crs!r} is neither a keyword nor a CRS pyproj knows", fix=fix
            ) from None
        if not (crs.is_geographic or crs.is_projected):
            raise RulesError(
                f"[output]: crs {self.crs!r} ({crs.name}) is not a map CRS "
                "(longitude/latitude or projected)",
                fix=fix,
            )


SECTIONS: dict[str, type] = {
    "standards": Standards,
    "groups": GroupingParams,
    "new_schools": NewSchoolParams,
    "catchments": CatchmentParams,
    "distance": DistanceParams,
    "projection": ProjectionParams,
    "checks": PlausibilityParams,
    "output": OutputParams,
    "data": DataParams,
}
SECTION_LABELS = {
    "standards": ("办学标准", "Standards"),
    "groups": ("教育集团", "Education groups"),
    "new_schools": ("新建学校与布局", "New schools and layout"),
    "catchments": ("学区划片", "Catchments"),
    "distance": ("距离", "Distance"),
    "projection": ("学龄人口预测与分期", "Projection and phasing"),
    "checks": ("数据合理性检查", "Plausibility checks"),
    "output": ("输出", "Output"),
    "data": ("输入数据假设", "Input data assumptions"),
}
# Settings that moved to another section: (old section, name) -> (section, name). Rules files,
# scenarios and summary.json written before the move still read.
MOVED: dict[tuple[str, str], tuple[str, str]] = {
    ("catchments", "distance"): ("distance", "model"),
    ("catchments", "snap_max_m"): ("distance", "snap_max_m"),
}


class OldRulesLayout(UserWarning):
    """A rules file names a setting where it used to be; it is read at its new place."""


def move_old_keys(values: dict[str, Any], where: str = "rules") -> tuple[dict[str, Any], list[str]]:
    """``values`` with the settings of ``MOVED`` at their new place, and a note per move.
    A setting given at both places is an error (which one was meant is unknown)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in values.items()}
    notes = []
    for (old_sec, old_name), (new_sec, new_name) in MOVED.items():
        items = out.get(old_sec)
        if not isinstance(items, dict) or old_name not in items:
            continue
        target = out.setdefault(new_sec, {})
        if not isinstance(target, dict):
            continue  # with_values reports the malformed section
        if new_name in target:
            raise RulesError(
                f"{where}: {old_sec}.{old_name} and {new_sec}.{new_name} are the same setting",
                fix=f"keep only {new_name} under [{new_sec}]",
            )
        target[new_name] = items.pop(old_name)
        notes.append(f"[{old_sec}] {old_name} is now [{new_sec}] {new_name}; read there")
    return out, notes


@dataclass(frozen=True)
class Rules:
    standards: Standards = field(default_factory=Standards)
    groups: GroupingParams = field(default_factory=GroupingParams)
    new_schools: NewSchoolParams = field(default_factory=NewSchoolParams)
    catchments: CatchmentParams = field(default_factory=CatchmentParams)
    distance: DistanceParams = field(default_factory=DistanceParams)
    projection: ProjectionParams = field(default_factory=ProjectionParams)
    checks: PlausibilityParams = field(default_factory=PlausibilityParams)
    output: OutputParams = field(default_factory=OutputParams)
    data: DataParams = field(default_factory=DataParams)

    def with_values(self, values: dict[str, dict[str, Any]], where: str = "rules") -> Rules:
        """A copy with ``{section: {name: value}}`` applied, every value checked; settings
        given at their old place (``MOVED``) are read at the new one."""
        values, _ = move_old_keys(values, where)
        changes = {}
        for section, items in values.items():
            if section not in SECTIONS:
                raise RulesError(
                    f"{where}: unknown section [{section}]",
                    fix="valid sections: " + ", ".join(SECTIONS),
                )
            if not isinstance(items, dict):
                raise RulesError(
                    f"{where}: [{section}] must be a table of name = value",
                    fix=f"write [{section}] on its own line, then one 'name = value' per line",
                )
            changes[section] = replace_checked(
                getattr(self, section), items, f"{where} [{section}]"
            )
        rules = dataclasses.replace(self, **changes)
        check_consistency(rules, where)
        return rules

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {s: dataclasses.asdict(getattr(self, s)) for s in SECTIONS}


def check_consistency(rules: Rules, where: str = "rules") -> None:
    """Cross-field checks that a single range cannot express."""
    pairs = [
        ("groups", "min_members", "max_members"),
        ("new_schools", "primary_small_min_classes", "primary_small_max_classes"),
        ("new_schools", "primary_large_min_classes", "primary_large_max_classes"),
        ("new_schools", "junior_min_classes", "junior_max_classes"),
        ("new_schools", "primary_min_population", "primary_single_max_population"),
    ]
    for section, lo_name, hi_name in pairs:
        sec = getattr(rules, section)
        if getattr(sec, lo_name) > getattr(sec, hi_name):
            raise RulesError(
                f"{where} [{section}]: {lo_name} = {getattr(sec, lo_name)} is larger than {hi_name} = {getattr(sec, hi_name)}",
                fix=f"make {lo_name} ≤ {hi_name}",
            )


def default_rules() -> Rules:
    return Rules()


def load_rules(path: str | Path, base: Rules | None = None) -> Rules:
    """Read a rules TOML (the format ``schoolplan rules`` prints) over ``base`` or the defaults."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesError(
            f"rules file not found: {path}",
            fix="check the path, or run 'schoolplan rules > rules.toml' to make one",
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(
            f"{path}: not valid TOML ({exc})", fix="compare with the output of 'schoolplan rules'"
        ) from None
    data.pop("schema_version", None)
    data, notes = move_old_keys(data, str(path))
    for note in notes:
        warnings.warn(f"{path}: {note}", OldRulesLayout, stacklevel=2)
    return (base or Rules()).with_values(data, where=str(path))


def iter_specs(rules: Rules | None = None) -> Iterator[tuple[str, ParamSpec, Any]]:
    """(section, ParamSpec, current value) for every parameter: the GUI form and CLI use this."""
    rules = rules or Rules()
    for section in SECTIONS:
        obj = getattr(rules, section)
        for spec in specs(obj):
            yield section, spec, getattr(obj, spec.name)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    # json.dumps writes a valid TOML basic string (escapes quotes, backslashes and newlines).
    return json.dumps(str(value), ensure_ascii=False)


def rules_to_toml(rules: Rules | None = None) -> str:
    """The effective rules as TOML, each value with its label, unit, range and source as comments."""
    rules = rules or Rules()
    lines = [
        "# SchoolPlan rules / 学校布局规划规则",
        "# Edit values and pass with --rules FILE, or name the file in project.toml.",
        "schema_version = 1",
        "",
    ]
    current = None
    for section, spec, value in iter_specs(rules):
        if section != current:
            zh, en = SECTION_LABELS[section]
            lines += ["", f"[{section}]  # {zh} / {en}"]
            current = section
        info = spec.info
        rng = ""
        if info.choices:
            rng = "one of " + " | ".join(info.choices)
        elif info.lo is not None or info.hi is not None:
            rng = f"range {info.lo}–{info.hi}"
        unit = f" [{info.unit}]" if info.unit else ""
        lines.append(
            f"# {info.zh} / {info.en}{unit}; {rng}; source: {info.source}".replace("; ;", ";")
        )
        lines.append(f"{spec.name} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def flag_name(section: str, spec: ParamSpec) -> str:
    return f"--{section}.{spec.name.replace('_', '-')}"


__all__ = [
    "LEVELS",
    "LEVEL_ZH",
    "Standards",
    "GroupingParams",
    "NewSchoolParams",
    "CatchmentParams",
    "DistanceParams",
    "OutputParams",
    "OUTPUT_CRS_KEYWORDS",
    "output_crs_keyword",
    "MOVED",
    "OldRulesLayout",
    "move_old_keys",
    "Rules",
    "SECTIONS",
    "default_rules",
    "load_rules",
    "rules_to_toml",
    "iter_specs",
    "flag_name",
    "ParamSpec",
]
