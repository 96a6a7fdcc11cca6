"""Streaming story: a streaming tool that tells a story one sentence at a time.

Each sentence is streamed to the ``story`` output (stream_text appends), one point is added
to the ``words`` chart (chart_line appends to the named series) and progress is reported.
The pause between sentences uses ``ctx.sleep_sync``, so ``/cancel`` stops the run at once.
"""

from __future__ import annotations

from typing import Any

from pixie_sdk import RunContext, RunInput, make_tool_app, serve

app = make_tool_app(__file__)

OPENING = "Once upon a time there was a {topic} that nobody in town had ever really noticed."
MIDDLE = (
    "Every morning the {topic} woke before the sun and listened to the sea.",
    "A girl called Mira walked past it on her way to school and waved.",
    "One stormy night the {topic} did something nobody expected.",
    "The fishermen talked about it for weeks, each telling it a little differently.",
    "Mira wrote everything down in a blue notebook she kept under her bed.",
    "Years later a stranger arrived, asking questions about the {topic}.",
    "Nobody could quite explain what had happened, but everybody remembered.",
    "The {topic} kept its secret, patient as ever.",
)
ENDING = "And that is why, to this day, people still smile when they pass the {topic}."


def sentence(n: int, total: int, topic: str) -> str:
    """Sentence ``n`` (1-based) of a ``total``-sentence story about ``topic``; the same inputs give the same story."""
    if n == 1:
        template = OPENING
    elif n == total:
        template = ENDING
    else:
        template = MIDDLE[(n - 2) % len(MIDDLE)]
    return template.format(topic=topic)


@app.handler
def run(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
    topic = inputs.topic.strip() or "lighthouse"
    total = int(inputs.sentences)
    parts: list[str] = []
    counts: list[int] = []
    for n in range(1, total + 1):
        text = sentence(n, total, topic)
        parts.append(text)
        counts.append((counts[-1] if counts else 0) + len(text.split()))
        ctx.emit("story", text if n == 1 else " " + text)  # stream_text: each value is appended
        ctx.emit("words", {"x": [n], "series": [{"name": "Words", "y": [counts[-1]]}]})  # one more point
        ctx.progress(n / total, f"sentence {n} of {total}")
        if n < total:
            ctx.sleep_sync(inputs.delay)  # raises RunCancelled as soon as the run is cancelled
    return {
        "story": " ".join(parts),
        "progress": 1.0,
        "words": {"x": list(range(1, total + 1)), "series": [{"name": "Words", "y": counts}]},
    }


if __name__ == "__main__":
    serve(app)
