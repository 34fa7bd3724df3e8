"""Run every benchmark module of this package (``python -m bench [--full] [NAME ...]``)."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import time

import bench


def discover() -> list[str]:
    """Names of the ``bench_*`` modules, sorted."""
    return sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )


def main(argv: list[str]) -> int:
    """Run the selected (default: all) benchmarks; exit 1 if one of them raised."""
    names = discover()
    if "--full" in argv:
        os.environ[bench.FULL_ENV] = "1"
        argv = [a for a in argv if a != "--full"]
    if argv:
        wanted = {a.removeprefix("bench_") for a in argv}
        names = [n for n in names if n.removeprefix("bench_") in wanted]
    failed = 0
    for name in names:
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            lines = module.run()
        except Exception as exc:  # one failing benchmark must not hide the others
            failed += 1
            print(f"   FAILED: {type(exc).__name__}: {exc}", flush=True)
            continue
        for line in lines:
            print(f"   {line}", flush=True)
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
