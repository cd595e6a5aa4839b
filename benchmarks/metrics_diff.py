"""Are two runs' figures the same? ``python -m benchmarks.metrics_diff REPORTS_A REPORTS_B``
compares every ``<period>/<report>/metrics.json`` of two reports folders, ignoring
``generated_at`` and strings holding a path of either folder, and prints the keys that
differ (exit status 1 when any does)."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _strip(o, roots: tuple[str, ...]):
    if isinstance(o, dict):
        return {k: _strip(v, roots) for k, v in o.items() if k != "generated_at"
                and not (isinstance(v, str) and any(r in v for r in roots))}
    if isinstance(o, list):
        return [_strip(x, roots) for x in o]
    return o


def main(a: Path, b: Path) -> int:
    roots = (str(a.resolve()), str(b.resolve()))
    bad = 0
    files = sorted(a.glob("*/*/metrics.json"))
    for f in files:
        g = b / f.relative_to(a)
        x = _strip(json.loads(f.read_text(encoding="utf-8")), roots)
        y = _strip(json.loads(g.read_text(encoding="utf-8")), roots) if g.exists() else None
        keys = [] if x == y else ["(missing)"] if y is None else \
            [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
        bad += bool(keys)
        print(f"{f.relative_to(a).parent}: {'equal' if not keys else 'differs: ' + ', '.join(keys)}")
    print(f"{len(files)} reports, {bad} differ")
    return 1 if bad or not files else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
