"""Wall time of validating a tool, and how much of it is the validator's own overhead.

Two figures per round, each of a real ``pixie-validate`` run over the small example tool:
the full run (checks 1-20 without fuzz) and that time minus the tool's own time to ready, i.e.
what the validator itself costs. The conformance kit's wall time (``pytest --pixie-conformance``)
is measured the same way. Targets come from the validator and conformance issues.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import machine, progress, timestamp
from pixie_validate.api import validate

NAME = "validate_time"
ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "examples" / "compound-interest"
#: Rounds per figure: the median of five is steady on this machine; more only adds minutes.
ROUNDS = 5
#: Validator issue: a full run without fuzz within 2.5 s.
FULL_RUN_TARGET_SECONDS = 2.5
#: Validator issue: the validator's own overhead (full run minus the tool's time to ready) within 0.5 s.
OVERHEAD_TARGET_SECONDS = 0.5
#: Conformance issue: `pytest --pixie-conformance` of the small example within 5 s without fuzz.
CONFORMANCE_TARGET_SECONDS = 5.0
#: A conformance run that takes longer than this is broken, not slow.
CONFORMANCE_TIMEOUT_SECONDS = 120


def _validation_round() -> tuple[float, float]:
    started = time.perf_counter()
    report = validate(TOOL)
    wall = time.perf_counter() - started
    if report.overall == "fail":
        raise RuntimeError(f"the example failed validation: {[c.message for c in report.checks if c.status == 'fail']}")
    return wall, (report.time_to_ready_ms or 0.0) / 1000


#: pytest loads every installed plugin at start-up: schemathesis's and hypothesis's (present here through the
#: `dev` and `fuzz` extras) cost ~3 s of imports on every pytest run, fuzzing or not. A tool's own venv has
#: only this kit and pytest, so that is the main figure; the other is recorded beside it.
WITHOUT_SCHEMATHESIS_PLUGIN = ["-p", "no:schemathesis", "-p", "no:hypothesispytest"]


def _conformance_round(workdir: Path, extra: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--pixie-conformance", str(TOOL), "-q", "-p", "no:cacheprovider",
         "--rootdir", str(workdir), "-c", str(workdir / "pytest.ini"), *extra],
        capture_output=True, text=True, timeout=CONFORMANCE_TIMEOUT_SECONDS, cwd=workdir,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"the conformance run failed:\n{proc.stdout[-2000:]}")
    return wall


def run() -> dict[str, Any]:
    """Measure and return the result document."""
    fulls: list[float] = []
    overheads: list[float] = []
    readies: list[float] = []
    for n in range(ROUNDS):
        wall, ready = _validation_round()
        fulls.append(wall)
        readies.append(ready)
        overheads.append(wall - ready)
        progress(f"{NAME}: validation round {n + 1}: {wall:.2f} s (ready {ready:.2f} s)")
    conformance: list[float] = []
    with_schemathesis: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "pytest.ini").write_text("[pytest]\n")
        for n in range(ROUNDS):
            conformance.append(_conformance_round(workdir, WITHOUT_SCHEMATHESIS_PLUGIN))
            with_schemathesis.append(_conformance_round(workdir, []))
            progress(f"{NAME}: conformance round {n + 1}: {conformance[-1]:.2f} s "
                     f"({with_schemathesis[-1]:.2f} s with the fuzzing stack's pytest plugins)")  # fmt: skip
    full, overhead, conf = statistics.median(fulls), statistics.median(overheads), statistics.median(conformance)
    return {
        "benchmark": NAME,
        "description": "pixie-validate of examples/compound-interest (no fuzz), and pytest --pixie-conformance of it",
        "timestamp": timestamp(),
        "machine": machine(),
        "parameters": {"rounds": ROUNDS, "tool": str(TOOL.relative_to(ROOT))},
        "validation": {
            "full_run_s": {"median": round(full, 3), "all": [round(x, 3) for x in fulls]},
            "time_to_ready_s": {"median": round(statistics.median(readies), 3), "all": [round(x, 3) for x in readies]},
            "overhead_s": {"median": round(overhead, 3), "all": [round(x, 3) for x in overheads]},
        },
        "conformance": {
            "wall_s": {"median": round(conf, 3), "all": [round(x, 3) for x in conformance]},
            "wall_s_with_schemathesis_and_hypothesis_plugins": {
                "median": round(statistics.median(with_schemathesis), 3),
                "all": [round(x, 3) for x in with_schemathesis],
            },
        },
        "target": {
            "full_run_s_max": FULL_RUN_TARGET_SECONDS,
            "overhead_s_max": OVERHEAD_TARGET_SECONDS,
            "conformance_s_max": CONFORMANCE_TARGET_SECONDS,
        },  # fmt: skip
        "met": full <= FULL_RUN_TARGET_SECONDS
        and overhead <= OVERHEAD_TARGET_SECONDS
        and conf <= CONFORMANCE_TARGET_SECONDS,
    }
