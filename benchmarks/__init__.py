"""Benchmarks run by hand or by ``make bench``; the quality gate test imports their functions."""
