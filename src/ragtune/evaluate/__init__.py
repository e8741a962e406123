"""Evaluation: strategies, metrics, the comparison experiment, the advisor and the report."""
