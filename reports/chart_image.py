"""A report chart drawn on the server, for the monthly report: SVG for its PDF, PNG (Pillow) for its DOCX.

No browser and no network: the same ``tables.Chart`` the page draws with ECharts, as bars (grouped, or
stacked when its series share a stack) with the plan's level colours, a legend, a value axis with grid
lines, and the text in Noto Sans CJK so Chinese labels read. An empty chart keeps its axes and says so.
``layout`` places the shapes once; ``render_png`` and ``render_svg`` only paint them.
"""

import io
import math
from dataclasses import dataclass
from functools import cache
from html import escape

from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from .tables import Chart

FONT_FILE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4"]
WIDTH, HEIGHT = 1600, 760
LEFT, RIGHT, TOP, BOTTOM = 130, 40, 120, 150
INK, MUTED, GRID = "#24292f", "#6e7781", "#d0d7de"


@cache
def _face_index() -> int:
    """The Simplified Chinese face of the collection (the file holds JP, KR, SC, TC and HK faces)."""
    for index in range(10):
        try:
            face = ImageFont.truetype(FONT_FILE, 20, index=index)
        except OSError:
            break
        if "SC" in " ".join(part or "" for part in face.getname()):
            return index
    return 0


@cache
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_FILE, size, index=_face_index())
    except OSError:  # a machine without Noto CJK: Latin text still reads
        return ImageFont.load_default(size)


def _nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value``: a value axis with round ticks."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= value)


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> str:
    face = font(size)
    if draw.textlength(text, font=face) <= width:
        return text
    while text and draw.textlength(text + "…", font=face) > width:
        text = text[:-1]
    return text + "…"


@dataclass(frozen=True)
class Rect:
    box: tuple[float, float, float, float]
    fill: str


@dataclass(frozen=True)
class Line:
    points: tuple[float, float, float, float]
    stroke: str
    width: int


@dataclass(frozen=True)
class Text:
    at: tuple[float, float]
    text: str
    size: int
    fill: str
    # Pillow's anchor: horizontal l/m/r, vertical a (top), m (middle), d (bottom).
    anchor: str = "la"


Shape = Rect | Line | Text


def layout(chart: Chart) -> list[Shape]:
    shapes: list[Shape] = [Text((LEFT, 24), chart.title, 40, INK)]
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    series = chart.series
    stacked = any(s.stack for s in series)
    colours = [s.color or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    if len(series) > 1:
        x = float(LEFT)
        for s, colour in zip(series, colours, strict=True):
            shapes += [Rect((x, 82, x + 24, 102), colour), Text((x + 32, 76), s.name, 26, INK)]
            x += 32 + measure.textlength(s.name, font=font(26)) + 36
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bottom = TOP + plot_h
    values = [[v or 0 for v in s.data] for s in series]
    if stacked:
        peak = max((sum(column) for column in zip(*values, strict=True)), default=0)
    else:
        peak = max((v for row in values for v in row), default=0)
    # Counts get whole-number ticks (at least 0 to 5); durations and shares their own scale.
    top_value = 100.0 if chart.unit == "%" else _nice_max(float(peak) if chart.unit else max(5.0, float(peak)))
    for i in range(6):
        y = bottom - plot_h * i / 5
        shapes.append(Line((LEFT, y, LEFT + plot_w, y), GRID, 2))
        shapes.append(Text((LEFT - 12, y), f"{top_value * i / 5:g}{'%' if chart.unit == '%' else ''}", 24, MUTED,
                           "rm"))
    shapes.append(Line((LEFT, bottom, LEFT + plot_w, bottom), MUTED, 3))
    if chart.empty or not chart.x:
        shapes.append(Text((LEFT + plot_w / 2, TOP + plot_h / 2), chart.empty_text or _("No incidents"), 36, MUTED, "mm"))
        return shapes
    slot = plot_w / len(chart.x)
    bars = 1 if stacked else max(1, len(series))
    bar_w = min(70.0, slot * 0.7 / bars)
    for index, name in enumerate(chart.x):
        centre = LEFT + slot * (index + 0.5)
        base = float(bottom)
        for number, (row, colour) in enumerate(zip(values, colours, strict=True)):
            value = float(row[index])
            height = plot_h * min(value, top_value) / top_value
            if stacked:
                if height:
                    shapes.append(Rect((centre - bar_w / 2, base - height, centre + bar_w / 2, base), colour))
                base -= height
                continue
            x0 = centre - bar_w * bars / 2 + bar_w * number
            if height:
                shapes.append(Rect((x0 + 2, bottom - height, x0 + bar_w - 2, bottom), colour))
            if series[number].data[index] is not None:
                shapes.append(Text((x0 + bar_w / 2, bottom - height - 6), f"{value:g}", 22, INK, "md"))
        if stacked and base < bottom:
            total = sum(float(row[index]) for row in values)
            shapes.append(Text((centre, base - 6), f"{total:g}", 22, INK, "md"))
        shapes.append(Text((centre, bottom + 14), _fit(measure, str(name), int(slot) - 8, 24), 24, INK, "ma"))
    return shapes


def render_png(chart: Chart) -> bytes:
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    for shape in layout(chart):
        if isinstance(shape, Rect):
            draw.rectangle(shape.box, fill=shape.fill)
        elif isinstance(shape, Line):
            draw.line(shape.points, fill=shape.stroke, width=shape.width)
        else:
            draw.text(shape.at, shape.text, fill=shape.fill, font=font(shape.size), anchor=shape.anchor)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


_SVG_ANCHOR = {"l": "start", "m": "middle", "r": "end"}
# From Pillow's vertical anchors to an alphabetic baseline, as a share of the font size (Noto Sans CJK).
_SVG_BASELINE = {"a": 0.88, "m": 0.35, "d": -0.12}


def render_svg(chart: Chart) -> str:
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH / 10:g}mm" '
             f'height="{HEIGHT / 10:g}mm" font-family="Noto Sans CJK SC, Noto Sans CJK, sans-serif">',
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>']
    for shape in layout(chart):
        if isinstance(shape, Rect):
            x0, y0, x1, y1 = shape.box
            parts.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
                         f'fill="{shape.fill}"/>')
        elif isinstance(shape, Line):
            x0, y0, x1, y1 = shape.points
            parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{shape.stroke}" '
                         f'stroke-width="{shape.width}"/>')
        else:
            x, y = shape.at
            y += shape.size * _SVG_BASELINE[shape.anchor[1]]
            parts.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{shape.size}" fill="{shape.fill}" '
                         f'text-anchor="{_SVG_ANCHOR[shape.anchor[0]]}">{escape(shape.text)}</text>')
    parts.append("</svg>")
    return "".join(parts)
