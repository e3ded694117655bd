"""The projection's rules: birth series, grade ages, urbanisation and the near/long-term class sizes.

Every number is a default a county may change (the ``[projection]`` section of the rules file);
the source of each is POLICY.md §5–6. Values marked "local choice" are not set by any document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import RulesError
from core.params import param

_BIRTHS = "national statistical communiqué (出生人口), POLICY.md §6"
_STD = "建标109-2008 农村普通中小学校建设标准 第八条 (POLICY.md §6)"
_AGES = "义务教育法 第十一条 年满六周岁入学; 学制 6-3-3"
_LOCAL = "local choice (not set by the documents)"
# The years the national series of the rules covers; earlier and later births come from rules.
FIRST_BIRTH_YEAR = 2013
LAST_BIRTH_YEAR = 2024


def _births(value: float, year: int) -> Any:
    return param(
        value,
        zh=f"全国出生人口 {year} 年",
        en=f"Births in China, {year}",
        unit="百万",
        lo=0.0,
        hi=100.0,
        source=_BIRTHS,
    )


@dataclass(frozen=True)
class ProjectionParams:
    """School-age children from the base year to the horizon (近期 / 远期), POLICY.md §5–6."""

    base_year: int = param(
        2024,
        zh="基准年",
        en="Base year",
        unit="年",
        lo=2000,
        hi=2100,
        source=_LOCAL + "; the year the data's enrolment describes",
        help_zh="数据中的在校生/学龄人数所对应的年份",
        help_en="the year the data's enrolment and school-age counts describe",
    )
    horizon: int = param(
        2035,
        zh="规划期末",
        en="Horizon",
        unit="年",
        lo=2000,
        hi=2100,
        source="002 §二.3 布局规划 (year: local choice)",
    )
    plan_year: int = param(
        0,
        zh="规划年份",
        en="Plan for year",
        unit="年",
        lo=0,
        hi=2100,
        source=_LOCAL,
        help_zh="0 = 按数据现状规划;填年份则按该年预测的学龄人口和班额规划(并编制分期实施)",
        help_en="0 = plan the data as it is; a year plans with that year's projected children "
        "and class sizes (and adds the phased schedule)",
    )
    phased: bool = param(
        False,
        zh="编制分期实施",
        en="Phased schedule with the plan",
        source="002 §二.3 布局规划 近期/远期",
        help_zh="规划结果附分期实施表(新建、撤并的年份,逐年班级数),写入 plan.gpkg 与 tables.xlsx",
        help_en="add the phased schedule (years of building and merging, classes per year) to "
        "plan.gpkg and tables.xlsx",
    )
    near_term_year: int = param(
        2030,
        zh="近期末年",
        en="End of the near term",
        unit="年",
        lo=2000,
        hi=2100,
        source=_STD + " 近期/远期 (year: local choice)",
        help_zh="此年及以前按近期班额,以后按远期班额",
        help_en="up to this year the near-term class sizes apply, later the long-term ones",
    )
    class_size_primary_near: int = param(
        45,
        zh="小学近期班额",
        en="Primary class size, near term",
        unit="人/班",
        lo=20,
        hi=70,
        source=_STD,
    )
    class_size_primary_long: int = param(
        40,
        zh="小学远期班额",
        en="Primary class size, long term",
        unit="人/班",
        lo=20,
        hi=70,
        source=_STD,
    )
    class_size_junior_near: int = param(
        50,
        zh="初中近期班额",
        en="Junior class size, near term",
        unit="人/班",
        lo=20,
        hi=70,
        source=_STD,
    )
    class_size_junior_long: int = param(
        45,
        zh="初中远期班额",
        en="Junior class size, long term",
        unit="人/班",
        lo=20,
        hi=70,
        source=_STD,
    )
    births_2013: float = _births(16.40, 2013)
    births_2014: float = _births(16.87, 2014)
    births_2015: float = _births(16.55, 2015)
    births_2016: float = _births(17.86, 2016)
    births_2017: float = _births(17.23, 2017)
    births_2018: float = _births(15.23, 2018)
    births_2019: float = _births(14.65, 2019)
    births_2020: float = _births(12.02, 2020)
    births_2021: float = _births(10.62, 2021)
    births_2022: float = _births(9.56, 2022)
    births_2023: float = _births(9.02, 2023)
    births_2024: float = _births(9.54, 2024)
    births_before_2013: float = param(
        16.40,
        zh="2013 年以前每年出生人口",
        en="Births per year before 2013",
        unit="百万",
        lo=0.0,
        hi=100.0,
        source=_LOCAL + "; the 2013 figure held for the older cohorts of junior and senior",
    )
    birth_rate_2024: float = param(
        6.77,
        zh="2024 年出生率",
        en="Crude birth rate 2024",
        unit="‰",
        lo=0.1,
        hi=60.0,
        source=_BIRTHS + " 出生率 6.77‰",
    )
    birth_rate_later: float = param(
        6.77,
        zh="2024 年以后出生率",
        en="Crude birth rate after 2024",
        unit="‰",
        lo=0.0,
        hi=60.0,
        source=_LOCAL + "; the 2024 rate held",
        help_zh="2024 年以后每年出生人口 = 2024 年出生人口 × 此出生率 ÷ 2024 年出生率",
        help_en="births of each later year = births 2024 × this rate ÷ the 2024 rate",
    )
    survival: float = param(
        0.99,
        zh="出生至入学存活比例",
        en="Survival from birth to school age",
        unit="比例",
        lo=0.5,
        hi=1.0,
        source=_LOCAL + "; under-five mortality in China is below 1 %",
        help_zh="只用于按出生人数推算的队列;单岁年龄人数已是存活人数",
        help_en="applies to cohorts counted at birth; single-year age counts are survivors",
    )
    age_primary_from: int = param(
        6, zh="小学入学年龄", en="Primary: first age", unit="岁", lo=5, hi=8, source=_AGES
    )
    age_primary_to: int = param(
        11, zh="小学最高年龄", en="Primary: last age", unit="岁", lo=9, hi=13, source=_AGES
    )
    age_junior_from: int = param(
        12, zh="初中入学年龄", en="Junior: first age", unit="岁", lo=10, hi=14, source=_AGES
    )
    age_junior_to: int = param(
        14, zh="初中最高年龄", en="Junior: last age", unit="岁", lo=12, hi=17, source=_AGES
    )
    age_senior_from: int = param(
        15, zh="高中入学年龄", en="Senior: first age", unit="岁", lo=13, hi=17, source=_AGES
    )
    age_senior_to: int = param(
        17, zh="高中最高年龄", en="Senior: last age", unit="岁", lo=15, hi=20, source=_AGES
    )
    urbanisation_share: float = param(
        0.015,
        zh="乡村学龄儿童每年进城比例",
        en="Yearly share of rural children moving to towns",
        unit="比例/年",
        lo=0.0,
        hi=0.1,
        source="002 §二.3 统筹考虑城镇化发展的客观趋势 (value: local choice)",
        help_zh="每年村(village)学龄儿童中迁往县城、镇区社区的比例,按社区人口分配",
        help_en="each year this share of villages' children move to urban and town communities, "
        "shared by the communities' population",
    )

    def __post_init__(self) -> None:
        if self.horizon < self.base_year:
            raise RulesError(
                f"[projection]: horizon {self.horizon} is before base_year {self.base_year}",
                fix="make horizon ≥ base_year",
            )
        if self.plan_year and not self.base_year <= self.plan_year <= self.horizon:
            raise RulesError(
                f"[projection]: plan_year {self.plan_year} is outside base_year "
                f"{self.base_year} – horizon {self.horizon}",
                fix="choose a year from the base year to the horizon, or raise horizon",
            )
        for level in ("primary", "junior", "senior"):
            lo, hi = self.ages(level)
            if lo > hi:
                raise RulesError(
                    f"[projection]: age_{level}_from {lo} is above age_{level}_to {hi}",
                    fix=f"make age_{level}_from ≤ age_{level}_to",
                )

    def ages(self, level: str) -> tuple[int, int]:
        """First and last age of the level's pupils (inclusive)."""
        return int(getattr(self, f"age_{level}_from")), int(getattr(self, f"age_{level}_to"))

    @property
    def with_schedule(self) -> bool:
        """A plan of these rules carries the phased schedule (asked for, or planned for a year)."""
        return bool(self.phased or self.plan_year)

    def class_size(self, level: str, year: int) -> int | None:
        """The 建标109-2008 class size of ``year``; None for a level the standard does not set."""
        term = "near" if year <= self.near_term_year else "long"
        value = getattr(self, f"class_size_{level}_{term}", None)
        return None if value is None else int(value)

    def national_births(self, first: int, last: int) -> list[float]:
        """National births (million) for each birth year ``first..last`` from the rules."""
        later = self.births_2024 * self.birth_rate_later / self.birth_rate_2024
        out = []
        for year in range(first, last + 1):
            if year < FIRST_BIRTH_YEAR:
                out.append(self.births_before_2013)
            elif year > LAST_BIRTH_YEAR:
                out.append(later)
            else:
                out.append(float(getattr(self, f"births_{year}")))
        return out
