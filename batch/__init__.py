"""Plan many counties at once, on a local process pool or a Dask distributed cluster.

``jobs`` reads the county list, ``tasks`` bundles each county into a self-contained task,
``worker`` plans one task, ``runner`` hands tasks out, saves outcomes and skips counties already
done, ``summary`` writes batch_summary.csv. Above ``store/``: a county's plan is written by
``store.plan.write_plan``.
"""
