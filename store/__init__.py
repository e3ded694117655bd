"""Storage: plans (plan.gpkg + summary.json) and scenario folders on disk, written atomically,
with the migrations of older scenario layouts. Above ``planning/``: it stores what the engines
produce; the engines never write a file."""
