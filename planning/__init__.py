"""Planning engines of SchoolPlan: rules, grouping, new schools, catchments, scenarios, metrics.

Nothing here imports Qt, folium or ``app``: the engines run the same from the CLI, the GUI and a
batch worker.
"""
