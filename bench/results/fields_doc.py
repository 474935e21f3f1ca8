"""The docs' record-field reference, generated from the field table (never written by hand).

``python -m bench.results.fields_doc`` rewrites ``docs/reference/fields.md``; a test fails when the
committed page differs from what this renders, so the page cannot drift from the code.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bench.results.fields import FIELDS, PLACES
from bench.results.records import RENAMED, SCHEMA_VERSION

PAGE = Path("docs/reference/fields.md")


def render() -> str:
    lines = [
        "# Record fields",
        "",
        "<!-- Generated from bench/results/fields.py by `python -m bench.results.fields_doc`; do not edit. -->",
        "",
        f"Every case becomes one flat JSON record in `cases.jsonl` (schema version {SCHEMA_VERSION}). Each "
        "field is listed with its JSON type, its unit, which direction is better (for measurements) and where "
        f"the report shows it besides the record ({', '.join(PLACES)}). Missing values are `null`.",
        "",
        "| field | type | unit | better | shown in | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for name, field in FIELDS.items():
        cells = [f"`{name}`", field.type, field.unit or "", field.better or "", ", ".join(field.shown),
                 field.description.replace("|", "\\|")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Renamed fields", "",
              "Older records are read with these fields under their new names (`bench/results/records.py`, "
              "`upgrade`):", ""]
    lines += [f"- schema {version}: `{old}` is now `{new}`" for version, old, new in RENAMED]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    path = Path((argv or sys.argv[1:] or [str(PAGE)])[0])
    path.write_text(render())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
