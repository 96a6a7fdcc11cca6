"""Checks of the long-run endpoints: ``/stream`` (10) and ``/cancel`` (14), and the bounded stream reader they share."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from pixie_sdk.contract import ROUTE_STREAM, RUN_ID_HEADER
from pixie_sdk.manifest import ToolManifest
from pixie_sdk.runbody import RunRequest, build_run_request, new_run_id
from pixie_sdk.samples import sample_inputs
from pixie_sdk.stream import SSEDecoder, StreamEvent
from pixie_validate.checks._gates import SAMPLED
from pixie_validate.client import (
    CONNECT_TIMEOUT_SECONDS,
    ContractClient,
    Exchange,
    StreamResult,
    collect_frames,
    curl_command,
    shared_ssl_context,
)
from pixie_validate.context import CheckContext
from pixie_validate.findings import Finding
from pixie_validate.registry import check

__all__ = ["StreamRead", "cancel", "live_client", "read_stream", "sample_stream", "stream_run_id", "streaming"]

#: Bytes of a stream kept for the report; a chatty stream is cut here (the events are still read).
STREAM_BODY_LIMIT = 256 * 1024
#: Unreadable frames listed one by one; the rest are counted.
MAX_LISTED_BAD_FRAMES = 5
#: Data lines of a stream shown under a stream that never finished.
STREAM_TAIL_LINES = 5
#: Status-only probe of `/stream` with an unknown run id: a 404 comes at once.
UNKNOWN_STREAM_PROBE_SECONDS = 3.0
#: A run shorter than this is over before a cancel could land: only the endpoint is probed.
CANCEL_PROBE_MIN_RUN_SECONDS = 1.0
#: How long into a run the cancel is sent (at most a quarter of a typical run, so the run is still going).
CANCEL_DELAY_SECONDS = 0.3
#: The contract's grace after /cancel before the host kills the process group (§4.6).
CANCEL_GRACE_SECONDS = 2.0
#: Slack on top of the grace for the reply to travel and the thread to notice.
CANCEL_MARGIN_SECONDS = 0.5
#: A cancelled run that still took this share of an uncancelled one (and succeeded) ignored the cancel.
CANCEL_COMPLETION_RATIO = 0.8
#: How long a run's worker thread gets to wind down once the check gave up on it.
WORKER_JOIN_SECONDS = 1.0

#: Check 10 measures how long a streamed run takes; check 14 uses it to time its cancel (same validation only).
_STREAM_SECONDS: weakref.WeakKeyDictionary[CheckContext, float] = weakref.WeakKeyDictionary()
#: The sample run's stream as check 9 read it (same validation only).
_SAMPLE_STREAMS: weakref.WeakKeyDictionary[CheckContext, StreamRead] = weakref.WeakKeyDictionary()


@dataclass
class StreamRead:
    """What a bounded read of ``/stream`` saw."""

    result: StreamResult
    timed_out: bool = False
    """The deadline passed before the terminal event."""
    seconds: float = 0.0

    @property
    def exchange(self) -> Exchange:
        return self.result.exchange

    @property
    def done(self) -> StreamEvent | None:
        return self.result.done


def live_client(ctx: CheckContext) -> ContractClient:
    """The running tool's client; the check is skipped once the process has exited (no cascade of failures)."""
    client = ctx.require_client()
    if ctx.process is not None and not ctx.process.alive:
        raise ctx.skip(f"the tool process has exited (status {ctx.process.returncode})")
    return client


def stream_run_id(exchange: Exchange) -> str:
    """The run id to follow on ``/stream``: the reply's own (foreign tools make their own), else the one sent."""
    try:
        body = exchange.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("run_id", "id"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    header = {k.lower(): v for k, v in exchange.headers.items()}.get(RUN_ID_HEADER.lower())
    if header:
        return header
    sent = exchange.request_body
    if isinstance(sent, dict) and isinstance(sent.get("run_id"), str):
        return str(sent["run_id"])
    return ""


def sample_stream(ctx: CheckContext, manifest: ToolManifest) -> StreamRead | None:
    """The sample run's ``/stream``, read once per validation (check 9 reads it; check 10 reuses a read that failed).

    None when there is no sample run or no running tool.
    """
    if ctx in _SAMPLE_STREAMS:
        return _SAMPLE_STREAMS[ctx]
    if ctx.sample_exchange is None or ctx.client is None or ctx.stopped:
        return None
    read = read_stream(ctx.client.base_url, stream_run_id(ctx.sample_exchange), manifest, deadline=ctx.run_timeout)
    _SAMPLE_STREAMS[ctx] = read
    return read


def read_stream(
    base_url: str, run_id: str, manifest: ToolManifest, *, deadline: float, stop: threading.Event | None = None
) -> StreamRead:
    """Read ``/stream?run_id=`` until its terminal event, the ``deadline`` (seconds), or ``stop`` is set.

    Unlike ``ContractClient.stream`` the whole read is bounded: heartbeats every few seconds
    cannot keep it open past the deadline (by more than one read timeout). Never raises.
    """
    url = f"{base_url.rstrip('/')}{ROUTE_STREAM}?{httpx.QueryParams({'run_id': run_id})}"
    read = StreamRead(StreamResult(Exchange("GET", url, None, b"", {}, 0.0)))
    result, raw, decoder = read.result, bytearray(), SSEDecoder()
    started = time.monotonic()
    timeout = httpx.Timeout(deadline, connect=CONNECT_TIMEOUT_SECONDS)
    try:
        with httpx.Client(timeout=timeout, verify=shared_ssl_context()) as http, http.stream("GET", url) as reply:
            result.exchange.status = reply.status_code
            result.exchange.headers = dict(reply.headers)
            if reply.status_code != 200:
                raw += reply.read()[:STREAM_BODY_LIMIT]
            else:
                for chunk in reply.iter_bytes():
                    if len(raw) < STREAM_BODY_LIMIT:
                        raw += chunk[: STREAM_BODY_LIMIT - len(raw)]
                    result.heartbeats += chunk.count(b"\n:") + (1 if chunk.startswith(b":") else 0)
                    if collect_frames(decoder.feed(chunk), manifest, result):
                        break
                    if time.monotonic() - started > deadline or (stop is not None and stop.is_set()):
                        read.timed_out = True
                        break
                else:
                    collect_frames(decoder.close(), manifest, result)
    except httpx.TimeoutException:
        read.timed_out = True
    except httpx.HTTPError as exc:
        result.exchange.error = f"{type(exc).__name__}: {exc}"
    read.seconds = time.monotonic() - started
    result.exchange.body = bytes(raw)
    result.exchange.elapsed_ms = read.seconds * 1000
    return read


def _status_only(url: str, timeout: float) -> int | None:
    """The status of a GET, without reading a body that may never end; None on a transport error."""
    try:
        with httpx.Client(timeout=timeout, verify=shared_ssl_context()) as http, http.stream("GET", url) as reply:
            return reply.status_code
    except httpx.HTTPError:
        return None


# --- 10 ------------------------------------------------------------------------------------------------------------


@check(
    10,
    "streaming",
    severity="error",
    kind="runtime",
    summary="a streaming tool's /stream sends valid events and a terminal done event",
    fix="Emit values with ctx.emit(key, value) and let the SDK end the stream; by hand, send "
    'data: {"output_key", "value", "done": false} events and one with "done": true',
    requires=SAMPLED,
)
def streaming(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: only for tools with an output declared `streaming: true`. The validator starts a fresh run
    with the sample inputs, opens `GET /stream?run_id=<id>` and reads it until the terminal event
    (`"done": true`), for at most the run timeout (`max_runtime_seconds + 5`). It fails when the
    stream is not a 200, a frame cannot be read as JSON naming a declared output, or no `done`
    arrives in time; it warns when the content type is not `text/event-stream`, when nothing but
    the terminal event was streamed, and for the legacy frames real tools send
    (`{"chunk": "..."}` and per-key deltas `{"<output_key>": ...}`), which are accepted. A tool built
    with the SDK must also answer 404 for an unknown run id (a warning otherwise); hand-written
    tools that answer 200 there are accepted.

    Why it matters: the host relays `/stream` to the browser event by event and persists the final state when
    `done` arrives. Without a terminal event the run never finishes in the UI; unreadable frames
    are dropped.

    How to fix: with the SDK, call `ctx.emit(key, value)` from the handler and return the final outputs: the
    SDK sends canonical events and the terminal one. By hand, send
    `data: {"output_key": "<key>", "value": <v>, "done": false}` per value and finish with one
    event whose `done` is true (it may carry `"outputs"`, the final values).

    Example:

        data: {"output_key": "story", "value": "Once upon a time", "done": false}

        data: {"output_key": null, "value": null, "done": true, "outputs": {"story": "..."}}
    """
    manifest = ctx.require_manifest()
    if not manifest.streams:
        raise ctx.skip("no output is declared streaming: true")
    client = live_client(ctx)
    earlier = _SAMPLE_STREAMS.get(ctx)
    if earlier is not None and earlier.done is None:
        # The sample run's stream (read by check 9) never finished: a fresh run would only wait as long again.
        yield ctx.finding("judged the sample run's stream, which did not finish", severity="info")
        yield from _judge_stream(ctx, earlier, manifest, deadline=ctx.run_timeout)
    else:
        yield from _fresh_stream(ctx, client, manifest)
    if ctx.is_sdk_tool:
        unknown = f"{client.base_url}{ROUTE_STREAM}?{httpx.QueryParams({'run_id': new_run_id()})}"
        status = _status_only(unknown, UNKNOWN_STREAM_PROBE_SECONDS)
        if status != 404:
            got = "no reply" if status is None else f"status {status}"
            yield ctx.finding(
                f"GET /stream with an unknown run id gave {got}, not 404",
                severity="warning",
                request=curl_command("GET", unknown),
                fix="Answer 404 for a run id the tool does not know",
            )


def _fresh_stream(ctx: CheckContext, client: ContractClient, manifest: ToolManifest) -> Iterator[Finding]:
    inputs = ctx.sample_inputs if ctx.sample_inputs is not None else sample_inputs(manifest)
    started = time.monotonic()
    run = client.run_inputs(inputs, manifest, timeout=ctx.run_timeout)
    if run.status != 200:
        got = run.error or f"status {run.status}: {run.envelope().message()}"
        yield ctx.finding(f"POST /run of the streamed run failed ({got})", request=run.curl)
        return
    read = read_stream(client.base_url, stream_run_id(run), manifest, deadline=ctx.run_timeout)
    total = time.monotonic() - started
    yield from _judge_stream(ctx, read, manifest, deadline=ctx.run_timeout)
    if read.done is not None:
        _STREAM_SECONDS[ctx] = total
        events = len(read.result.events)
        yield ctx.finding(f"{events} event(s), done {total:.2f} s after POST /run", severity="info")


def _stream_tail(body: bytes, heartbeats: int) -> str | None:
    """The last data lines of a stream, heartbeat comments counted rather than shown."""
    lines = [line for line in body.decode("utf-8", errors="replace").splitlines() if line and not line.startswith(":")]
    if not lines and not heartbeats:
        return None
    shown = "\n".join(lines[-STREAM_TAIL_LINES:]) or "(no data lines)"
    return f"last lines of the stream:\n{shown}" + (f"\n({heartbeats} heartbeat comment(s))" if heartbeats else "")


def _judge_stream(ctx: CheckContext, read: StreamRead, manifest: ToolManifest, *, deadline: float) -> Iterator[Finding]:
    exchange, result = read.exchange, read.result
    request = curl_command("GET", exchange.url)
    if exchange.status is None:
        yield ctx.finding(f"GET /stream failed: {exchange.error}", request=request, details=ctx.output_tail() or None)
        return
    if exchange.status != 200:
        detail = exchange.envelope().message()
        yield ctx.finding(f"GET /stream answered {exchange.status}: {detail}"[:300], request=request)
        return
    if "text/event-stream" not in exchange.content_type:
        shown = exchange.content_type or "no content type"
        yield ctx.finding(
            f"GET /stream is served as {shown}, not text/event-stream",
            severity="warning",
            request=request,
            fix="Serve /stream with media type text/event-stream",
        )
    for problem in result.bad_frames[:MAX_LISTED_BAD_FRAMES]:
        yield ctx.finding(f"an unreadable stream frame: {problem}", request=request)
    if len(result.bad_frames) > MAX_LISTED_BAD_FRAMES:
        yield ctx.finding(f"... and {len(result.bad_frames) - MAX_LISTED_BAD_FRAMES} more unreadable frames")
    if result.legacy_frames:
        yield ctx.finding(
            f"{result.legacy_frames} legacy frame(s) (`chunk` or per-key deltas): accepted",
            severity="warning",
            fix='Send canonical events: {"output_key": "<key>", "value": <v>, "done": false}',
        )
    declared = {o.key for o in manifest.outputs}
    strays = sorted({e.output_key for e in result.events if e.output_key is not None and e.output_key not in declared})
    if strays:
        yield ctx.finding(
            f"events for undeclared output(s) {', '.join(f'`{k}`' for k in strays)} (ignored by the host)",
            severity="warning",
        )
    done = result.done
    if done is None:
        if read.timed_out:
            message = f"no terminal done event within {deadline:g} s"
        elif exchange.error:
            message = f"the stream broke before its done event: {exchange.error}"
        else:
            message = "the stream ended without a terminal done event"
        yield ctx.finding(message, request=request, details=_stream_tail(exchange.body, result.heartbeats))
        return
    if done.status == "error":
        why = done.error.get("detail") if isinstance(done.error, dict) else None
        yield ctx.finding(f"the streamed run failed: {why or 'no detail'}"[:400], request=request)
    if not any(not e.done for e in result.events):
        yield ctx.finding(
            "the stream sent only its terminal event: nothing was streamed",
            severity="warning",
            fix="Emit values as they are ready (ctx.emit), or drop `streaming: true` from the outputs",
        )


# --- 14 ------------------------------------------------------------------------------------------------------------


@dataclass
class _Flight:
    """A run the cancel probe starts in a worker thread, and how it ended."""

    started_at: float = 0.0
    replied_at: float | None = None
    """The /run reply came (for a streaming tool, the stream follows)."""
    ended_at: float | None = None
    completed: bool = False
    """The run ended normally (200, or a stream done without a cancelled/error status)."""
    outcome: str = ""
    replied: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)


def _fly(flight: _Flight, own: ContractClient, request: RunRequest, timeout: float, manifest: ToolManifest) -> None:
    try:
        exchange = own.run(request, timeout=timeout)
        flight.replied_at = time.monotonic()
        flight.replied.set()
        if not manifest.streams or exchange.status != 200:
            flight.completed = exchange.status == 200
            flight.outcome = exchange.error or f"POST /run answered {exchange.status}"
            return
        read = read_stream(own.base_url, stream_run_id(exchange), manifest, deadline=timeout, stop=flight.stop)
        done = read.done
        flight.completed = done is not None and done.status not in ("cancelled", "error")
        if done is None:
            flight.outcome = "the stream ended without a done event"
        elif done.status is None:
            flight.outcome = "the stream ended with its done event"
        else:
            flight.outcome = f"the stream ended with status {done.status}"
    except BaseException as exc:  # a worker thread must never raise: nobody would see it
        flight.outcome = f"{type(exc).__name__}: {exc}"
    finally:
        flight.ended_at = time.monotonic()
        flight.replied.set()


def _no_route(exchange: Exchange) -> bool:
    """A 404/405 from the framework itself (no such endpoint), not a 404 for an unknown run."""
    if exchange.status == 405:
        return True
    try:
        body = exchange.json()
    except ValueError:
        return True
    return not isinstance(body, dict) or body.get("detail") in ("Not Found", "Method Not Allowed")


@check(
    14,
    "cancel",
    severity="warning",
    kind="runtime",
    summary="/cancel answers, and stops a run in flight within the 2 s grace (a missing /cancel is only noted)",
    fix="Check ctx.cancelled (or use ctx.sleep / ctx.sleep_sync) in long loops, so /cancel stops the run",
    requires=SAMPLED,
)
def cancel(ctx: CheckContext) -> Iterator[Finding]:
    """What it checks: first `POST /cancel?run_id=<unknown id>`: 200 `{"cancelled": false}` and 204 are fine; a
    404/405 from the framework means there is no `/cancel`, which is only noted (the host then
    stops the process to cancel). Then, for a streaming tool or one whose sample run took over
    1 s, the validator starts a run with the sample inputs, cancels it shortly after, and warns
    when the run is still going 2 s after the cancel, or ran to completion as if never cancelled.
    Every wait is bounded.

    Why it matters: when a user presses Stop, the host posts `/cancel` and waits 2 s; a run still going then is
    ended by killing the tool's process group, and the next run pays a cold start.

    How to fix: in long handlers, check `ctx.cancelled` in loops, or sleep with `await ctx.sleep(s)` /
    `ctx.sleep_sync(s)`, which wake with `RunCancelled` as soon as the run is cancelled. The
    SDK's `/cancel` sets the flag and, for async handlers, cancels the task.

    Example:

        for chunk in chunks:
            ctx.check_cancelled()   # raises RunCancelled once /cancel came
            work(chunk)
    """
    manifest = ctx.require_manifest()
    client = live_client(ctx)
    with ContractClient(client.base_url) as fresh:  # a 500 here may reset its connection (§9): keep it apart
        probe = fresh.cancel(new_run_id())
    if probe.status is None:
        yield ctx.finding(f"POST /cancel failed: {probe.error}", request=probe.curl)
        return
    if probe.status in (404, 405) and _no_route(probe):
        yield ctx.finding("no /cancel endpoint: the host falls back to stopping the process", severity="info")
        return
    if probe.status >= 500:
        yield ctx.finding(
            f"POST /cancel with an unknown run id answered {probe.status}: {probe.envelope().message()}"[:300],
            request=probe.curl,
            fix='Answer 200 {"cancelled": false} for a run id the tool does not know',
        )
        return
    yield from _cancel_reply_notes(ctx, probe)
    reference = _STREAM_SECONDS.get(ctx) if manifest.streams else _sample_seconds(ctx)
    if not manifest.streams and (reference is None or reference < CANCEL_PROBE_MIN_RUN_SECONDS):
        shown = f"{reference * 1000:.0f} ms" if reference is not None else "an unknown time"
        yield ctx.finding(f"the sample run takes {shown}: only the /cancel endpoint was probed", severity="info")
        return
    yield from _cancel_in_flight(ctx, client, manifest, reference)


def _sample_seconds(ctx: CheckContext) -> float | None:
    return ctx.sample_exchange.elapsed_ms / 1000 if ctx.sample_exchange is not None else None


def _cancel_reply_notes(ctx: CheckContext, probe: Exchange) -> Iterator[Finding]:
    if probe.status == 204:
        return
    if probe.status == 200:
        try:
            body = probe.json()
        except ValueError:
            body = None
        if not (isinstance(body, dict) and isinstance(body.get("cancelled"), bool)):
            yield ctx.finding('POST /cancel answered 200 without {"cancelled": <bool>}', severity="info")
        return
    yield ctx.finding(
        f"POST /cancel with an unknown run id answered {probe.status}, not 200",
        severity="info" if probe.status == 404 else "warning",
        request=probe.curl,
    )


def _cancel_in_flight(
    ctx: CheckContext, client: ContractClient, manifest: ToolManifest, reference: float | None
) -> Iterator[Finding]:
    inputs = ctx.sample_inputs if ctx.sample_inputs is not None else sample_inputs(manifest)
    run_id = new_run_id()
    request = build_run_request(inputs, run_id=run_id, manifest=manifest)
    delay = min(CANCEL_DELAY_SECONDS, reference / 4) if reference else CANCEL_DELAY_SECONDS
    own = ContractClient(client.base_url)
    flight = _Flight(started_at=time.monotonic())
    worker = threading.Thread(
        target=_fly, args=(flight, own, request, ctx.run_timeout, manifest), name="pixie-cancel-probe", daemon=True
    )
    worker.start()
    try:
        if manifest.streams:
            flight.replied.wait(ctx.run_timeout)  # the run exists once /run has answered
        time.sleep(delay)
        if flight.ended_at is not None:
            yield ctx.finding(
                f"the run ended before /cancel was sent ({flight.outcome}); cancel was not exercised", severity="info"
            )
            return
        cancel_at = time.monotonic()
        reply = client.cancel(run_id)
        worker.join(CANCEL_GRACE_SECONDS + CANCEL_MARGIN_SECONDS)
        if flight.ended_at is None:
            yield ctx.finding(
                f"the run was still going {CANCEL_GRACE_SECONDS:g} s after POST /cancel "
                f"(answered {reply.status}); the host would kill the process",
                request=reply.curl,
            )
            return
        if flight.ended_at < cancel_at:
            yield ctx.finding(f"the run ended as /cancel was sent ({flight.outcome})", severity="info")
            return
        took = flight.ended_at - flight.started_at
        if flight.completed and reference and took >= CANCEL_COMPLETION_RATIO * reference:
            yield ctx.finding(
                f"the run ran to completion ({took:.2f} s) despite POST /cancel (answered {reply.status})",
                request=reply.curl,
            )
            return
        after = flight.ended_at - cancel_at
        yield ctx.finding(f"the run stopped {after:.2f} s after POST /cancel ({flight.outcome})", severity="info")
    finally:
        flight.stop.set()
        own.close()
        worker.join(WORKER_JOIN_SECONDS)
