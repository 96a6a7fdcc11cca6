"""Run a tool's ``main.py`` under cProfile, every thread included; the stats go to ``$PIXIE_BENCH_PROFILE``.

Used only by the bench harness (``python -m bench sdk_vs_plain --profile``):
``python bench/_profiled_tool.py path/to/main.py --port N``. The tool itself is untouched: it
runs as ``__main__`` exactly as ``python main.py`` would. On SIGTERM uvicorn shuts down and
re-raises the signal, which becomes a ``SystemExit`` here; then the profiles of the event-loop
thread and the threadpool workers are merged and written.
"""

from __future__ import annotations

import contextlib
import cProfile
import os
import pstats
import runpy
import signal
import sys
import threading
from types import FrameType
from typing import Any

#: The environment variable naming the .pstats file to write.
PROFILE_ENV = "PIXIE_BENCH_PROFILE"

_thread_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()


def _start_in_thread(frame: FrameType, event: str, arg: Any) -> None:
    # threading calls this on a new thread's first event; enabling cProfile replaces the hook for that thread.
    prof = cProfile.Profile()
    with _lock:
        _thread_profiles.append(prof)
    prof.enable()


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    out = os.environ[PROFILE_ENV]
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    # uvicorn re-raises the SIGTERM it caught once it has shut down; exiting by exception lets `finally` dump.
    signal.signal(signal.SIGTERM, _exit_quietly)
    threading.setprofile(_start_in_thread)
    prof = cProfile.Profile()
    prof.enable()
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        prof.disable()
        threading.setprofile(None)
        stats = pstats.Stats(prof)
        with _lock:
            for other in _thread_profiles:
                with contextlib.suppress(TypeError, ValueError):  # a profile with nothing recorded
                    stats.add(other)
        stats.dump_stats(out)


if __name__ == "__main__":
    main()
