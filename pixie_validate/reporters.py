"""Reporters: turn reports into rich text, JSON or GitHub annotations. They only read reports."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.theme import Theme

from pixie_validate.findings import REPORT_SCHEMA_VERSION, Report

__all__ = ["REPORTERS", "THEME", "make_console", "render_github", "render_json", "render_rich", "summary"]

THEME = Theme(
    {
        "px.pass": "green",
        "px.fail": "bold red",
        "px.warn": "yellow",
        "px.skip": "dim",
        "px.info": "cyan",
        "px.code": "bold",
        "px.hint": "dim",
        "px.tool": "bold magenta",
    }
)
_MARK = {"pass": "✓", "fail": "✗", "warn": "!", "skip": "-"}


def make_console(file: IO[str] | None = None, *, stderr: bool = False) -> Console:
    """A console with the kit's theme; no wrapping when not on a terminal, and NO_COLOR respected."""
    console = Console(file=file, stderr=stderr, theme=THEME, no_color=bool(os.environ.get("NO_COLOR")) or None)
    console.soft_wrap = not console.is_terminal
    return console


def summary(reports: list[Report]) -> dict[str, Any]:
    """Counts summed over reports, and the overall verdict."""
    counts = {s: sum(r.counts.get(s, 0) for r in reports) for s in ("pass", "warn", "fail", "skip")}
    overall = "fail" if any(r.overall == "fail" for r in reports) else (
        "warn" if any(r.overall == "warn" for r in reports) else "pass")  # fmt: skip
    return {"overall": overall, "counts": counts, "tools": len(reports)}


def render_rich(reports: list[Report], out: IO[str]) -> None:
    """One line per check (number, name, severity, message), a dim fix line under problems, a summary line."""
    console = make_console(out)
    for report in reports:
        console.print(f"[px.tool]{escape(report.tool_id)}[/]  [px.hint]{escape(report.tool_path)}[/]")
        for c in report.checks:
            style = f"px.{c.status}"
            severity = "" if c.status in ("pass", "skip") else f" [{style}]{c.severity}[/]"
            console.print(
                f"  [{style}]{_MARK[c.status]}[/] [px.code]{c.number:02d} {c.name}[/]{severity}  {escape(c.message)}"
            )
            if c.status in ("fail", "warn"):
                for f in c.findings[1:6] if len(c.findings) > 1 else []:
                    console.print(f"      [{style}]·[/] {escape(f.message)}")
                request = next((f.request for f in c.findings if f.request), None)
                if request:
                    console.print(f"      [px.hint]reproduce: {escape(request)}[/]")
                console.print(f"      [px.hint]fix: {escape(c.fix)}[/]")
        ready = f", ready in {report.time_to_ready_ms:.0f} ms" if report.time_to_ready_ms is not None else ""
        n = report.counts
        console.print(
            f"  [px.{report.overall}]{report.overall.upper()}[/]  {n.get('pass', 0)} passed, {n.get('warn', 0)} "
            f"warnings, {n.get('fail', 0)} failed, {n.get('skip', 0)} skipped in {report.duration_ms / 1000:.1f} s"
            f"{ready}"
        )
    if len(reports) > 1:
        s = summary(reports)
        console.print(f"[px.{s['overall']}]{s['overall'].upper()}[/]  {s['tools']} tools: {s['counts']}")


def render_json(reports: list[Report], out: IO[str]) -> None:
    """One JSON object on stdout: the report, or for several tools ``{overall, counts, reports}``."""
    if len(reports) == 1:
        out.write(reports[0].model_dump_json(indent=2) + "\n")
        return
    body = {"schema_version": REPORT_SCHEMA_VERSION, **summary(reports),
            "reports": [r.model_dump(mode="json") for r in reports]}  # fmt: skip
    out.write(json.dumps(body, indent=2) + "\n")


def _gh_escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(reports: list[Report], out: IO[str]) -> None:
    """GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per failing check."""
    for report in reports:
        for c in report.checks:
            if c.status not in ("fail", "warn"):
                continue
            level = "error" if c.status == "fail" else "warning"
            file = os.path.join(report.tool_path, "tool.json")
            title = f"{c.number:02d} {c.name}"
            out.write(f"::{level} file={file},title={title}::{_gh_escape(c.message + ' — fix: ' + c.fix)}\n")
    s = summary(reports)
    out.write(f"pixie-validate: {s['overall']} ({s['counts']})\n")


REPORTERS: dict[str, Callable[[list[Report], IO[str]], None]] = {
    "rich": render_rich,
    "json": render_json,
    "github": render_github,
}
