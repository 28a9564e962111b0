"""What a timeline layer's painter shows: its scale and offset, and the visible cycle range.

The slices (``TimelineItem``), their outlines (``TimelineMarks``) and the arrows between them
(``TimelineArrows``) all draw in device pixels from the painter's view transform; this is the
one reading of it they share.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6 import QtGui

__all__ = ["DeviceView", "device_view", "lane_pixels"]


@dataclass(frozen=True)
class DeviceView:
    """Pixel x of cycle ``c`` is ``c * sx + dx``; pixel y of lane coordinate ``y`` is
    ``y * sy + dy``; the device is ``width_px`` x ``height_px``."""

    sx: float
    dx: float
    sy: float
    dy: float
    width_px: int
    height_px: int

    @property
    def x0(self) -> float:
        """The first visible cycle (the device's left edge)."""
        return (0.0 - self.dx) / self.sx

    @property
    def x1(self) -> float:
        """The last visible cycle (the device's right edge)."""
        return (self.width_px - self.dx) / self.sx

    @property
    def y_range(self) -> tuple[float, float]:
        """The visible lane coordinates, low to high (the view may be inverted)."""
        ya, yb = (0.0 - self.dy) / self.sy, (self.height_px - self.dy) / self.sy
        return min(ya, yb), max(ya, yb)


def lane_pixels(view: DeviceView, top: float, height: float, pad: float) -> tuple[int, int]:
    """Whole-pixel top and bottom (exclusive) of a lane at ``top`` of ``height`` lane units,
    less ``pad`` of its height above and below: the raster engine fills aligned rects fast."""
    ya = view.sy * (top + pad * height) + view.dy
    yb = view.sy * (top + (1.0 - pad) * height) + view.dy
    return round(min(ya, yb)), round(max(ya, yb))


def device_view(painter: QtGui.QPainter) -> DeviceView | None:
    """The painter's view, or None when nothing can be drawn (a collapsed or flipped scale, an
    empty device)."""
    t = painter.transform()
    sx, dx, sy, dy = t.m11(), t.dx(), t.m22(), t.dy()
    device = painter.device()
    width_px, height_px = device.width(), device.height()
    if sx <= 0 or sy == 0 or width_px <= 0 or height_px <= 0:
        return None
    return DeviceView(sx, dx, sy, dy, width_px, height_px)
