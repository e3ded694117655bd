"""Projection of school-age children to the horizon (近期 / 远期), pure: numpy and pandas.

``params`` declares the ``[projection]`` rules (it imports nothing of ``planning`` so the rules
can hold it); ``tables`` reads and checks the birth tables; ``cohorts`` is the numeric core;
``engine`` has ``run_projection``, ``ProjectionResult`` and ``layers_for_year``.
"""

from planning.projection.params import ProjectionParams

__all__ = ["ProjectionParams"]
