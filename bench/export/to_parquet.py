"""A run's records as one Parquet table, each column typed by the field table.

One row per record, one column per record field in the field table's order
(:mod:`bench.results.fields`): text -> string, integer -> int64, number -> float64, bool -> bool,
each nullable; list, mapping and timing fields -> their JSON text (grid axes differ between suites,
so no one nested type fits every row). Each column carries its field's description, unit and better
direction as Parquet field metadata, and pandas reads the columns back as the same nullable dtypes
(``Int64``, ``Float64``, ``boolean``, ``string``). A key a record has that the field table does not
know (a newer normbench's field) becomes one more JSON text column after the known ones.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.export.extra import require
from bench.results.fields import FIELDS, Field
from bench.results.store import RunStore, clean

OUTPUT = "records.parquet"  # default: inside the run directory
DTYPES = {"text": "string", "integer": "Int64", "number": "Float64", "bool": "boolean"}  # else JSON text


def dtype(spec: Field | None) -> str:
    """The pandas dtype of a field's column (``string`` for JSON text)."""
    return DTYPES.get(spec.type, "string") if spec else "string"


def records_table(records: list[dict[str, Any]]):
    """The records as a typed DataFrame and one line per value that did not fit its field's type
    (a hand-edited or corrupt record: the cell is left empty, the rest of the record is kept)."""
    import pandas as pd
    extra = list(dict.fromkeys(key for record in records for key in record if key not in FIELDS))
    columns, problems = {}, []
    for name in [*FIELDS, *extra]:
        spec = FIELDS.get(name)
        cells = []
        for record in records:
            value, ok = _cell(spec, record.get(name))
            cells.append(value)
            if not ok:
                problems.append(f"{record.get('case_id')}: {name}: {record.get(name)!r} is not of type "
                                f"{spec.type}; left empty")
        columns[name] = pd.array(cells, dtype=dtype(spec))
    return pd.DataFrame(columns), problems


def export_parquet(store: RunStore, out: Path | None = None) -> tuple[Path, int, list[str]]:
    """Write ``store``'s records to ``out`` (default ``<run>/records.parquet``), replacing it
    atomically; returns the path, the row count and the problems met on the way."""
    pa = require("pyarrow", "normbench export --to parquet")
    parquet = require("pyarrow.parquet", "normbench export --to parquet")
    loaded = store.load()
    frame, problems = records_table(loaded.records)
    schema = pa.schema([_column(pa, name) for name in frame.columns])
    table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    info = store.read_info()
    table = table.replace_schema_metadata({
        **(table.schema.metadata or {}),
        b"normbench.run_id": str(info.get("run_id") or store.run_id).encode(),
        b"normbench.run": json.dumps(clean({k: info.get(k) for k in ("machine", "commit", "quick", "framework",
                                                                     "started_at", "finished_at")})).encode(),
    })
    out = Path(out) if out is not None else store.path / OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    os.close(fd)
    try:
        parquet.write_table(table, tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out, len(frame), [*loaded.problems, *problems]


def _column(pa, name: str):
    spec = FIELDS.get(name)
    kind = {"text": pa.string(), "integer": pa.int64(), "number": pa.float64(), "bool": pa.bool_()}
    meta = {"description": spec.description, "type": spec.type, "unit": spec.unit or "",
            "better": spec.better or ""} if spec else {"description": "not in this normbench's field table"}
    return pa.field(name, kind.get(spec.type, pa.string()) if spec else pa.string(), nullable=True,
                    metadata={k: v.encode() for k, v in meta.items()})


def _cell(spec: Field | None, value: Any) -> tuple[Any, bool]:
    """``value`` in its column's type, and whether it fitted (null always fits)."""
    if value is None:
        return None, True
    kind = spec.type if spec else "list"
    if kind == "text":
        return str(value), True
    if kind == "bool":
        return (value, True) if isinstance(value, bool) else (None, False)
    if kind in ("integer", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None, False
        if kind == "integer":
            return (int(value), True) if float(value).is_integer() else (None, False)
        return float(value), True
    return json.dumps(value, sort_keys=True, default=str), True
