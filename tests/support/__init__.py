"""Test doubles and reference engines shared by tests and benchmarks (never imported by product code)."""
