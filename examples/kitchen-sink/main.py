"""Kitchen sink: one input of each of the 28 input types, one output of each of the 39 output types.

A reference for tool authors (what value each input type hands the handler) and a fixture
for the validator, the host and the UI (a valid value of every output type). The values are
derived from the inputs and are deterministic; the builders live in ``builders.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import builders

from pixie_sdk import InputFile, RunInput, make_tool_app, outputs, serve

app = make_tool_app(__file__)

FRUITS = (
    "apple", "apricot", "banana", "blackberry", "blueberry", "cherry", "clementine", "damson", "date", "fig",
    "gooseberry", "grape", "greengage", "kiwi", "lemon", "lime", "mango", "melon", "nectarine", "orange",
    "peach", "pear", "plum", "quince", "raspberry", "rhubarb", "strawberry",
)  # fmt: skip
#: A short public-domain (CC0) clip: a video output may be an https URL as well as a data URL or an artefact.
VIDEO_URL = "https://interactive-examples.mdn.mozilla.net/media/cc0-videos/flower.mp4"


@app.autocomplete("fruits")
def suggest_fruits(q: str) -> list[dict[str, str]]:
    """Fruits whose name contains the typed text, best (prefix) matches first."""
    needle = q.strip().lower()
    found = sorted((f for f in FRUITS if needle in f), key=lambda f: (not f.startswith(needle), f))
    return [{"value": f, "label": f.capitalize()} for f in found[:10]]


@app.handler
def run(inputs: RunInput) -> dict[str, Any]:
    name: str = inputs.name
    quantity = int(inputs.quantity)
    size: int = inputs.size  # a select keeps its option value's type: an int here
    low, high = inputs.price_range  # a range slider gives (lo, hi)
    items = builders.line_items(inputs.items)
    basket = round(sum(i["total"] for i in items), 2)
    total = round(basket * quantity, 2)
    settings: dict[str, Any] = inputs["json"]  # `json` clashes with a BaseModel method: use inputs["json"]
    colour = builders.hex_to_rgb(inputs.colour)
    scale = int(settings.get("scale", 1))

    data_file: InputFile = inputs.data_file
    picture: InputFile = inputs.picture
    clip: InputFile | None = inputs.clip
    numbers = builders.csv_numbers(data_file.data.decode("utf-8", errors="replace")) or [i["price"] for i in items]

    shape_image = builders.shape_png(inputs.shape, colour, size=32 * scale)
    swatches = [builders.shape_png(s, colour, size=32) for s in ("circle", "square", "triangle")]
    tone_hz = 220.0 * size
    audio = clip.data_url() if clip is not None else outputs.audio(builders.tone_wav(tone_hz), mime_type="audio/wav")

    start_date: dt.date = inputs.start_date
    start_time: dt.time = inputs.start_time
    deadline: dt.datetime = inputs.deadline
    period_start, period_end = inputs.period
    starts_at = dt.datetime.combine(start_date, start_time)
    prep = sorted([starts_at, deadline.replace(tzinfo=None)])  # a gantt bar must not end before it starts

    received = inputs.as_dict()
    kinds = {spec.key: spec.type for spec in app.manifest.inputs}
    log_lines: list[dict[str, Any]] = [
        {"t": starts_at.isoformat(), "level": "info", "message": f"order for {name}: {quantity} x {basket:.2f}"},
        {"t": starts_at.isoformat(), "level": "info", "message": f"{len(items)} line items, total {total:.2f}"},
    ]
    if not low <= basket <= high:
        log_lines.append({"level": "warning", "message": f"basket {basket:.2f} is outside {low:g}-{high:g}"})
    if inputs.verbose:
        log_lines += [{"level": "debug", "message": f"{key} = {builders.plain(v)!r}"} for key, v in received.items()]

    notes = f"\n\n> {inputs.notes.strip()}" if inputs.notes else ""  # None while `extras` hides it
    bullets = "\n".join(f"- {t}" for t in inputs.toppings) or "- no toppings"
    terms = " + ".join(f"{i['qty']:g} \\times {i['price']:.2f}" for i in items)

    return {
        "text": f"Hello, {name}! {quantity} basket(s) with {inputs.fruit}, {basket:.2f} each.",
        "markdown": f"{inputs.intro}\n\n**Toppings**\n\n{bullets}\n\nLabels: `{'`, `'.join(inputs.labels)}`{notes}",
        "latex": f"\\text{{total}} = {quantity} \\left( {terms} \\right) = {total:.2f}",
        "code": {"value": inputs.snippet, "language": "python"},
        "stream_text": f"A stream_text value may also arrive whole: {name}'s order is ready.",
        "number": total,
        "boolean": low <= basket <= high,
        "progress": 1.0,
        "image": outputs.image(shape_image, alt=f"a {inputs.shape} in {inputs.colour}"),
        "audio": audio,
        "video": {"value": VIDEO_URL, "poster": outputs.image(shape_image)},
        "table": {"rows": items},  # columns and `downloadable` come from the spec in tool.json
        "kv": outputs.kv({key: builders.plain(v) for key, v in received.items()}),
        "log": {"lines": log_lines},
        "diff": builders.diff(inputs.snippet, name),
        "tree": builders.tree(received, kinds),
        "timeline": {
            "events": [
                {"t": period_start.isoformat(), "title": "Period opens"},
                {"t": starts_at.isoformat(), "title": "Start", "description": f"{name} starts the order"},
                {"t": deadline.isoformat(), "title": "Deadline", "description": settings.get("title", "")},
                {"t": period_end.isoformat(), "title": "Period closes"},
            ]
        },
        "gantt": {
            "tasks": [
                {"name": "Order window", "start": period_start.isoformat(), "end": period_end.isoformat()},
                {"name": "Preparation", "start": prep[0].isoformat(), "end": prep[1].isoformat(), "colour": "#3366cc"},
                {
                    "name": "Delivery",
                    "start": deadline.isoformat(),
                    "end": (deadline + dt.timedelta(days=1)).isoformat(),
                    "label": f"{quantity} baskets",
                },
            ]
        },
        **builders.charts(items, numbers, quantity, size),
        **builders.maps(inputs.location, inputs.area, inputs.zone, inputs.stops),
        "image_grid": {"images": [picture.data_url(), *(outputs.image(s) for s in swatches)]},
        "image_compare": {
            "before": outputs.image(shape_image),
            "after": outputs.image(builders.shape_png(inputs.shape, builders.invert(colour), size=32 * scale)),
            "before_label": inputs.colour,
            "after_label": "#{:02x}{:02x}{:02x}".format(*builders.invert(colour)),
        },
        "file": outputs.file(builders.csv_text(items), "order.csv", mime_type="text/csv"),
    }


if __name__ == "__main__":
    serve(app)
