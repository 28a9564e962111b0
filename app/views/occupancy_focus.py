"""One channel's occupancy brought forward: what selecting a channel node shows.

The timeline's counter tracks (``app.views.counter_tracks``) draw, for a CSP run, one occupancy
step curve per channel in the occupancy track. When the user selects a channel on the canvas,
the track is shown (checked in the Tracks menu, as if the user had) with that channel's curve
alone and thicker; selecting anything else brings every curve back at its normal width (the
track stays as the user left it).
"""

from __future__ import annotations

import pyqtgraph as pg

from .counter_tracks import CounterTracks

__all__ = ["focus_channel", "FOCUS_WIDTH", "NORMAL_WIDTH"]

NORMAL_WIDTH = 2  # the counter tracks' occupancy pen
FOCUS_WIDTH = 4


def focus_channel(tracks: CounterTracks, name: str | None) -> bool:
    """Isolates channel ``name``'s occupancy curve and shows the occupancy track (None: every
    curve again). True when the channel has a curve; otherwise every curve is shown, as for
    None."""
    curves = tracks.occupancy_curves
    target = curves.get(name) if name is not None else None
    for curve in curves.values():
        pen = pg.mkPen(curve.opts["pen"])
        pen.setWidth(FOCUS_WIDTH if curve is target else NORMAL_WIDTH)
        curve.setPen(pen)
        curve.setVisible(target is None or curve is target)
    if target is not None:
        tracks.set_track_shown("occupancy", True)
    return target is not None
