"""The HTML report: a pure function of a run's records and run.json. Never imports TensorFlow."""

from report.render import render_report, write_report

__all__ = ["render_report", "write_report"]
