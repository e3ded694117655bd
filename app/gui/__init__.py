"""The desktop planner (PyQt6). Every Qt import of SchoolPlan lives under ``app/``; threads only in
``app/gui/workers.py``."""
