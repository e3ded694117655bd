"""SchoolPlan applications: the command line, exports and the Qt desktop window."""

__version__ = "0.1.0"
