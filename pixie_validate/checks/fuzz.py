"""Check 16, fuzz (opt-in): schemathesis sends generated inputs to ``POST /run`` and judges every reply.

The OpenAPI document comes from ``pixie_sdk.json_schema.run_openapi`` (the canonical body in,
the declared outputs or the error envelope out), so the fuzzer generates exactly the values the
tool's own schema allows. Generation is Hypothesis driven through schemathesis' Python API
(``operation.as_strategy()``, ``case.call()``, ``case.validate_response()``), derandomized, so the
same tool gets the same requests on every run.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixie_sdk.contract import ARTEFACTS_DIR_HEADER, ROUTE_RUN, RUN_ID_HEADER
from pixie_sdk.input_specs import InputSpec, NumberInput, RadioInput, SelectInput, SliderInput
from pixie_sdk.json_schema import run_openapi
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import new_run_id
from pixie_sdk.samples import sample_inputs
from pixie_sdk.shapes import check_outputs
from pixie_sdk.types import JSON, JSONObject
from pixie_validate.checks._gates import SAMPLED
from pixie_validate.client import curl_command
from pixie_validate.context import CheckContext
from pixie_validate.findings import Finding
from pixie_validate.registry import check

if TYPE_CHECKING:
    from schemathesis import Case as _Case, Response

    Case = _Case[Any]

__all__ = ["MAX_FUZZ_FINDINGS", "MAX_FUZZ_SECONDS", "edge_inputs", "fuzz"]

#: Wall clock the whole fuzz run may take; past it the remaining examples are not sent.
MAX_FUZZ_SECONDS = 60.0
#: Distinct failures reported; one finding per kind, the rest are counted.
MAX_FUZZ_FINDINGS = 10
#: Share of the example budget spent on hand-picked edge values (bounds, every option) before generated ones.
EDGE_SHARE = 0.3
#: Characters of a reply body shown under a failure.
BODY_CHARS = 1500
#: Characters of one schemathesis failure message shown under a finding.
MESSAGE_CHARS = 1500


@dataclass
class _Seen:
    """One distinct failure and the first request that showed it."""

    title: str
    message: str
    curl: str
    status: int | None
    body: str
    count: int = 1


@dataclass
class _Run:
    """What the fuzz run found so far."""

    deadline: float
    sent: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    failures: dict[object, _Seen] = field(default_factory=dict)
    stopped: str | None = None
    """Why no more requests are sent (out of time, the tool stopped answering)."""
    problems: dict[str, str] = field(default_factory=dict)
    """Problems of the fuzzer itself (a schema it cannot use), by kind: the tool is not to blame."""


@check(
    16,
    "fuzz",
    severity="error",
    kind="runtime",
    summary="generated inputs (schemathesis) never give a 5xx or a reply outside the declared outputs",
    fix="Handle every value tool.json allows (or narrow min, max and options), raising ToolError for bad ones",
    requires=SAMPLED,
    opt_in=True,
)
def fuzz(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks
    With `--fuzz`, an OpenAPI 3.1 document of `POST /run` is derived from tool.json (the request
    body is the canonical run body with the tool's input schema, the 200 reply is the declared
    outputs, a 4xx is the error envelope) and schemathesis generates `--fuzz-examples` run
    bodies from it (default 50): first the edges (each number at its `min` and `max`, every
    option of a select), then Hypothesis-generated values, with a fixed seed so runs repeat.
    Every reply is checked: no 5xx (`not_a_server_error`), a status the contract allows (200 or
    a 4xx), a 200 body that matches the output schema (`response_schema_conformance`) and the
    deep output-shape rules of check 9. Each kind of failure is reported once, with a curl
    command that sends the failing request again. The run stops after 60 s; each request has
    the run timeout (`max_runtime_seconds + 5`).

    Why it matters
    tool.json promises that every value inside its types, bounds and options is a valid input;
    the host, an LLM calling the tool through MCP, or a user typing into the form will send
    values the sample run never tried: a 0 where the tool divides, a huge number that
    overflows to infinity, an empty list.

    How to fix
    Reproduce the failure with the curl command and read the reply's `detail`. Either make the
    handler cope with the value, narrow the input in tool.json (`min`, `max`, `options`,
    `max_length`) so it is no longer allowed, or raise `ToolError("…")` for values that make no
    sense, which answers a 4xx with your message instead of a 500.
    """
    manifest = ctx.require_manifest()
    client = ctx.require_client()
    if manifest.input_transport == "multipart" and not ctx.is_sdk_tool:
        raise ctx.skip("multipart tools are fuzzed only when built with the SDK (which also reads JSON bodies)")
    try:
        import hypothesis
        import schemathesis
        from schemathesis.checks import not_a_server_error
        from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
    except ImportError as exc:
        yield ctx.finding(
            f"cannot fuzz: schemathesis is not installed ({exc})",
            fix="Install schemathesis into the validator's environment: pip install 'schemathesis>=4.32'",
        )
        return

    def outputs_conform(_: Any, response: Response, case: Case) -> None:
        """Check 9's deep shape rules, for what JSON Schema cannot say (series lengths, ids, ...)."""
        if response.status_code != 200:
            return
        try:
            reply = json.loads(response.content)
        except ValueError:
            return  # response_schema_conformance reports a body that is not JSON
        report = check_outputs(manifest, reply)
        if not report.ok:
            lines = [f"output `{k}` is missing" for k in report.missing]
            lines += [f"output `{k or '(reply)'}`: {p}" for k, ps in report.problems.items() for p in ps[:3]]
            raise AssertionError("; ".join(lines))

    checks = [not_a_server_error, status_code_conformance, response_schema_conformance, outputs_conform]
    # An explicit, empty config: no schemathesis.toml found on disk changes what this check does.
    schema = schemathesis.openapi.from_dict(run_openapi(manifest, tolerant_outputs=True), config=schemathesis.Config())
    operation = schema[ROUTE_RUN]["POST"]
    budget = ctx.options.fuzz_examples
    edges = edge_inputs(manifest)[: int(budget * EDGE_SHARE)]
    base_url = client.base_url
    timeout = ctx.run_timeout
    state = _Run(deadline=time.monotonic() + MAX_FUZZ_SECONDS)

    with tempfile.TemporaryDirectory(prefix="pixie-fuzz-") as artefacts_root:

        def send(case: Case) -> None:
            if state.stopped is not None:
                return
            if time.monotonic() > state.deadline:
                state.stopped = f"stopped after {MAX_FUZZ_SECONDS:g} s"
                return
            headers = _own_the_run(case, Path(artefacts_root))
            state.sent += 1
            curl = curl_command("POST", base_url + ROUTE_RUN, body=case.body, headers=headers)
            try:
                response = case.call(base_url=base_url, headers=headers, timeout=timeout)
            except Exception as exc:  # requests' transport errors: timeout, refused, reset
                _record(state, ("transport", type(exc).__name__), "no reply", f"{type(exc).__name__}: {exc}", curl)
                if "Timeout" not in type(exc).__name__:
                    state.stopped = "the tool stopped answering"
                return
            group = str(response.status_code)[0] + "xx"
            state.statuses[group] = state.statuses.get(group, 0) + 1
            try:
                failures = _validate(case, response, checks)
            except Exception as exc:  # schemathesis could not apply its checks: the derived schema's fault
                state.problems.setdefault(type(exc).__name__, f"{type(exc).__name__}: {str(exc)[:MESSAGE_CHARS]}")
                return
            for failure in failures:
                text = response.content.decode("utf-8", errors="replace")
                _record(state, failure, failure.title, failure.message, curl, response.status_code, text)

        settings = hypothesis.settings(
            max_examples=max(budget - len(edges), 1),
            derandomize=True,  # a fixed seed: the same tool gets the same requests on every run
            database=None,  # nothing written next to the tool or the caller
            deadline=None,  # slow tools are judged by the run timeout, not by Hypothesis
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],  # failures are recorded, never shrunk
            suppress_health_check=list(hypothesis.HealthCheck),
            verbosity=hypothesis.Verbosity.quiet,
            print_blob=False,
        )
        test: Callable[..., None] = hypothesis.given(case=operation.as_strategy())(send)
        for inputs in reversed(edges):
            body: JSONObject = {"run_id": "", "inputs": inputs, "_pixie": {"run_id": ""}}
            test = hypothesis.example(case=operation.Case(body=body, media_type="application/json"))(test)
        try:
            settings(test)()
        except hypothesis.errors.HypothesisException as exc:  # no inputs could be generated from the schema
            state.problems.setdefault("generation", f"{type(exc).__name__}: {str(exc)[:MESSAGE_CHARS]}")

    yield from _findings(ctx, state)


def _own_the_run(case: Case, artefacts_root: Path) -> dict[str, str]:
    """Give the generated body a fresh run id and a private artefacts folder (never a generated path)."""
    run_id = new_run_id()
    artefacts = str(artefacts_root / run_id)
    inputs = case.body.get("inputs") if isinstance(case.body, dict) else None
    # Generated extra top-level keys are dropped: the SDK ignores them, and the curl stays readable.
    case.body = {"run_id": run_id, "inputs": inputs, "_pixie": {"run_id": run_id, "artefacts_dir": artefacts}}
    return {RUN_ID_HEADER: run_id, ARTEFACTS_DIR_HEADER: artefacts}


def _validate(case: Case, response: Response, checks: list[Any]) -> list[Any]:
    """The failures schemathesis' checks found in one reply; a 5xx is one failure, not also "undocumented"."""
    from schemathesis.core.failures import FailureGroup, ServerError

    failures: list[Any]
    try:
        case.validate_response(response, checks=checks)
    except FailureGroup as group:
        failures = list(group.exceptions)
    except AssertionError as exc:  # a single failure raised on its own
        failures = [exc]
    else:
        return []
    if any(isinstance(f, ServerError) for f in failures):
        failures = [f for f in failures if isinstance(f, ServerError) or type(f).__name__ != "UndefinedStatusCode"]
    return failures


def _record(
    state: _Run,
    kind: object,
    title: str,
    message: str,
    curl: str,
    status: int | None = None,
    body: str = "",
) -> None:
    seen = state.failures.get(kind)
    if seen is not None:
        seen.count += 1
        return
    state.failures[kind] = _Seen(title, message.strip(), curl, status, body)


def _findings(ctx: CheckContext, state: _Run) -> Iterator[Finding]:
    counts = ", ".join(f"{n}× {group}" for group, n in sorted(state.statuses.items()))
    summary = f"sent {state.sent} generated runs" + (f" ({counts})" if counts else "")
    if state.stopped is not None:
        summary += f"; {state.stopped}"
    listed = list(state.failures.values())
    for seen in listed[:MAX_FUZZ_FINDINGS]:
        yield ctx.finding(_headline(seen), details=_details(seen, summary), request=seen.curl, fix=_fix(seen))
    if len(listed) > MAX_FUZZ_FINDINGS:
        yield ctx.finding(f"... and {len(listed) - MAX_FUZZ_FINDINGS} more kinds of failure")
    for problem in state.problems.values():
        yield ctx.finding(
            f"the fuzzer could not use the schema derived from tool.json: {problem.splitlines()[0]}",
            severity="warning",
            details=f"{summary}\n{problem}",
            fix="Report this as a bug in pixie_sdk.json_schema, with the tool.json",
        )
    if not listed and not state.problems:
        yield ctx.finding(summary, severity="info")


def _headline(seen: _Seen) -> str:
    again = f" ({seen.count} of the generated runs)" if seen.count > 1 else ""
    if seen.status is None:
        return f"POST /run gave no reply to a generated input: {seen.message.splitlines()[0]}{again}"
    if seen.status >= 500:
        return f"POST /run answered {seen.status} to inputs tool.json allows{again}: {_detail_of(seen.body)}"
    return f"POST /run answered {seen.status}: {seen.title.lower()}{again}"


def _detail_of(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:200] or "an empty body"
    detail: JSON = data.get("detail") if isinstance(data, dict) else None
    return (detail if isinstance(detail, str) else json.dumps(detail))[:200]


def _details(seen: _Seen, summary: str) -> str:
    lines = [summary]
    if seen.message:
        lines.append(seen.message[:MESSAGE_CHARS])
    if seen.body:
        lines.append(f"reply ({seen.status}): {seen.body[:BODY_CHARS]}")
    return "\n".join(lines)


def _fix(seen: _Seen) -> str:
    if seen.status is None:
        return "Answer every run within max_runtime_seconds, and keep serving after a bad input"
    if seen.status >= 500:
        return "Handle this input or exclude it in tool.json (min, max, options); raise ToolError for bad values"
    if seen.status == 200:
        return "Return every declared output in its canonical shape (contract §3), whatever the inputs"
    return "Answer 200 with the outputs, or a 4xx error envelope {detail, code?}"


def _bound_inputs(spec: InputSpec) -> list[JSON]:
    """The edge values of one input: its bounds, every option."""
    match spec:
        case NumberInput():
            return [b for b in (spec.min, spec.max) if b is not None]
        case SliderInput():
            if spec.range:
                return [[spec.min, spec.min], [spec.max, spec.max], [spec.min, spec.max]]
            return [spec.min, spec.max]
        case SelectInput() | RadioInput():
            return [o.value for o in spec.options]
    return []


def edge_inputs(manifest: ToolManifest) -> list[JSONObject]:
    """Sample inputs with one input moved to an edge (a bound, an option), each edge once, in input order."""
    base = sample_inputs(manifest)
    out: list[JSONObject] = []
    for spec in manifest.inputs:
        for value in _bound_inputs(spec):
            if base.get(spec.key) != value:
                out.append({**base, spec.key: value})
    return out
