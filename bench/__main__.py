"""``python -m bench [NAME ...] [--profile] [--check]``: run benchmarks, print one JSON document."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from bench import host_proxy, mcp_call, sdk_vs_plain, validate_time
from bench._common import progress, write_result

#: Every benchmark by name, in the order ``python -m bench`` runs them.
BENCHMARKS: dict[str, Callable[[bool], dict[str, Any]]] = {
    sdk_vs_plain.NAME: lambda profile: sdk_vs_plain.run(sdk_vs_plain.Params(profile=profile)),
    validate_time.NAME: lambda profile: validate_time.run(),
    host_proxy.NAME: lambda profile: host_proxy.run(),
    mcp_call.NAME: lambda profile: mcp_call.run(),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"benchmarks to run (default: all): {list(BENCHMARKS)}"
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the tools under cProfile; summarise where time goes"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a benchmark misses its target")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; known: {list(BENCHMARKS)}")
    results = []
    for name in args.names or list(BENCHMARKS):
        result = BENCHMARKS[name](args.profile)
        path = write_result(name, result)
        progress(f"{name}: written to {path}")
        results.append(result)
    document = {"benchmarks": results, "met": all(r.get("met", True) for r in results)}
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if args.check and not document["met"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
