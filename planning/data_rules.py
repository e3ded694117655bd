"""How input data is turned into layers when it is incomplete: the ``[data]`` section of the rules.

A raster is summed into cells of ``raster_cell_m``; roads of an OpenStreetMap extract are kept
within ``osm_margin_m`` of the boundary; units and schools a little outside the boundary are kept
(``edge_tolerance_m``), farther ones dropped; schools with a level but no capacity get the
default of their level, or ``capacity_per_student`` × their pupils when those are known.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.params import param

_LOCAL = "local choice (not set by the five documents)"


@dataclass(frozen=True)
class DataParams:
    """Assumptions made when the input data lacks something (all reported as such)."""

    raster_cell_m: float = param(
        500.0,
        zh="人口栅格汇总网格",
        en="Population raster cell",
        unit="m",
        lo=50,
        hi=10000,
        source=_LOCAL,
        help_zh="人口栅格(WorldPop、GHSL 等)按此边长汇总为规划单元;人数总和不变",
        help_en="a population raster is summed into square cells of this size; totals are kept",
    )
    osm_margin_m: float = param(
        2000.0,
        zh="OSM 道路边界外保留距离",
        en="OSM roads kept beyond the boundary",
        unit="m",
        lo=0,
        hi=50000,
        source=_LOCAL,
        help_zh="保留边界外此距离内的道路,使边缘村庄经境外道路仍可连通",
        help_en="roads this far outside the boundary are kept so edge villages stay connected",
    )
    edge_tolerance_m: float = param(
        1000.0,
        zh="边界外容差",
        en="Tolerance outside the boundary",
        unit="m",
        lo=0,
        hi=20000,
        source=_LOCAL,
        help_zh="边界外此距离内的学校、人口单元保留并警告;更远的删除并列出",
        help_en="schools and units this close outside the boundary are kept with a warning; "
        "farther ones are dropped and listed",
    )
    capacity_primary: int = param(
        540,
        zh="小学默认学位(缺学位时)",
        en="Assumed places, primary school",
        unit="个",
        lo=0,
        hi=10000,
        source=_LOCAL + "; 12 classes of 45",
    )
    capacity_junior: int = param(
        900,
        zh="初中默认学位(缺学位时)",
        en="Assumed places, junior school",
        unit="个",
        lo=0,
        hi=10000,
        source=_LOCAL + "; 18 classes of 50",
    )
    capacity_senior: int = param(
        1200,
        zh="高中默认学位(缺学位时)",
        en="Assumed places, senior school",
        unit="个",
        lo=0,
        hi=20000,
        source=_LOCAL + "; 24 classes of 50",
    )
    capacity_per_student: float = param(
        1.1,
        zh="按在校生推算学位的倍数",
        en="Places per pupil when only pupils are known",
        unit="学位/生",
        lo=1.0,
        hi=3.0,
        source=_LOCAL,
    )
