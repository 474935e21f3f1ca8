"""Judging records: statistics, verdicts, the headline-kind registry, seed planning, run comparison.

Below both the engine (which plans more seeds from it) and the report (which renders it); never imports
TensorFlow, the executors or the report.
"""
