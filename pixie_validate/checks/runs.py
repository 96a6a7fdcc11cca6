"""Checks of what the tool answers: /schema (7), the sample run (8), its outputs (9), errors (13), parallel runs
(15) and secrets (18)."""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from deepdiff import DeepDiff

from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import FILE_INPUT_TYPES
from pixie_sdk.samples import invalid_value, sample_inputs
from pixie_sdk.shapes import check_outputs, normalise_output
from pixie_sdk.stream import apply_event
from pixie_sdk.types import JSON
from pixie_validate.checks._gates import SAMPLED, SPAWNED
from pixie_validate.checks.streaming import live_client, sample_stream
from pixie_validate.client import ContractClient, Exchange
from pixie_validate.context import CheckContext
from pixie_validate.findings import Finding, Severity
from pixie_validate.launcher import read_dotenv
from pixie_validate.registry import check

__all__ = [
    "concurrency",
    "error_envelope",
    "outputs_conform",
    "sample_run",
    "schema_diff",
    "schema_drift",
    "secrets",
]

#: Differing paths listed by check 7; the rest are counted.
MAX_DRIFT_PATHS = 20
#: A value longer than this is cut in drift and mismatch listings.
SHOWN_VALUE_CHARS = 80
#: Characters of an error body or output tail shown under a failed run.
DETAIL_CHARS = 2000
#: Fresh connections tried after a wrongly typed run before "it stopped serving" (§9: resets after a 500).
HEALTH_RETRIES = 3
#: Pause between those tries: a reset connection is replaced at once, a restarting server takes a moment.
HEALTH_RETRY_PAUSE_SECONDS = 0.3
#: Parallel runs of check 15.
PARALLEL_RUNS = 3
#: Wall-clock budget of check 15's extra runs (two sequential, one parallel batch): slow tools get less.
CONCURRENCY_BUDGET_SECONDS = 20.0
#: Secret values shorter than this match too much by chance to be looked for.
MIN_SECRET_CHARS = 4
#: `.env` keys treated as secrets even when tool.json does not declare them.
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|PWD|CREDENTIAL|AUTH|PRIVATE", re.IGNORECASE)
#: Stands in for JSON booleans in the drift diff (Python's True == 1 would hide `true` vs `1`).
_BOOL_TAG = "\x00json-bool"


def _sdk_severity(ctx: CheckContext) -> Severity:
    """Error for tools built with this kit's SDK, warning for hand-written ones (§9: warnings at most)."""
    return "error" if ctx.is_sdk_tool else "warning"


def _show(value: Any) -> str:
    text = json.dumps(_untag(value), ensure_ascii=False, default=str)
    return text if len(text) <= SHOWN_VALUE_CHARS else text[: SHOWN_VALUE_CHARS - 1] + "…"


# --- 7 -------------------------------------------------------------------------------------------------------------


def _tag(value: Any) -> Any:
    if isinstance(value, bool):
        return {_BOOL_TAG: value}
    if isinstance(value, dict):
        return {k: _tag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BOOL_TAG}:
            return value[_BOOL_TAG]
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def schema_diff(disk: Any, live: Any) -> list[str]:
    """Every path where ``live`` differs from ``disk``: ``/inputs/0/default: tool.json 5, /schema 6``.

    Semantic: key order and ``1`` vs ``1.0`` are not differences; ``true`` vs ``1`` is.
    """
    diff = DeepDiff(_tag(disk), _tag(live), ignore_order=False, ignore_numeric_type_changes=True, view="tree")
    lines: list[tuple[str, str]] = []
    for kind, levels in diff.items():
        for level in levels:
            parts = [str(p) for p in level.path(output_format="list")]
            if parts and parts[-1] == _BOOL_TAG:
                parts = parts[:-1]
                t1, t2 = level.up.t1, level.up.t2
            else:
                t1, t2 = level.t1, level.t2
            path = "/" + "/".join(parts)
            if kind.endswith("_added"):
                lines.append((path, f"{path}: only in /schema ({_show(t2)})"))
            elif kind.endswith("_removed"):
                lines.append((path, f"{path}: missing from /schema (tool.json {_show(t1)})"))
            else:
                lines.append((path, f"{path}: tool.json {_show(t1)}, /schema {_show(t2)}"))
    return [line for _, line in sorted(lines)]


@check(
    7,
    "schema-drift",
    severity="warning",
    kind="runtime",
    summary="GET /schema serves the same document as tool.json (a semantic diff)",
    fix="Serve tool.json as it is on disk from GET /schema (make_tool_app does); restart the tool after editing it",
    requires=SPAWNED,
)
def schema_drift(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: `GET /schema` must answer 200 with JSON (an error if not); that document is compared with
    tool.json as read from disk, semantically: key order and `1` vs `1.0` are not differences,
    `true` vs `1`, a changed value, or a key on one side only are. Each differing path is listed
    (`/inputs/0/default: tool.json 5, /schema 6`), the first 20 and then a count. Drift is a
    warning (`--strict` makes it fail).

    Why it matters: the host reads tool.json to draw the form and check inputs, while the tool acts on what it
    serves. When the two differ, the form and the tool disagree about inputs, defaults or
    outputs: usually a tool process started before tool.json was edited, or a tool that builds
    its schema from code.

    How to fix: serve tool.json verbatim (`make_tool_app` reads it once at import). Restart the tool after
    editing tool.json. If the tool generates its schema, write the generated document to
    tool.json instead.
    """
    client = live_client(ctx)
    if ctx.raw_manifest is None:
        raise ctx.skip("tool.json was not read")
    exchange = client.schema()
    if exchange.status is None or not 200 <= exchange.status < 300:
        got = exchange.error or f"status {exchange.status}"
        yield ctx.finding(
            f"GET /schema failed ({got})",
            severity="error",
            request=exchange.curl,
            fix="Answer GET /schema with 200 and the contents of tool.json",
        )
        return
    try:
        live = exchange.json()
    except ValueError:
        shown = exchange.body[:200].decode("utf-8", errors="replace")
        yield ctx.finding(
            "GET /schema is not JSON",
            severity="error",
            details=shown,
            request=exchange.curl,
            fix="Answer GET /schema with the contents of tool.json as JSON",
        )
        return
    lines = schema_diff(ctx.raw_manifest, live)
    if not lines:
        return
    shown_lines = lines[:MAX_DRIFT_PATHS]
    if len(lines) > MAX_DRIFT_PATHS:
        shown_lines.append(f"... and {len(lines) - MAX_DRIFT_PATHS} more")
    first = lines[0].split(":", 1)[0]
    yield ctx.finding(
        f"/schema differs from tool.json at {len(lines)} path(s), first {first}",
        details="\n".join(shown_lines),
        request=exchange.curl,
    )


# --- 8 -------------------------------------------------------------------------------------------------------------


def _failure_details(ctx: CheckContext, exchange: Exchange) -> str:
    parts = []
    if exchange.status is not None:
        parts.append(f"reply ({exchange.status}): {exchange.envelope().message()[:DETAIL_CHARS]}")
    tail = ctx.output_tail(DETAIL_CHARS).strip()
    if tail:
        parts.append(f"tool output:\n{tail}")
    return "\n".join(parts) or "(no reply and no output)"


@check(
    8,
    "sample-run",
    severity="error",
    kind="runtime",
    summary="POST /run with sample inputs answers 200 with a JSON body",
    fix="Make the handler succeed for the sample inputs (the defaults, else generated valid values)",
    requires=SPAWNED,
)
def sample_run(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: one `POST /run` with the sample inputs, in the canonical run body every caller sends. The
    sample of an input is its `default`, else a generated value valid for its type and
    constraints (a number inside `min`/`max`, an option of a select, a small file of an accepted
    type). The reply must be 200 with a JSON body, within the run timeout
    (`max_runtime_seconds + 5`). Checks 9-16 use this run and are skipped when it fails.

    Why it matters: the sample run is what a user gets by pressing Run on the untouched form. A tool that fails
    there fails for everyone.

    How to fix: read the reply's `detail` and the tool output shown under the failure, then reproduce it
    with the curl command. Give inputs defaults that make a meaningful run; when a default
    cannot (an API key, a real file), make the tool answer a clear 4xx `ToolError` instead of
    crashing, and set `PIXIE_VALIDATE` handling for slow external calls.
    """
    manifest = ctx.require_manifest()
    client = live_client(ctx)
    inputs = sample_inputs(manifest)
    ctx.sample_inputs = inputs
    exchange = client.run_inputs(inputs, manifest, timeout=ctx.run_timeout, artefacts_dir=ctx.new_artefacts_dir())
    ctx.sample_exchange = exchange
    if exchange.status is None:
        yield ctx.finding(
            f"POST /run gave no reply: {exchange.error}", details=_failure_details(ctx, exchange), request=exchange.curl
        )
        return
    if exchange.status != 200:
        detail = exchange.envelope().message()
        yield ctx.finding(
            f"POST /run answered {exchange.status}: {detail}"[:300],
            details=_failure_details(ctx, exchange),
            request=exchange.curl,
        )
        return
    try:
        ctx.sample_output = exchange.json()
    except ValueError:
        yield ctx.finding(
            "POST /run answered 200 but the body is not JSON",
            details=_failure_details(ctx, exchange),
            request=exchange.curl,
        )
        return
    yield ctx.finding(f"200 in {exchange.elapsed_ms:.0f} ms", severity="info")


# --- 9 -------------------------------------------------------------------------------------------------------------


def _final_outputs(ctx: CheckContext, manifest: ToolManifest) -> tuple[JSON, str, list[Finding]]:
    """The outputs to check: the /run reply, or for a streaming tool the reply with its stream applied."""
    reply: JSON = ctx.sample_output
    read = sample_stream(ctx, manifest) if manifest.streams and isinstance(reply, dict) else None
    if read is None or ctx.sample_exchange is None or not isinstance(reply, dict):
        return reply, "the reply", []
    done = read.done
    if done is None:
        why = read.exchange.error or ("timed out" if read.timed_out else f"status {read.exchange.status}, no done")
        note = f"could not follow the sample run's stream ({why}); checked the /run reply (check 10 tests /stream)"
        return reply, "the reply", [ctx.finding(note, severity="info")]
    if done.status == "error":
        detail = done.error.get("detail") if isinstance(done.error, dict) else None
        failed = ctx.finding(
            f"the sample run failed while streaming: {detail or 'no detail'}"[:400], request=ctx.sample_exchange.curl
        )
        return reply, "the reply", [failed]
    types = {o.key: o.type for o in manifest.outputs}
    state: dict[str, JSON] = copy.deepcopy(reply)
    for event in read.result.events:
        apply_event(state, event, types)
    ctx.sample_output = state
    return state, "the streamed outputs", []


@check(
    9,
    "outputs-conform",
    severity="error",
    kind="runtime",
    summary="every declared output is in the sample run's reply, in its type's canonical shape (deep)",
    fix="Return every declared output key, each in the shape its type expects (the pixie_sdk.outputs helpers do)",
    requires=SAMPLED,
)
def outputs_conform(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: the sample run's reply (check 8) holds every output declared in tool.json, each with a value
    of its type's canonical shape, deeply: a chart's series as long as its `x`, a table's rows
    matching its columns, a kv's pairs, a data URL that decodes. The variants real tools send are
    accepted (raw scalars or `{"value": ...}`, kv without `pairs`, bare row lists...). Keys no
    output declares are a warning (`run_id` may be echoed). For a streaming tool the reply may
    hold placeholders, so the final outputs of the sample run's stream are checked instead.

    Why it matters: the host stores and the UI draws each output by its declared type. A missing key leaves an
    empty panel; a wrong shape breaks the chart, table or map that renders it.

    How to fix: return a dict keyed by output key with one value per declared output. The `pixie_sdk.outputs`
    helpers build each canonical shape (`outputs.table(rows)`, `outputs.chart_line(x, series)`,
    `outputs.kv(mapping)`...). Declare, or stop returning, any extra key.

    Example:

        return {"total": 12.5, "breakdown": outputs.kv({"net": 10, "tax": 2.5})}
    """
    manifest = ctx.require_manifest()
    if ctx.sample_exchange is None:
        raise ctx.skip("no sample run")
    outputs, source, notes = _final_outputs(ctx, manifest)
    yield from notes
    if any(n.severity == "error" for n in notes):
        return
    report = check_outputs(manifest, outputs)
    types = {o.key: o.type for o in manifest.outputs}
    for problem in report.problems.get("", []):
        yield ctx.finding(problem)
    for key in report.missing:
        yield ctx.finding(f"output `{key}` ({types[key]}) is missing from {source}")
    for key, problems in report.problems.items():
        if key:
            details = "\n".join(problems) if len(problems) > 1 else None
            yield ctx.finding(f"output `{key}` ({types[key]}): {problems[0]}", details=details)
    for key in report.undeclared:
        yield ctx.finding(
            f"`{key}` in {source} is not a declared output",
            severity="warning",
            fix=f"Declare `{key}` in tool.json's outputs, or stop returning it",
        )


# --- 13 ------------------------------------------------------------------------------------------------------------


def _run_fresh(base_url: str, inputs: dict[str, JSON], manifest: ToolManifest, timeout: float) -> Exchange:
    """One run on a connection of its own, so a reset after an error reply does not poison the shared pool."""
    with ContractClient(base_url) as own:
        return own.run_inputs(inputs, manifest, timeout=timeout)


def _dropped(exchange: Exchange) -> bool:
    """No reply because the connection broke (worth one retry), not because the run timed out (it would again)."""
    return exchange.status is None and "Timeout" not in (exchange.error or "").split(":")[0]


def _still_serving(ctx: CheckContext, base_url: str) -> bool:
    for attempt in range(HEALTH_RETRIES):
        if ctx.process is not None and not ctx.process.alive:
            return False
        with ContractClient(base_url) as fresh:
            if fresh.healthz().status == 200:
                return True
        if attempt < HEALTH_RETRIES - 1:
            time.sleep(HEALTH_RETRY_PAUSE_SECONDS)
    return False


@check(
    13,
    "error-envelope",
    severity="error",
    kind="runtime",
    summary='a wrongly typed input gets a 4xx JSON {"detail": ...} naming the field, and the tool keeps serving',
    fix="Validate inputs before using them and answer 422 with a JSON detail (make_tool_app does)",
    requires=SAMPLED,
)
def error_envelope(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: the sample inputs are sent again with one input replaced by a value of the wrong JSON type
    (a number for a text, an object for a number...; the first input that has one). The tool
    should answer a 4xx (422 ideally) with a JSON body `{"detail": ...}` that names the field,
    and still answer `/healthz` afterwards. A 5xx, a non-JSON error, an error without `detail`,
    or a tool that stopped serving is an error for tools built with the SDK and a warning for
    hand-written ones (a bare text/plain 500 followed by a reset connection is common in the
    wild; the validator retries on a fresh connection). An error that does not name the field is
    a warning.

    Why it matters: inputs come from people and from other programs (LLM agents, scripts) that get types wrong.
    The host shows `detail` as the error message: a 500 with a stack trace, or a tool that
    crashed, tells nobody what to change.

    How to fix: with the SDK this is automatic: inputs are validated against tool.json and a wrong type is
    a 422 naming the field. By hand, declare a pydantic model for the inputs (FastAPI answers
    422), catch exceptions in the handler, and answer `{"detail": "<what is wrong>"}` as JSON.

    Example:

        HTTP/1.1 422 Unprocessable Entity
        {"detail": [{"loc": ["inputs", "rate"], "msg": "Input should be a valid number"}]}
    """
    manifest = ctx.require_manifest()
    client = live_client(ctx)
    severity = _sdk_severity(ctx)
    inputs = dict(ctx.sample_inputs if ctx.sample_inputs is not None else sample_inputs(manifest))
    target: tuple[str, JSON] | None = None
    for spec in manifest.inputs:
        if spec.key not in inputs or (manifest.input_transport == "multipart" and spec.type in FILE_INPUT_TYPES):
            continue
        bad = invalid_value(spec)
        if bad is not None:
            target = (spec.key, bad)
            break
    if target is None:
        raise ctx.skip("no input has a wrongly typed value to send (none, hidden or json without a schema)")
    key, bad = target
    inputs[key] = bad
    exchange = _run_fresh(client.base_url, inputs, manifest, ctx.run_timeout)
    first_error = exchange.error
    if _dropped(exchange) and (ctx.process is None or ctx.process.alive):
        exchange = _run_fresh(client.base_url, inputs, manifest, ctx.run_timeout)  # §9: a reset; once more, fresh
    sent = f"`{key}` = {_show(bad)}"
    serving = _still_serving(ctx, client.base_url)
    if exchange.status is None and serving:
        yield ctx.finding(
            f"no reply to a wrongly typed {sent}: {first_error}",
            severity=severity,
            request=exchange.curl,
            details=ctx.output_tail(DETAIL_CHARS) or None,
        )
    elif exchange.status is None:
        pass  # the tool went away: said once, below
    elif exchange.status < 400:
        yield ctx.finding(
            f"a wrongly typed {sent} was accepted (status {exchange.status})",
            severity="warning" if ctx.is_sdk_tool else "info",
            request=exchange.curl,
            fix=f"Check the type of `{key}` and answer 422 when it is wrong",
        )
    else:
        yield from _judge_error(ctx, exchange, key, sent, severity)
    if not serving:
        exited = ctx.process is not None and not ctx.process.alive
        what = f"exited (status {ctx.process.returncode if ctx.process else None})" if exited else "stopped answering"
        tail = ctx.output_tail(DETAIL_CHARS).strip()
        yield ctx.finding(
            f"the tool {what} after a wrongly typed {sent}",
            severity=severity,
            details="\n".join(x for x in (f"reply: {first_error}" if first_error else "", tail) if x) or None,
            request=exchange.curl,
            fix="Catch errors per request: one bad run must not take the tool down",
        )


def _judge_error(ctx: CheckContext, exchange: Exchange, key: str, sent: str, severity: Severity) -> Iterator[Finding]:
    status = exchange.status
    try:
        body = exchange.json()
    except ValueError:
        body = None
    text = exchange.body[:200].decode("utf-8", errors="replace").strip()
    if status is not None and status >= 500:
        kind = "JSON" if isinstance(body, dict) else (exchange.content_type.split(";")[0] or "no content type")
        yield ctx.finding(
            f"a wrongly typed {sent} gave {status} ({kind}), not a 4xx",
            severity=severity,
            details=exchange.envelope().message()[:DETAIL_CHARS] or None,
            request=exchange.curl,
            fix=f"Validate `{key}` and answer 422 with a JSON detail instead of crashing",
        )
        return
    if not isinstance(body, dict):
        yield ctx.finding(
            f"the {status} error for {sent} is not a JSON object",
            severity=severity,
            details=text or None,
            request=exchange.curl,
            fix='Answer errors as JSON: {"detail": "<what is wrong>"}',
        )
        return
    if "detail" not in body:
        yield ctx.finding(
            f"the {status} error for {sent} has no `detail`",
            severity=severity,
            details=text or None,
            request=exchange.curl,
            fix='Put the message under "detail"',
        )
        return
    if key not in exchange.envelope().message():
        yield ctx.finding(
            f"the {status} error does not name `{key}`",
            severity="warning",
            details=exchange.envelope().message()[:DETAIL_CHARS],
            request=exchange.curl,
            fix=f'Name the field in detail, e.g. "{key}: expected a ..."',
        )
        return
    yield ctx.finding(f"{status} naming `{key}`", severity="info")


# --- 15 ------------------------------------------------------------------------------------------------------------


def _run_retrying(client: ContractClient, inputs: dict[str, JSON], manifest: ToolManifest, timeout: float) -> Exchange:
    """A run; on a transport error (a kept-alive connection the tool reset, §9), once more on a fresh connection."""
    exchange = client.run_inputs(inputs, manifest, timeout=timeout)
    if _dropped(exchange):
        exchange = _run_fresh(client.base_url, inputs, manifest, timeout)
    return exchange


def _comparable(manifest: ToolManifest, reply: JSON) -> JSON:
    """The reply's declared outputs in canonical form (``run_id`` and undeclared keys left out)."""
    if not isinstance(reply, dict):
        return reply
    return {o.key: normalise_output(o.type, reply.get(o.key)) for o in manifest.outputs}


def _differing(a: JSON, b: JSON) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    return [] if a == b else ["(the whole reply)"]


def _json_or_none(exchange: Exchange) -> tuple[bool, JSON]:
    try:
        return True, exchange.json()
    except ValueError:
        return False, None


@check(
    15,
    "concurrency",
    severity="error",
    kind="runtime",
    summary="parallel runs of a concurrent tool succeed and agree with sequential ones",
    fix="Keep per-run state in local variables (not globals), or set concurrent: false in tool.json",
    requires=SAMPLED,
)
def concurrency(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: for a tool with `concurrent: true` (the default): the sample inputs are run twice, one
    after the other. If the two replies agree (declared outputs compared in canonical form,
    `run_id` ignored), three runs are sent at once and each must answer 200 with the same reply;
    if they do not agree (the tool is not deterministic), the parallel runs need only succeed.
    Skipped for `concurrent: false` tools (the host queues their runs) and for streaming tools
    (their replies are placeholders); slow tools get a shorter probe (20 s budget).

    Why it matters: the host sends a concurrent tool's runs at the same time, one per user or tab. Module-level
    state that one run changes while another reads it gives wrong answers only under load,
    which is when nobody is looking.

    How to fix: keep everything a run computes in local variables or a per-run object; guard shared caches
    with a lock; use the `data/` folder with care. If the tool cannot run in parallel (one GPU, a
    single-threaded library), set `"concurrent": false` and the host will queue its runs.
    """
    manifest = ctx.require_manifest()
    client = live_client(ctx)
    if not manifest.concurrent:
        raise ctx.skip("concurrent: false (the host runs one at a time)")
    if manifest.streams:
        raise ctx.skip("a streaming tool's /run replies hold placeholders")
    inputs = ctx.sample_inputs if ctx.sample_inputs is not None else sample_inputs(manifest)
    seconds = ctx.sample_exchange.elapsed_ms / 1000 if ctx.sample_exchange is not None else 0.0
    if seconds > CONCURRENCY_BUDGET_SECONDS:
        raise ctx.skip(f"a run takes {seconds:.1f} s, over the {CONCURRENCY_BUDGET_SECONDS:g} s budget of this check")
    reference: JSON = None
    agree = False
    if seconds * (2 + 1) <= CONCURRENCY_BUDGET_SECONDS:
        replies = []
        for n in (1, 2):
            exchange = _run_retrying(client, inputs, manifest, ctx.run_timeout)
            ok, body = _json_or_none(exchange)
            if exchange.status != 200 or not ok:
                got = exchange.error or f"status {exchange.status}: {exchange.envelope().message()}"
                yield ctx.finding(
                    f"sequential run {n} of the sample inputs failed ({got})"[:300], request=exchange.curl
                )
                return
            replies.append(_comparable(manifest, body))
        differing = _differing(replies[0], replies[1])
        agree = not differing
        reference = replies[0]
        if not agree:
            shown = ", ".join(f"`{k}`" for k in differing[:5])
            yield ctx.finding(
                f"two sequential runs differ ({shown}): parallel runs are only checked for success", severity="info"
            )
    else:
        yield ctx.finding(f"a run takes {seconds:.1f} s: only one parallel batch, checked for success", severity="info")
    with ThreadPoolExecutor(PARALLEL_RUNS, thread_name_prefix="pixie-concurrency") as pool:
        futures = [pool.submit(_run_retrying, client, inputs, manifest, ctx.run_timeout) for _ in range(PARALLEL_RUNS)]
        parallel = [f.result() for f in futures]
    for n, exchange in enumerate(parallel, start=1):
        ok, body = _json_or_none(exchange)
        if exchange.status != 200 or not ok:
            got = exchange.error or f"status {exchange.status}: {exchange.envelope().message()}"
            yield ctx.finding(
                f"parallel run {n} of {PARALLEL_RUNS} failed ({got})"[:300],
                request=exchange.curl,
                details=ctx.output_tail(DETAIL_CHARS) or None,
            )
            continue
        if agree:
            differing = _differing(reference, _comparable(manifest, body))
            if differing:
                key = differing[0]
                want = reference.get(key) if isinstance(reference, dict) else reference
                mine = _comparable(manifest, body)
                have = mine.get(key) if isinstance(mine, dict) else mine
                yield ctx.finding(
                    f"parallel run {n} of {PARALLEL_RUNS} differs from the sequential reply in "
                    + ", ".join(f"`{k}`" for k in differing[:5]),
                    details=f"{key}: sequential {_show(want)}, parallel {_show(have)}",
                    request=exchange.curl,
                )


# --- 18 ------------------------------------------------------------------------------------------------------------


def _found(value: str, text: str) -> bool:
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]
    return value in text or escaped in text or json.dumps(value)[1:-1] in text


@check(
    18,
    "secrets",
    severity="error",
    kind="runtime",
    summary="required secrets are set, and no secret value appears in /schema or in the outputs",
    fix="Never return or serve a secret's value; set required secrets in the tool's .env",
    requires=SAMPLED,
)
def secrets(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: each secret tool.json declares with `"required": true` must be set, in the tool's `.env` or
    the environment the tool was given (a warning naming the key if not). Then the value of
    every secret (the declared ones, and `.env` keys named like secrets: `*KEY*`, `*TOKEN*`,
    `*SECRET*`, `*PASSWORD*`...) is looked for in the `/schema` body and in the sample run's
    outputs; a value found is an error naming the key (the value itself is never printed).
    Values shorter than 4 characters are not looked for.

    Why it matters: outputs are stored in the run history, shown in the browser, exported and shared. A key
    that leaks there is as good as published. A missing required secret makes the host refuse
    every run, with a message the user cannot act on without this hint.

    How to fix: put secrets in the tool's `.env` (`KEY="value"`, mode 0600) and declare them under
    `secrets` in tool.json. Don't echo them into outputs, error messages or the schema; print a
    masked form (`sk-...9f2c`) if the user needs to know which key is in use.
    """
    manifest = ctx.require_manifest()
    client = live_client(ctx)
    dotenv = read_dotenv(ctx.folder)
    env = ctx.process.spec.env if ctx.process is not None else {}
    declared = {s.key for s in manifest.secrets}
    if not declared and not any(_SECRET_NAME.search(k) for k in dotenv):
        raise ctx.skip("the tool declares no secrets and its .env holds none")
    for spec in manifest.secrets:
        if spec.required and not (dotenv.get(spec.key) or env.get(spec.key)):
            yield ctx.finding(
                f"required secret `{spec.key}` is not set",
                severity="warning",
                fix=f'Add {spec.key}="..." to the tool\'s .env',
            )
    values = {k: v for k, v in dotenv.items() if k in declared or _SECRET_NAME.search(k)}
    values.update({k: env[k] for k in declared if env.get(k) and k not in values})
    values = {k: v for k, v in values.items() if len(v) >= MIN_SECRET_CHARS}
    if not values:
        return
    schema = client.schema()
    surfaces = {"GET /schema": schema.body.decode("utf-8", errors="replace")}
    if ctx.sample_exchange is not None:
        output_text = ctx.sample_exchange.body.decode("utf-8", errors="replace")
        output_text += "\n" + json.dumps(ctx.sample_output, ensure_ascii=False, default=str)
        surfaces["the sample run's outputs"] = output_text
    for key in sorted(values):
        for where, text in surfaces.items():
            if _found(values[key], text):
                yield ctx.finding(
                    f"the value of secret `{key}` appears in {where}",
                    request=schema.curl if where == "GET /schema" else None,
                    fix=f"Stop sending the value of {key}; show a masked form if needed",
                )
