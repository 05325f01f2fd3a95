"""OSM data dates: from the header when the file says it, else the newest element edit."""

from __future__ import annotations

import bz2

from conftest import shared_file

from lifecircle.geo.network.osm_meta import osm_data_date

XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="test">
 <node id="1" version="1" timestamp="2019-05-01T10:00:00Z" lat="40.0" lon="116.3"/>
 <node id="2" version="3" timestamp="2023-01-02T03:04:05Z" lat="40.1" lon="116.3"/>
 <way id="3" version="1" timestamp="2020-07-07T07:07:07Z"><nd ref="1"/><nd ref="2"/></way>
</osm>
"""


def test_newest_element_and_header(tmp_path):
    plain = tmp_path / "a.osm"
    plain.write_text(XML)
    assert osm_data_date(plain).date == "2023-01-02T03:04:05Z"
    packed = tmp_path / "a.osm.bz2"
    packed.write_bytes(bz2.compress(XML.encode()))
    found = osm_data_date(packed)
    assert found.date == "2023-01-02T03:04:05Z" and found.source == "newest_element"
    overpass = tmp_path / "b.osm"
    overpass.write_text(XML.replace('<node id="1"', '<meta osm_base="2024-02-03T04:05:06Z"/>\n <node id="1"'))
    assert osm_data_date(overpass).date == "2024-02-03T04:05:06Z" and osm_data_date(overpass).source == "header"
    assert osm_data_date(tmp_path / "missing.osm") is None
    (tmp_path / "junk.osm.bz2").write_bytes(b"not bz2")
    assert osm_data_date(tmp_path / "junk.osm.bz2") is None


def test_real_extracts():
    nanjing = osm_data_date(shared_file("osm/nanjing_xinjiekou.osm.bz2"))
    assert (nanjing.date, nanjing.source) == ("2021-06-12T07:41:41Z", "header")
    cau = osm_data_date(shared_file("osm/beijing_haidian_cau_xueyuanlu.osm.bz2"))
    assert cau.source == "newest_element" and cau.date.startswith("2026-")
