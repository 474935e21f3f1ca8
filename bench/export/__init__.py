"""``normbench export``: a run's records where experiments are already tracked.

- :mod:`bench.export.to_mlflow`: one MLflow run per case, nested under a parent run per suite
- :mod:`bench.export.to_parquet`: one table of records, its columns typed by the field table
- :mod:`bench.export.parts`: a record split into parameters, metrics (with per-epoch series) and tags
- :mod:`bench.export.resolved`: each case's fully resolved configuration, rebuilt from run.json

MLflow and pyarrow are the optional ``export`` extra (the default install stays lean); they are
imported only by the exporter that needs them, through :func:`bench.export.extra.require`.
"""
