"""Print bench_customers.py results as Markdown tables (for docs/benchmarks.md).

.venv/bin/python bench/report.py bench/results/postgresql-1m.json [more.json …]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def table(document: dict[str, Any]) -> str:
    facts = document["database"]
    machine = document["machine"]
    lines = [
        f"**{facts['vendor']} {facts['version']}**, {facts['customer']:,} customers, "
        f"code {document.get('code', '?')}, {document['runs']} runs, measured "
        f"{document['measured_at']}, load average {machine['loadavg_before'][0]} → "
        f"{machine['loadavg_after'][0]} on {machine['cpus']} CPUs",
        "",
        "| case | user | HTTP p50 | HTTP p95 | CPU p50 | raw p50 | raw p95 | HTTP/raw p95 "
        "| target p95 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, case in document["cases"].items():
        if name == "import":
            continue
        for user in ("admin", "manager"):
            result = case[user]
            mark = "" if result["ok"] else " ✗"
            cpu = result.get("http_cpu", {}).get("p50")
            lines.append(
                f"| {name} | {user} | {result['http']['p50']:.1f} | "
                f"{result['http']['p95']:.1f}{mark} | {'–' if cpu is None else f'{cpu:.1f}'} | "
                f"{result['raw']['p50']:.2f} | "
                f"{result['raw']['p95']:.2f} | {result['ratio']} | {result['target_ms']:.0f} |"
            )
    imported = document["cases"].get("import")
    if isinstance(imported, dict):
        seconds, rates = imported["seconds"], imported["rows_per_s"]
        lines += [
            "",
            f"Import of {imported['rows']:,} rows ({imported['created']:,} created, "
            f"{imported['skipped']:,} skipped, {imported['errors']} errors): dry run "
            f"{seconds['analyse']} s ({rates['analyse']:,} rows/s), run {seconds['run']} s "
            f"({rates['run']:,} rows/s), revert {seconds.get('revert', '–')} s; the bare "
            f"database inserts the same number of customer rows at {rates['raw_insert']:,} "
            f"rows/s (run/raw {imported['ratio_run_to_raw']}×)"
            + (
                f"; measured in an earlier run of code {imported['code']} at "
                f"{imported['measured_at']}, load average {imported['loadavg'][0]}."
                if "measured_at" in imported
                else "."
            ),
        ]
    elif imported:
        lines += ["", f"Import: {imported}."]
    return "\n".join(lines)


def main() -> None:
    for path in sys.argv[1:]:
        print(table(json.loads(Path(path).read_text(encoding="utf-8"))))
        print()


if __name__ == "__main__":
    main()
