"""The ``--pixie-conformance`` pytest plugin, and the ``pixie_tool`` fixture for a tool's own tests.

Registered through the ``pytest11`` entry point. Without ``--pixie-conformance`` it only adds
its options and the fixture, and imports nothing heavy. With it, every ``tool.json`` collected
becomes a collector that owns one tool process (the static checks and the spawn run in its
setup; teardown stops it), with one item per runtime check from the validator's registry
(``<tool-id>::07-schema-drift``), so ``-k``, ``-x``, ``--lf``, xdist and JUnit XML behave as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pixie_validate.context import CheckContext, ValidateOptions
    from pixie_validate.findings import CheckResult
    from pixie_validate.registry import CheckSpec
    from pixie_validate.tool_client import StartedTool

__all__ = [
    "ConformanceFailure",
    "PixieConformanceWarning",
    "pixie_tool",
    "pytest_addoption",
    "pytest_configure",
]

#: Checks run in the collector's setup as gates, not as items: they read files only.
STATIC_GATES = ("1", "2", "3", "4", "5")
#: The check that starts the tool: run in setup, reported by its own item.
SPAWN_CHECK = 6
#: Characters of the tool's output attached to a failure.
OUTPUT_TAIL_CHARS = 3000
#: The fuzz check, whose failing requests are saved for replay.
FUZZ_CHECK = 16
#: Where replay scripts go, under the rootdir.
REPLAY_DIR = ".pixie/fuzz"


class ConformanceFailure(AssertionError):
    """A conformance check failed; carries the check's result for ``repr_failure``."""

    def __init__(self, result: CheckResult) -> None:
        super().__init__(result.message)
        self.result = result


class PixieConformanceWarning(UserWarning):
    """A conformance check warned (visible in pytest's warnings summary)."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pixie", "Pixie tool conformance")
    group.addoption("--pixie-conformance", action="store_true", default=False,
                    help="run the Pixie contract checks on every tool.json collected")  # fmt: skip
    group.addoption("--pixie-timeout", type=float, default=None, help="start-up deadline in seconds (default 30)")
    group.addoption("--pixie-select", action="append", default=[], help="only these checks (number, name, prefix)")
    group.addoption("--pixie-ignore", action="append", default=[], help="skip these checks (number, name, prefix)")
    group.addoption("--pixie-fuzz", action="store_true", default=False, help="also run check 16 (schemathesis)")
    group.addoption("--pixie-python", default=None, help="interpreter to run the tools with")
    parser.addini("pixie_tools", type="args", default=[], help="tool folders to check when no path is given")
    parser.addini("pixie_conformance_xfail", type="args", default=[],
                  help="checks known to fail (numbers or names), or a file listing them; a listed check "
                       "that passes fails the run (stale baseline)")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "pixie_tool(path): the tool folder the pixie_tool fixture starts")
    # Registered here too: without pytest-xdist (a tool's own venv) the mark would warn as unknown.
    config.addinivalue_line("markers", "xdist_group(name): conformance items of one tool share a worker")
    if config.getoption("pixie_conformance"):
        config.pluginmanager.register(ConformancePlugin(config), "pixie-conformance")


def _baseline(config: pytest.Config) -> set[int]:
    from pixie_validate.checks import REGISTRY

    tokens: list[str] = list(config.getini("pixie_conformance_xfail"))
    if len(tokens) == 1 and (config.rootpath / tokens[0]).is_file():
        text = (config.rootpath / tokens[0]).read_text()
        tokens = [t for line in text.splitlines() for t in line.split("#", 1)[0].split()]
    numbers: set[int] = set()
    for token in tokens:
        try:
            numbers.update(s.number for s in REGISTRY.resolve(token))
        except KeyError as exc:
            raise pytest.UsageError(f"pixie_conformance_xfail: {exc.args[0]}") from None
    return numbers


class ConformancePlugin:
    """Collects each ``tool.json`` as a tool under test."""

    def __init__(self, config: pytest.Config) -> None:
        from pixie_validate.context import ValidateOptions

        self.config = config
        self.options = ValidateOptions(
            select=config.getoption("pixie_select"),
            ignore=config.getoption("pixie_ignore"),
            fuzz=config.getoption("pixie_fuzz"),
            timeout=config.getoption("pixie_timeout"),
            python=config.getoption("pixie_python"),
        )
        # What the command line said itself; for the rest each tool's [tool.pixie.validate] applies.
        given = {"select": self.options.select, "ignore": self.options.ignore, "fuzz": self.options.fuzz,
                 "timeout": self.options.timeout is not None, "python": self.options.python is not None}  # fmt: skip
        self.cli_set = {key for key, value in given.items() if value}
        self.baseline = _baseline(config)
        tools = config.getini("pixie_tools")
        if tools and config.args == [str(config.invocation_params.dir)]:
            config.args[:] = [str(config.rootpath / t) for t in tools]

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        if file_path.name == "tool.json":
            return ToolFile.from_parent(parent, path=file_path, plugin=self)
        return None


class ToolFile(pytest.File):
    """A tool.json: yields one collector for the tool it describes."""

    def __init__(self, *, plugin: ConformancePlugin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin

    def collect(self) -> Iterator[pytest.Item | pytest.Collector]:
        import json

        try:
            tool_id = str(json.loads(self.path.read_text())["id"])
        except (OSError, ValueError, KeyError, TypeError):
            tool_id = self.path.parent.name
        yield ToolCollector.from_parent(self, name=tool_id, plugin=self.plugin)


class ToolCollector(pytest.Collector):
    """One tool under test: owns its process for all its items."""

    def __init__(self, *, plugin: ConformancePlugin, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plugin = plugin
        self.folder = self.path.parent
        self.ctx: CheckContext | None = None
        self.results: dict[int, CheckResult] = {}
        self.options: ValidateOptions | None = None

    def collect(self) -> Iterator[pytest.Item]:
        from pixie_validate.api import resolve_options
        from pixie_validate.checks import REGISTRY
        from pixie_validate.engine import execution_order
        from pixie_validate.errors import UnknownCheckError

        try:
            self.options = options = resolve_options(self.folder, self.plugin.options, self.plugin.cli_set)
        except (UnknownCheckError, ValueError) as exc:
            raise self.CollectError(f"{self.folder / 'pyproject.toml'} [tool.pixie.validate]: {exc}") from None
        selected = REGISTRY.select(options.select, options.ignore, opt_in=[16] if options.fuzz else [])
        for spec in execution_order(REGISTRY, selected):
            if spec.kind == "runtime":
                item = ConformanceItem.from_parent(self, name=spec.slug, spec=spec)
                item.add_marker(pytest.mark.xdist_group(self.name))  # one tool per worker with --dist loadgroup
                yield item

    def setup(self) -> None:
        from pixie_validate.checks import REGISTRY
        from pixie_validate.context import CheckContext
        from pixie_validate.engine import run_one

        assert self.options is not None, "collected first"
        self.ctx = CheckContext(self.folder, self.options)
        for number in (*map(int, STATIC_GATES), SPAWN_CHECK):
            spec = REGISTRY.get(number)
            self.results[number] = result = run_one(self.ctx, spec, self.results)
            if spec.kind == "static" and result.status == "fail":
                raise pytest.fail.Exception(f"{self.name}: static check failed, the tool cannot be started:\n"
                                            f"{_render(result)}", pytrace=False)  # fmt: skip

    def teardown(self) -> None:
        ctx = self.ctx
        if ctx is not None:
            if ctx.process is not None and not ctx.stopped:
                ctx.process.stop()
            if ctx.client is not None:
                ctx.client.close()


def _render(result: CheckResult) -> str:
    lines = [f"{result.number:02d} {result.name} [{result.severity}] {result.status}: {result.message}"]
    for f in result.findings:
        lines.append(f"  - [{f.severity}] {f.message}")
        if f.details:
            lines.extend(f"      {line}" for line in f.details.splitlines()[:40])
        if f.request:
            lines.append(f"      reproduce: {f.request}")
    lines.append(f"  fix: {result.fix}")
    return "\n".join(lines)


class ConformanceItem(pytest.Item):
    """One runtime check of one tool."""

    def __init__(self, *, spec: CheckSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.replay_file: Path | None = None

    @property
    def tool(self) -> ToolCollector:
        assert isinstance(self.parent, ToolCollector)
        return self.parent

    def runtest(self) -> None:
        from pixie_validate.engine import run_one

        tool = self.tool
        assert tool.ctx is not None
        from pixie_validate.checks import REGISTRY

        # Checks this one needs run first even when -k deselected their items (8 before 9-16).
        for number in (*self.spec.requires, self.spec.number):
            if number not in tool.results:
                tool.results[number] = run_one(tool.ctx, REGISTRY.get(number), tool.results)
        result = tool.results[self.spec.number]
        if self.spec.number == FUZZ_CHECK:
            base = tool.ctx.client.base_url if tool.ctx.client is not None else None
            self.replay_file = _save_replay(self.config.rootpath, tool.name, result, base)
        expected_to_fail = self.spec.number in tool.plugin.baseline
        if result.status == "skip":
            raise pytest.skip.Exception(result.message, _use_item_location=True)
        if result.status == "fail":
            if expected_to_fail:
                pytest.xfail(f"known gap (pixie_conformance_xfail): {result.message}")
            raise ConformanceFailure(result)
        if expected_to_fail:
            raise pytest.fail.Exception(
                f"check {self.spec.number} ({self.spec.name}) passes now: remove it from pixie_conformance_xfail "
                "(stale baseline)", pytrace=False)  # fmt: skip
        if result.status == "warn":
            if tool.options is not None and tool.options.strict:  # as `pixie-validate --strict`: a warning fails
                raise ConformanceFailure(result)
            self.warn(PixieConformanceWarning(f"{self.tool.name}: {self.spec.slug}: {result.message}"))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure):
            text = _render(excinfo.value.result)
            ctx = self.tool.ctx
            tail = ctx.output_tail(OUTPUT_TAIL_CHARS) if ctx is not None else ""
            if tail.strip():
                text += "\n\n--- tool output (tail) ---\n" + tail
            if self.replay_file is not None:
                text += f"\n\nreplay the failing requests: sh {self.replay_file}"
            return text
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.tool.path, 0, f"{self.tool.name}::{self.spec.slug}: {self.spec.summary}"


def _save_replay(root: Path, tool_id: str, result: CheckResult, base_url: str | None) -> Path | None:
    """Write the failing fuzz requests as a shell script of curl commands; None when there are none.

    The tool's address is ``$PIXIE_TOOL_URL`` (the port of this run is gone once pytest ends).
    """
    failing = [f for f in result.findings if f.request and f.severity == "error"]
    if not failing:
        return None
    lines = ["#!/bin/sh", f"# Requests that check 16 (fuzz) found failing for {tool_id}.",
             "# Start the tool (python main.py --port 8000) and run: PIXIE_TOOL_URL=http://127.0.0.1:8000 sh this-file",
             'set -x']  # fmt: skip
    for finding in failing:
        request = str(finding.request)
        if base_url:  # works whether shlex quoted the URL or not: "$VAR"'/rest' is one shell word
            request = request.replace(f"'{base_url}", '"$PIXIE_TOOL_URL"\'').replace(base_url, '"$PIXIE_TOOL_URL"')
        lines += [f"# {finding.message}", request]
    path = root / REPLAY_DIR / f"{tool_id}.sh"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _tool_folder(request: pytest.FixtureRequest) -> Path:
    marker = request.node.get_closest_marker("pixie_tool")
    if marker is not None and marker.args:
        return (request.config.rootpath / str(marker.args[0])).resolve()
    here = Path(str(request.node.path)).resolve().parent
    for folder in (here, *here.parents):
        if (folder / "tool.json").is_file():
            return folder
    raise pytest.UsageError(
        "pixie_tool: no tool.json beside or above this test; mark the test with @pytest.mark.pixie_tool('path')"
    )


@pytest.fixture(scope="session")
def _pixie_tools(request: pytest.FixtureRequest) -> Iterator[dict[Path, StartedTool]]:
    started: dict[Path, StartedTool] = {}
    yield started
    for tool in started.values():
        tool.stop()


@pytest.fixture
def pixie_tool(request: pytest.FixtureRequest, _pixie_tools: dict[Path, StartedTool]) -> StartedTool:
    """The tool this test belongs to, started once per session, with a typed client.

    ``pixie_tool.run(inputs)`` returns the outputs (raising ``RunFailed`` with the error
    envelope otherwise); ``stream(inputs)``, ``cancel(run_id)``, ``schema()`` and ``manifest``.
    """
    from pixie_validate.tool_client import StartedTool

    folder = _tool_folder(request)
    if folder not in _pixie_tools or not _pixie_tools[folder].alive:
        python = request.config.getoption("pixie_python", None)
        _pixie_tools[folder] = StartedTool.start(folder, python=python)
    return _pixie_tools[folder]
