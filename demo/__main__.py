"""`python -m demo [--data-dir data] [--dagster-home .dagster] [--quick]` (what `make demo` runs).

Exit code 0 when every Dagster run succeeded, every asset check of severity ERROR passed, the
write-back outcomes are the expected ones and the warehouse equals the sandbox's ground truth.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from demo.run import Demo, DemoError
from demo.summary import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default="data", help="where the warehouse and demo config go")
    parser.add_argument("--dagster-home", default=".dagster", help="the Dagster instance (DAGSTER_HOME)")
    parser.add_argument("--quick", action="store_true", help="smaller books for the large tenant (tests)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON (tests)")
    args = parser.parse_args(argv)
    try:
        results = Demo(Path(args.data_dir), Path(args.dagster_home), quick=args.quick).run()
    except DemoError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    print(render(results), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(results), default=str, indent=1), encoding="utf-8")
    return 1 if results.problems else 0


if __name__ == "__main__":
    sys.exit(main())
