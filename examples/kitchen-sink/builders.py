"""Builders for the kitchen-sink tool: a tiny PNG and WAV encoder and one value per output type.

Everything here is deterministic: the same inputs always give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import struct
import wave
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from pixie_sdk import ToolError

RGB = tuple[int, int, int]
Point = tuple[float, float]
#: Largest quantity or price a line item may have (keeps every derived total finite).
MAX_CELL = 1e9


# -- media encoders -------------------------------------------------------------------------------


def png(width: int, height: int, pixel: Any) -> bytes:
    """Encode an RGB image as PNG; ``pixel(x, y)`` returns the ``(r, g, b)`` of each pixel."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def hex_to_rgb(colour: str) -> RGB:
    """``#rrggbb`` as an ``(r, g, b)`` tuple."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def shape_png(shape: str, colour: RGB, size: int = 48, background: RGB = (255, 255, 255)) -> bytes:
    """A ``size`` x ``size`` PNG of a filled circle, square or triangle."""
    half = size / 2

    def inside(x: int, y: int) -> bool:
        cx, cy = x + 0.5 - half, y + 0.5 - half
        if shape == "circle":
            return cx * cx + cy * cy <= (half * 0.8) ** 2
        if shape == "triangle":
            top, bottom = size * 0.1, size * 0.9
            return top <= y <= bottom and abs(cx) <= (y - top) / (bottom - top) * half * 0.9
        return abs(cx) <= half * 0.7 and abs(cy) <= half * 0.7

    return png(size, size, lambda x, y: colour if inside(x, y) else background)


def invert(colour: RGB) -> RGB:
    """The complementary colour."""
    return 255 - colour[0], 255 - colour[1], 255 - colour[2]


def tone_wav(frequency: float, seconds: float = 0.4, rate: int = 8000) -> bytes:
    """A mono 16-bit sine tone with a short fade in and out, as WAV bytes."""
    frames = int(seconds * rate)
    fade = max(1, rate // 50)
    samples = bytearray()
    for n in range(frames):
        envelope = min(1.0, n / fade, (frames - n) / fade)
        samples += struct.pack("<h", int(0.5 * 32767 * envelope * math.sin(2 * math.pi * frequency * n / rate)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(samples))
    return buffer.getvalue()


# -- text and structure ---------------------------------------------------------------------------


def csv_numbers(text: str) -> list[float]:
    """Every cell of a CSV that reads as a finite number, in order."""
    found: list[float] = []
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            try:
                number = float(cell)
            except ValueError:
                continue
            if math.isfinite(number):
                found.append(number)
    return found


def cell_number(row: int, column: str, value: Any) -> float:
    """A table cell as a finite number (empty counts as 0); a readable ``ToolError`` otherwise."""
    if value is None or value == "":
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not abs(number) <= MAX_CELL or isinstance(value, bool):  # also false for NaN
        raise ToolError(
            f"line item {row}: `{column}` must be a number up to {MAX_CELL:g}, got {value!r}", code="bad_item"
        )
    return number


def line_items(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Table rows with a computed line total."""
    items = []
    for n, row in enumerate(rows, start=1):
        qty, price = cell_number(n, "qty", row.get("qty")), cell_number(n, "price", row.get("price"))
        items.append({"item": str(row.get("item") or "?"), "qty": qty, "price": price, "total": round(qty * price, 2)})
    return items


def csv_text(items: Sequence[dict[str, Any]]) -> str:
    """The line items as CSV text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["item", "qty", "price", "total"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(items)
    return buffer.getvalue()


def plain(value: Any) -> Any:
    """A handler-side input value (dates, tuples, files) as a short JSON scalar for a kv pair."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if hasattr(value, "mime_type") and hasattr(value, "size"):
        return f"{value.name} ({value.mime_type}, {value.size} bytes)"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return f"{len(value)} rows"
    if isinstance(value, list | tuple):
        return ", ".join(str(plain(v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={plain(v)}" for k, v in value.items())
    return str(value)


def tree(inputs: Mapping[str, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    """A ``tree`` of the inputs, grouped by input type family."""
    families: dict[str, list[dict[str, Any]]] = {}
    for key, value in inputs.items():
        family = kinds[key].split("_")[0]
        families.setdefault(family, []).append({"name": key, "meta": {"type": kinds[key], "value": plain(value)}})
    children = [{"name": name, "children": items} for name, items in sorted(families.items())]
    return {"root": {"name": "inputs", "meta": {"count": len(inputs)}, "children": children}}


def diff(snippet: str, name: str) -> dict[str, Any]:
    """A ``diff`` of the code input before and after a small rewrite (a header and no tabs)."""
    after = f"# greeting for {name}\n" + snippet.replace("\t", "    ").rstrip() + "\n"
    return {"before": snippet, "after": after, "filename_before": "snippet.py", "filename_after": "snippet.py"}


# -- charts ---------------------------------------------------------------------------------------


def charts(items: Sequence[dict[str, Any]], numbers: Sequence[float], quantity: int, size: int) -> dict[str, Any]:
    """One value for each of the 13 chart types, from the line items, the CSV numbers and two numbers."""
    names = [i["item"] for i in items]
    keyed = [(f"item-{n}", i) for n, i in enumerate(items)]  # node ids must be unique even when names repeat
    steps = list(range(1, quantity + 1))
    cumulative = [round(sum(i["total"] for i in items) * n, 2) for n in steps]
    candles = []
    price = 100.0
    for day in range(8):
        move = math.sin(day * 1.3 + size) * 4
        open_, close = price, round(price + move, 2)
        candles.append(
            {
                "t": (dt.date(2024, 1, 1) + dt.timedelta(days=day)).isoformat(),
                "open": open_,
                "high": round(max(open_, close) + 1.5, 2),
                "low": round(min(open_, close) - 1.5, 2),
                "close": close,
            }
        )
        price = close
    total = sum(i["total"] for i in items)
    return {
        "chart_line": {"x": steps, "series": [{"name": "Cumulative cost", "y": cumulative}]},
        "chart_area": {
            "x": steps,
            "series": [{"name": i["item"], "y": [round(i["total"] * n, 2) for n in steps]} for i in items],
        },
        "chart_bar": {
            "x": names,
            "series": [
                {"name": "Quantity", "y": [i["qty"] for i in items]},
                {"name": "Price", "y": [i["price"] for i in items]},
            ],
        },
        "chart_scatter": {
            "series": [
                {"name": "Items", "points": [{"x": i["price"], "y": i["qty"], "label": i["item"]} for i in items]}
            ]
        },
        "chart_pie": {"slices": [{"label": i["item"], "value": i["total"]} for i in items], "donut": True},
        "chart_histogram": {"values": list(numbers), "bins": 5},
        "chart_boxplot": {
            "series": [
                {"name": "CSV numbers", "values": list(numbers)},
                {"name": "Prices", "values": [i["price"] for i in items]},
            ]
        },
        "chart_heatmap": {
            "z": [[r * c for c in range(1, quantity + 1)] for r in range(1, size + 1)],
            "x_labels": [str(c) for c in range(1, quantity + 1)],
            "y_labels": [str(r) for r in range(1, size + 1)],
        },
        "chart_candlestick": {"points": candles},
        "chart_radar": {
            "axes": names,
            "series": [
                {"name": "Share of cost (%)", "values": [round(100 * i["total"] / (total or 1.0), 1) for i in items]},
                {"name": "Quantity", "values": [i["qty"] for i in items]},
            ],
        },
        "chart_sankey": {
            "nodes": [{"id": "budget", "label": "Budget"}] + [{"id": k, "label": i["item"]} for k, i in keyed],
            "links": [{"source": "budget", "target": k, "value": i["total"]} for k, i in keyed],
        },
        "chart_treemap": {
            "nodes": [{"id": "all", "label": "All items", "value": round(total, 2)}]
            + [{"id": k, "label": i["item"], "parent": "all", "value": i["total"]} for k, i in keyed]
        },
        "chart_network": {
            "nodes": [{"id": k, "label": i["item"]} for k, i in keyed],
            "edges": [{"source": a[0], "target": b[0]} for a, b in itertools.pairwise(keyed)],
        },
    }


# -- maps -----------------------------------------------------------------------------------------


def maps(location: Point, area: tuple[Point, Point], zone: Sequence[Point], stops: Sequence[Point]) -> dict[str, Any]:
    """One value for each of the 5 map types, from the four map inputs."""
    (south, west), (north, east) = area
    box = [[south, west], [south, east], [north, east], [north, west]]
    points = [{"lat": location[0], "lng": location[1], "label": "Location"}]
    points += [{"lat": lat, "lng": lng, "label": f"Stop {n + 1}"} for n, (lat, lng) in enumerate(stops)]

    def feature(fid: str, ring: Sequence[Sequence[float]]) -> dict[str, Any]:
        coords = [[lng, lat] for lat, lng in ring]  # GeoJSON is [lng, lat] and rings are closed
        return {
            "type": "Feature",
            "id": fid,
            "properties": {"name": fid},
            "geometry": {"type": "Polygon", "coordinates": [coords + coords[:1]]},
        }

    return {
        "map_points": {"points": points},
        "map_heatmap": {
            "points": [{"lat": lat, "lng": lng, "weight": n + 1} for n, (lat, lng) in enumerate([location, *stops])]
        },
        "map_route": {"points": [{"lat": lat, "lng": lng, "label": f"Leg {n}"} for n, (lat, lng) in enumerate(stops)]},
        "map_polygons": {
            "polygons": [
                {"coords": [list(p) for p in zone], "label": "Zone", "colour": "#e4572e"},
                {"coords": box, "label": "Area", "colour": "#3366cc"},
            ]
        },
        "map_choropleth": {
            "geojson": {"type": "FeatureCollection", "features": [feature("zone", zone), feature("area", box)]},
            "values": {"zone": round(_ring_area(zone), 6), "area": round(_ring_area(box), 6)},
        },
    }


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    """Planar area of a ring in square degrees (shoelace formula); enough to colour a choropleth."""
    twice = sum(a[1] * b[0] - b[1] * a[0] for a, b in zip(ring, [*ring[1:], ring[0]], strict=True))
    return abs(twice) / 2
