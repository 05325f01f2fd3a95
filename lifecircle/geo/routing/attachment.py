"""Where points join the walking network: a segment, a position along it and the straight access walk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Attachment:
    """Where each of a set of points joins the network.

    The straight line from the point to the street (``access_m``) counts as walking, and so does the part of the
    segment from the joining point to either end.

    Attributes
    ----------
    segment
        Index of the street segment joined (``-1`` where the point is farther than the snap limit).
    fraction
        Position of the joining point along the segment, 0 at ``segment_u`` and 1 at ``segment_v``.
    access_m
        Straight-line distance from the point to the joining point (``inf`` when not snapped).
    """

    segment: np.ndarray
    fraction: np.ndarray
    access_m: np.ndarray

    def __len__(self) -> int:
        return len(self.segment)

    @property
    def snapped(self) -> np.ndarray:
        """True where the point joined the network."""
        return self.segment >= 0

    def take(self, positions: np.ndarray) -> Attachment:
        """The attachments of a subset of the points, in the order of ``positions``."""
        return Attachment(self.segment[positions], self.fraction[positions], self.access_m[positions])
