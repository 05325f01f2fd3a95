"""Nearest street segment through the sampled k-d tree: checked against GEOS on real and curved streets."""

from __future__ import annotations

import numpy as np
import osmnx as ox
import pytest
import shapely

from lifecircle.geo.network.graph import prepare_network
from lifecircle.geo.network.osm import network_from_osm
from lifecircle.geo.network.segment_index import build_segment_index, nearest_segments


def _geos_nearest(lines: np.ndarray, xy: np.ndarray, max_distance_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Independent answer: GEOS's exact nearest line and its distance (inf beyond the limit)."""
    tree = shapely.STRtree(lines)
    (pos, seg), dist = tree.query_nearest(
        shapely.points(xy), max_distance=max_distance_m, return_distance=True, all_matches=False
    )
    distance = np.full(len(xy), np.inf)
    distance[pos] = dist
    return seg, distance


def test_matches_geos_on_a_real_network(cau_osm):
    net = prepare_network(network_from_osm(cau_osm))
    rng = np.random.default_rng(7)
    minx, miny, maxx, maxy = net.bounds
    # points scattered over the extract and beyond its edge, some far from every street
    xy = np.column_stack([rng.uniform(minx - 500, maxx + 500, 4000), rng.uniform(miny - 500, maxy + 500, 4000)])
    index = build_segment_index(net.segment_lines)
    segment, fraction, distance = nearest_segments(index, xy, max_distance_m=300)
    _, expected = _geos_nearest(net.segment_lines, xy, 300)
    assert np.array_equal(np.isfinite(distance), np.isfinite(expected))
    assert (segment >= 0).sum() > 1000 and (segment < 0).sum() > 50
    joined = segment >= 0
    np.testing.assert_allclose(distance[joined], expected[joined], atol=1e-6)
    # the joining point lies on the chosen segment, at the reported distance
    on_line = shapely.line_interpolate_point(net.segment_lines[segment[joined]], fraction[joined], normalized=True)
    np.testing.assert_allclose(shapely.distance(shapely.points(xy[joined]), on_line), distance[joined], atol=1e-6)


def test_curved_segments_give_the_fraction_along_the_whole_line():
    # an L-shaped street (two pieces) and a zig-zag: positions along the whole line, not the piece
    lines = np.array(
        [
            shapely.LineString([(0, 0), (100, 0), (100, 100)]),
            shapely.LineString([(300, 0), (310, 50), (300, 100), (310, 150)]),
        ]
    )
    index = build_segment_index(lines, spacing_m=7)
    xy = np.array([[110, 50], [50, -5], [320, 90], [1000, 1000]])
    segment, fraction, distance = nearest_segments(index, xy, max_distance_m=200)
    assert segment.tolist() == [0, 0, 1, -1]
    assert fraction[0] == pytest.approx(150 / 200)
    assert fraction[1] == pytest.approx(50 / 200)
    assert distance[:2] == pytest.approx([10, 5])
    expected = shapely.line_locate_point(lines[1], shapely.Point(320, 90), normalized=True)
    assert fraction[2] == pytest.approx(expected)
    assert distance[3] == np.inf and fraction[3] == 0


@pytest.mark.slow
def test_simplified_real_streets_match_geos(cau_osm):
    # osmnx-simplified streets: long lines with many vertices
    G = ox.simplify_graph(network_from_osm(cau_osm))
    net = prepare_network(G)
    assert shapely.get_num_coordinates(net.segment_lines).max() > 10
    rng = np.random.default_rng(11)
    minx, miny, maxx, maxy = net.bounds
    xy = np.column_stack([rng.uniform(minx, maxx, 2000), rng.uniform(miny, maxy, 2000)])
    segment, fraction, distance = nearest_segments(build_segment_index(net.segment_lines), xy)
    _, expected = _geos_nearest(net.segment_lines, xy, np.inf)
    np.testing.assert_allclose(distance, expected, atol=1e-6)
    expected_fraction = shapely.line_locate_point(net.segment_lines[segment], shapely.points(xy), normalized=True)
    lengths = shapely.length(net.segment_lines[segment])
    np.testing.assert_allclose(fraction * lengths, expected_fraction * lengths, atol=1e-6)


def test_dense_crossings_fall_back_to_a_radius_search():
    # 30 streets through one point: the 8 nearest samples all sit on the crossing, none proves the answer
    angles = np.linspace(0, np.pi, 30, endpoint=False)
    ends = np.column_stack([np.cos(angles), np.sin(angles)]) * 100
    lines = shapely.linestrings(np.stack([-ends, ends], axis=1))
    index = build_segment_index(lines, spacing_m=50)
    xy = np.array([[3.0, 40.0], [0.0, 0.0]])
    segment, _, distance = nearest_segments(index, xy)
    _, expected = _geos_nearest(lines, xy, np.inf)
    np.testing.assert_allclose(distance, expected, atol=1e-9)
    assert segment[1] == 0  # a point on every street joins the lowest-numbered one


def test_missing_points_and_empty_index_join_nothing():
    index = build_segment_index(np.array([shapely.LineString([(0, 0), (10, 0)])]))
    segment, _, distance = nearest_segments(index, np.array([[np.nan, np.nan], [5, 1]]))
    assert segment.tolist() == [-1, 0] and distance[1] == pytest.approx(1)
    empty = build_segment_index(np.array([], dtype=object))
    assert nearest_segments(empty, np.array([[0.0, 0.0]]))[0].tolist() == [-1]


def test_zero_length_pieces_are_indexed():
    # a repeated vertex inside a line, and a segment whose two ends coincide (two OSM nodes at one place)
    lines = np.array(
        [
            shapely.LineString([(0, 0), (50, 0), (50, 0), (100, 0)]),
            shapely.LineString([(100, 0), (100, 0)]),
        ]
    )
    index = build_segment_index(lines, spacing_m=10)
    assert np.isfinite(index.tree.data).all()
    xy = np.array([[50, 3], [75, -4], [101, 0]])
    segment, fraction, distance = nearest_segments(index, xy)
    _, expected = _geos_nearest(lines, xy, np.inf)
    np.testing.assert_allclose(distance, expected, atol=1e-9)
    assert segment[:2].tolist() == [0, 0]
    assert fraction[:2] == pytest.approx([0.5, 0.75])
