"""`python -m benchmarks [--quick] [NAME ...]`: run the benchmarks, print one table, save JSON results."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
import traceback
from pathlib import Path

from benchmarks.harness import Section, render, save


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("names", nargs="*", help="Run only these (e.g. generation retrieval); default: all.")
    parser.add_argument("--quick", action="store_true", help="Smaller inputs, for a smoke run.")
    args = parser.parse_args()
    here = Path(__file__).parent
    modules = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if args.names:
        wanted = {n.replace("-", "_") for n in args.names}  # `reader-loss` names bench_reader_loss
        modules = [m for m in modules if m.removeprefix("bench_") in wanted or m in wanted]
        if not modules:
            parser.error(f"no benchmark named {args.names}")
    sections: list[Section] = []
    failed = 0
    for name in modules:
        print(f"== {name} ...", flush=True)
        start = time.perf_counter()
        try:
            section: Section = importlib.import_module(f"benchmarks.{name}").run(quick=args.quick)
        except Exception:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed += 1
            section = Section(title=f"{name}: FAILED", notes=["see the traceback above"])
        section.seconds = time.perf_counter() - start
        sections.append(section)
        print(render([section]), flush=True)
    print("\n\n## All benchmarks\n" + render(sections))
    tag = "quick" if args.quick else "latest"
    print(f"\nJSON results: {save(sections, tag if not args.names else tag + '-' + '-'.join(args.names))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
