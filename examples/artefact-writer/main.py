"""Artefact writer: files written into the run's artefacts folder and returned as artefact references.

``ctx.artefact(name, data, mime_type)`` writes the file and returns ``{"artefact": name,
"mime_type": ...}``; the host serves it under the run's own URL. The tool also shows the two
error paths: a ``ToolError`` (a 400 with a readable ``detail`` and a ``code``) and a crash (a 500
with a JSON ``detail``, after which the tool keeps serving).
"""

from __future__ import annotations

import csv
import io
import math
import struct
import zlib
from typing import Any

from pixie_sdk import RunContext, RunInput, ToolError, make_tool_app, serve

app = make_tool_app(__file__)

WIDTH, HEIGHT = 240, 120
BACKGROUND, AXIS, SIN, COS = (255, 255, 255), (200, 200, 200), (51, 102, 204), (228, 87, 46)


def png(width: int, height: int, pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """Encode rows of ``(r, g, b)`` pixels as an 8-bit RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(c for pixel in row for c in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def table(rows: int) -> list[tuple[int, float, float, float]]:
    """``rows`` rows of (n, angle in degrees, sin, cos), one degree apart."""
    return [(n, float(n), math.sin(math.radians(n)), math.cos(math.radians(n))) for n in range(rows)]


def chart(data: list[tuple[int, float, float, float]]) -> bytes:
    """A PNG line chart of the sin and cos columns, scaled to fit the width."""
    pixels = [[BACKGROUND] * WIDTH for _ in range(HEIGHT)]
    pixels[HEIGHT // 2] = [AXIS] * WIDTH
    for x in range(WIDTH):
        row = data[min(len(data) - 1, x * len(data) // WIDTH)]
        for value, colour in ((row[2], SIN), (row[3], COS)):
            y = round((1 - value) / 2 * (HEIGHT - 1))
            pixels[y][x] = colour
    return png(WIDTH, HEIGHT, pixels)


@app.handler
def run(inputs: RunInput, ctx: RunContext) -> dict[str, Any]:
    if inputs.crash:
        raise RuntimeError("boom")  # on purpose: the SDK answers 500 JSON and keeps serving
    rows = int(inputs.rows)
    if rows < 1 or rows != inputs.rows:
        raise ToolError(f"rows must be at least 1 and a whole number (got {inputs.rows:g})", code="bad_rows")
    data = table(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["n", "degrees", "sin", "cos"])
    writer.writerows((n, f"{deg:g}", f"{s:.6f}", f"{c:.6f}") for n, deg, s, c in data)
    csv_bytes = buffer.getvalue().encode("utf-8")
    csv_ref = ctx.artefact("table.csv", csv_bytes, mime_type="text/csv")
    png_bytes = chart(data)
    png_ref = ctx.artefact("charts/sin-cos.png", png_bytes, mime_type="image/png")
    return {
        "table_file": {"filename": "table.csv", "data": csv_ref, "mime_type": "text/csv"},
        "chart": png_ref,
        "summary": f"Wrote {rows} rows ({len(csv_bytes)} bytes) to table.csv and a {WIDTH}x{HEIGHT} PNG chart "
        f"({len(png_bytes)} bytes) to charts/sin-cos.png.",
    }


if __name__ == "__main__":
    serve(app)
