"""Geographic layers of SchoolPlan: reading, column recognition, CRS, checks, distances, roads."""
