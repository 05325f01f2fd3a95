import string

import pytest
from _maps_fixtures import osm_beijing

from lifecircle.errors import InputError
from lifecircle.maps.labels import LABELS, LANGS, category_label, check_lang, label, labels_for, pick_lang


def _fields(text):
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_label_has_every_language_with_the_same_placeholders():
    for key, entry in LABELS.items():
        assert set(entry) == set(LANGS), key
        assert all(entry[lang].strip() for lang in LANGS), key
        assert _fields(entry["zh"]) == _fields(entry["en"]), key


def test_label_fills_placeholders_in_each_language():
    assert label("param_threshold", "en", minutes="15") == "Threshold: 15 min walk"
    assert "15" in label("param_threshold", "zh", minutes="15")
    assert label("param_threshold", "zh", minutes="15") != label("param_threshold", "en", minutes="15")


def test_unknown_language_is_an_input_error():
    with pytest.raises(InputError, match="fr"):
        check_lang("fr")
    with pytest.raises(InputError):
        labels_for("fr")


def test_category_label_translates_known_and_passes_through_data_names():
    assert category_label("all", "zh") == "全部服务"  # as in the report, workbook and terminal
    assert category_label("all", "en") == "Any service"
    assert category_label("社区卫生服务中心", "en") == "社区卫生服务中心"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["富润家园", "石科院生活区", "Tower A"], "zh"),
        (["Maple Court", "Oak Estate", "学士居"], "en"),
        (["清華新村", "光明社區"], "zh"),  # Traditional characters count as Chinese
        ([None, float("nan"), "", "  "], "en"),
        ([], "en"),
        (["富润家园", None, None, "x"], "en"),  # one of two non-empty names is not "mostly"
    ],
)
def test_pick_lang(names, expected):
    assert pick_lang(names) == expected


def test_pick_lang_on_real_osm_names():
    data = osm_beijing()
    if data is None:
        pytest.skip("shared OSM extract beijing_haidian_cau_xueyuanlu.osm.bz2 is absent")
    compounds, _services = data
    assert pick_lang(compounds["name"]) == "zh"
