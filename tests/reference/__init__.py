"""Differential tests: each parser against the real program that reads the same files (issue 10)."""
