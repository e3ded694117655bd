"""Benchmarks: `make bench` (= .venv/bin/python bench/run_all.py) writes bench/RESULTS.md."""
