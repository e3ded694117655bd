"""planning.demand.students_by_level: data where given, population × rate otherwise."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.demand import estimated_mask, students_by_level
from planning.rules import Standards


def test_given_values_kept_missing_estimated():
    std = Standards()
    units = pd.DataFrame(
        {
            "population": [1000.0, 2000.0, 500.0],
            "students_primary": [90.0, np.nan, 0.0],
            "students_junior": [np.nan, 40.0, np.nan],
            "students_senior": [np.nan, np.nan, 7.0],
        },
        index=[10, 11, 12],
    )
    out = students_by_level(units, std)
    assert list(out.columns) == ["students_primary", "students_junior", "students_senior"]
    assert list(out.index) == [10, 11, 12]
    assert out.loc[10, "students_primary"] == 90.0
    assert out.loc[11, "students_primary"] == pytest.approx(2000 * std.rate_primary)
    assert out.loc[12, "students_primary"] == 0.0  # a given zero is data, not missing
    assert out.loc[10, "students_junior"] == pytest.approx(1000 * std.rate_junior)
    assert out.loc[11, "students_junior"] == 40.0
    assert out.loc[12, "students_senior"] == 7.0
    mask = estimated_mask(units)
    assert mask.loc[11, "students_primary"] and not mask.loc[10, "students_primary"]


def test_missing_columns_use_rates_and_custom_rate():
    std = Standards(rate_primary=0.1)
    units = pd.DataFrame({"population": [4000.0, np.nan, -5.0]})
    out = students_by_level(units, std)
    assert out["students_primary"].tolist() == [pytest.approx(400.0), 0.0, 0.0]


@given(
    st.lists(
        st.tuples(
            st.floats(0, 1e6, allow_nan=False),
            st.one_of(st.none(), st.floats(0, 1e5, allow_nan=False)),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_never_negative_and_given_wins(rows):
    std = Standards()
    pop = [r[0] for r in rows]
    given_p = [np.nan if r[1] is None else r[1] for r in rows]
    units = pd.DataFrame({"population": pop, "students_primary": given_p})
    out = students_by_level(units, std)
    assert (out.to_numpy() >= 0).all()
    for i, g in enumerate(given_p):
        expect = pop[i] * std.rate_primary if np.isnan(g) else g
        assert out["students_primary"].iloc[i] == pytest.approx(expect)
