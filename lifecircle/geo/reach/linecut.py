"""Cutting many street segments at many fractions at once: a vectorised ``shapely.ops.substring``.

Segments from OSM files are straight two-point lines; GraphML networks carry curved edge geometries. Both are
handled by one numpy routine over the vertices of every segment, so thousands of pieces become LineStrings in
one ``shapely.linestrings`` call instead of a Python call per piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely


@dataclass(frozen=True, eq=False)
class SegmentVertices:
    """The vertices of a set of lines, laid end to end, with their position along their line.

    Attributes
    ----------
    coords
        ``(m, 2)`` vertices of every line, line by line, in line order.
    first
        ``(n + 1,)`` offset of each line's first vertex in ``coords`` (the last entry is ``m``).
    key
        ``(m,)`` line index ``× 2`` plus the vertex's fraction of the line's length (0 to 1): increasing along
        ``coords``, so one ``searchsorted`` finds the vertices of any stretch of any line.
    """

    coords: np.ndarray
    first: np.ndarray
    key: np.ndarray

    @classmethod
    def from_lines(cls, lines: np.ndarray) -> SegmentVertices:
        """Index the vertices of an array of LineStrings (each with at least two vertices)."""
        lines = np.asarray(lines, dtype=object)
        coords, owner = shapely.get_coordinates(lines, return_index=True)
        n = len(lines)
        counts = np.bincount(owner, minlength=n)
        if np.any(counts < 2):
            raise ValueError("every line needs at least two vertices")
        first = np.concatenate([[0], np.cumsum(counts)])
        step = np.zeros(len(coords))
        step[1:] = np.hypot(*np.diff(coords, axis=0).T)
        step[first[:-1]] = 0.0  # no step across line boundaries
        cum = np.cumsum(step)
        along = cum - cum[first[:-1]][owner]
        total = along[first[1:] - 1][owner]
        rank = (np.arange(len(coords)) - first[:-1][owner]) / (counts[owner] - 1)
        # zero-length lines: spread vertices evenly so the key still increases
        fraction = np.divide(along, total, out=rank.copy(), where=total > 0)
        fraction[first[1:] - 1] = 1.0
        return cls(coords=coords, first=first, key=owner * 2.0 + fraction)

    def _point_at(self, line: np.ndarray, key: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
        """Coordinates at ``key`` on ``line`` and the searchsorted position of ``key``."""
        pos = np.searchsorted(self.key, key, side=side)
        j = np.clip(pos - 1, self.first[line], self.first[line + 1] - 2)
        k0, k1 = self.key[j], self.key[j + 1]
        span = k1 - k0
        w = np.divide(key - k0, span, out=np.zeros_like(key), where=span > 0)
        w = np.clip(w, 0.0, 1.0)[:, None]
        return self.coords[j] * (1.0 - w) + self.coords[j + 1] * w, pos

    def cut(self, line: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """The stretches ``[start, end]`` (fractions of length) of lines ``line``, as LineStrings.

        Parameters
        ----------
        line
            Index of the line each piece is cut from.
        start, end
            Fractions of the line's length, ``0 <= start <= end <= 1``.

        Returns
        -------
        numpy.ndarray
            One LineString per piece, oriented like its line (two vertices where the stretch holds no vertex).
        """
        line = np.asarray(line, dtype=np.int64)
        if len(line) == 0:
            return np.empty(0, dtype=object)
        k0 = line * 2.0 + np.asarray(start, dtype=float)
        k1 = line * 2.0 + np.asarray(end, dtype=float)
        p0, lo = self._point_at(line, k0, "right")  # vertices strictly after start ...
        p1, hi = self._point_at(line, k1, "left")  # ... and strictly before end are kept
        inner = np.maximum(hi - lo, 0)
        counts = inner + 2
        offsets = np.cumsum(counts) - counts
        out = np.empty((int(counts.sum()), 2))
        out[offsets] = p0
        out[offsets + counts - 1] = p1
        if inner.any():
            piece = np.repeat(np.arange(len(line)), inner)
            rank = np.arange(int(inner.sum())) - np.repeat(np.cumsum(inner) - inner, inner)
            out[offsets[piece] + 1 + rank] = self.coords[lo[piece] + rank]
        return shapely.linestrings(out, indices=np.repeat(np.arange(len(line)), counts))


def densify(lines: np.ndarray, max_step_m: float) -> np.ndarray:
    """``shapely.segmentize`` of every line, leaving zero-length lines (two vertices at one place) as they are.

    GEOS cannot segmentize a line whose vertices coincide; OSM has such streets where two nodes share a position.
    """
    lines = np.asarray(lines, dtype=object)
    out = lines.copy()
    extent = shapely.length(lines) > 0
    out[extent] = shapely.segmentize(lines[extent], max_step_m)
    return out
