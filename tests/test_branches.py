"""Branch lists by compound name and branch columns (issue 16.2, 17.4), on the real compounds of Xueyuan Road."""

from __future__ import annotations

import unicodedata
import warnings

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import points, squares
from hypothesis import given, settings
from hypothesis import strategies as st

from lifecircle.errors import InputError
from lifecircle.geo.inputs.branches import BY_NAME_KEY
from lifecircle.geo.inputs.layers import read_branches, read_compounds
from lifecircle.geo.inputs.names import match_names, normalise_name
from lifecircle.geo.validate import quality_notes
from lifecircle.planning.analysis import analyze, branch_presence
from lifecircle.planning.report_notes import note_in

# ---- names ------------------------------------------------------------------------------------------------------

_hanzi = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None)
@given(_hanzi, st.sampled_from(["", "小区", "社区"]), st.sampled_from(["", " ", "\u3000", "  "]))
def test_spellings_of_one_name_normalise_alike(base, suffix, space):
    plain = normalise_name(base + suffix)
    assert normalise_name(f"{space}{base}{space}{suffix}{space}") == plain
    assert normalise_name(base + "小区") == normalise_name(base + "社区") == normalise_name(base) or base.endswith(
        ("小区", "社区")
    )
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in f"({base}1期)")  # full-width ASCII
    assert normalise_name(wide) == normalise_name(f"({base}1期)") == normalise_name(f"【{base}】1期")
    assert unicodedata.normalize("NFKC", plain) == plain


def test_match_exact_first_then_normalised():
    compounds = pd.Series({"C1": "阳光小区", "C2": "阳光社区", "C3": "翠苑(一期)", "C4": "Garden Court"})
    names = pd.Series(["阳光小区", "阳光", "翠苑（一期）小区", "garden  court", "不存在", None, "阳光"])
    got = match_names(names, compounds)
    assert got.ids.tolist() == ["C1", None, "C3", "C4", None, None, None]
    assert got.ambiguous == {"阳光": ("C1", "C2")}
    assert got.unmatched == ("不存在",)


# ---- branch lists by compound name on real compounds ------------------------------------------------------------


@pytest.fixture(scope="module")
def cau(cau_osm, tmp_path_factory):
    """The named residential compounds of the Xueyuan Road extract, as a GeoJSON layer; and the network."""
    ox = pytest.importorskip("osmnx")
    from lifecircle.geo.network.osm import network_from_osm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = ox.features_from_xml(cau_osm, tags={"landuse": "residential"})
    feats = feats[feats.geom_type.isin(["Polygon", "MultiPolygon"]) & feats["name"].notna()]
    layer = gpd.GeoDataFrame({"name": feats["name"].to_numpy()}, geometry=feats.geometry.to_numpy(), crs=feats.crs)
    layer.loc[len(layer)] = ["学士居小区", layer.geometry.iloc[0].buffer(-1e-4)]  # a second 学士居 (ambiguous)
    folder = tmp_path_factory.mktemp("cau_branches")
    layer.to_file(folder / "compounds.geojson")
    return folder, read_compounds(folder / "compounds.geojson"), network_from_osm(cau_osm)


def _branch_list(folder, rows, *, name="zhibu.xlsx", **columns):
    df = pd.DataFrame(rows, columns=list(columns.values()) or ["支部名称", "所在小区"])
    path = folder / name
    if path.suffix == ".xlsx":
        df.to_excel(path, index=False)
    else:
        df.to_csv(path, index=False, encoding="gb18030")
    return path


BRANCHES = [
    ("富润家园党支部", "富润家园小区"),  # trailing 小区
    ("石科院支部", "石科院 生活区"),  # a space
    ("农大北区支部", "农大小区－北区"),  # a full-width hyphen
    ("学府公馆支部", "中建壹品·学府公馆"),
    ("学士居支部", "学士居社区"),  # two compounds normalise to 学士居: ambiguous
    ("阳光支部", "阳光小区"),  # no such compound
    ("待定支部", None),  # names no compound
]


@pytest.mark.slow
@pytest.mark.shared
def test_branch_list_by_compound_name(cau, caplog):
    folder, compounds, network = cau
    branches = read_branches(_branch_list(folder, BRANCHES))
    assert branches.attrs[BY_NAME_KEY] == "所在小区" and len(branches) == len(BRANCHES)
    assert branches["name"].tolist()[:2] == ["富润家园党支部", "石科院支部"]
    present = branch_presence(compounds, branches)
    by_name = present.groupby(compounds["name"]).any()
    assert by_name[by_name].index.tolist() == sorted(["富润家园", "石科院生活区", "农大小区-北区", "中建壹品·学府公馆"])
    notes = " ".join(quality_notes(present))
    assert "阳光小区" in notes and "学士居社区" in notes and "1 branches name no compound" in notes
    zh = [note_in(note, "zh") for note in quality_notes(present)]  # a Chinese report says them in Chinese
    assert len(zh) == 3 and all("compound" not in note and "小区" in note for note in zh), zh

    services = points([(116.3545, 40.0021)], ids=["s1"], crs="EPSG:4326", category=["便民服务"])
    result = analyze(network, compounds, services, branches=branches)
    assert result.summary["compounds_without_branch"] == len(compounds) - 4
    quality = " ".join(result.summary["data_quality"])
    assert "阳光小区" in quality and "学士居社区" in quality
    homes = compounds.geometry.loc[result.branches["compound_id"]].to_numpy()
    assert len(result.branches) == 4 and shapely.within(result.branches.geometry.to_numpy(), homes).all()
    assert "阳光小区" in caplog.text  # and said in the terminal


@pytest.mark.shared
def test_branch_list_column_named_or_refused(cau):
    folder, compounds, _ = cau
    path = _branch_list(folder, [("一支部", "静淑苑"), ("二支部", "双泉嘉苑")], name="b.csv", a="支部", b="所在院落")
    with pytest.raises(InputError, match="所在院落") as err:  # no coordinates, no known compound column
        read_branches(path)
    assert "--branch-compound-column" in str(err.value) and "\n" not in str(err.value)
    branches = read_branches(path, compound_column="所在院落")
    assert branch_presence(compounds, branches).sum() == 2
    with pytest.raises(InputError, match="'院落'"):
        read_branches(path, compound_column="院落")
    wrong = read_branches(path, compound_column="支部")  # the branch names are no compound's name
    with pytest.raises(InputError, match="none of the 2 compound names in column '支部'"):
        branch_presence(compounds, wrong)


# ---- the compound layer's own branch column ---------------------------------------------------------------------


@pytest.fixture
def three():
    return squares([(0, 0), (100, 0), (200, 0)], ids=["A", "B", "C"], half_m=20)


@pytest.mark.parametrize(
    ("values", "want"),
    [
        (pd.array([1, 0, pd.NA], dtype="Int64"), [True, False, False]),  # nullable integers
        ([1.0, 0.0, float("nan")], [True, False, False]),  # 1/0 turned float by an empty cell
        (["有支部", "无支部", "✓"], [True, False, True]),
        (["阳光支部", None, "第二党支部"], [True, False, True]),  # the branch's name: filled means a branch
        (["阳光支部", "无", ""], [True, False, False]),
    ],
)
def test_branch_column_spellings(three, values, want):
    three["支部"] = values
    present = branch_presence(three, None)
    assert present.tolist() == want


def test_branch_names_in_a_name_column(three):
    three["支部名称"] = ["阳光", "", "翠苑"]
    assert branch_presence(three, None, branch_column="支部名称").tolist() == [True, False, True]


@pytest.mark.parametrize(("odd", "others"), [("maybe", ["是", "否"]), ("2", ["是", "否"]), ("待定", ["待定", "未知"])])
def test_branch_column_with_other_values_is_refused(three, odd, others):
    three["有支部"] = [*others, odd]
    with pytest.raises(InputError, match=f"'{odd}'") as err:
        branch_presence(three, None)
    assert "有支部" in str(err.value) and "\n" not in str(err.value)


def test_empty_cells_are_noted_in_both_languages(three):
    three["支部"] = ["是", None, "否"]
    notes = quality_notes(branch_presence(three, None))
    assert notes == [
        "The compound layer: 1 compounds have an empty branch cell in column '支部' and are counted as without a "
        "branch (B)."
    ]
    assert note_in(notes[0], "zh") == "小区图层：1 个小区的“支部”列为空，按无支部统计（B）。"


def test_empty_branch_column_is_refused_not_zero(three):
    three["支部"] = [None, "", None]
    with pytest.raises(InputError, match="empty"):
        branch_presence(three, None)


# ---- the key in study files and on the command line ------------------------------------------------------------


def test_study_and_cli_name_the_compound_column(tmp_path):
    from lifecircle.planning.cli import build_parser
    from lifecircle.planning.cli_args import layer_spec
    from lifecircle.planning.study import load_study

    study = tmp_path / "study.toml"
    study.write_text(
        '[study]\nnetwork = "x.osm"\n[compounds]\npath = "c.geojson"\n[services]\npath = "s.csv"\n'
        '[branches]\npath = "zhibu.xlsx"\ncompound_column = "所在院落"\n',
        encoding="utf-8",
    )
    spec = load_study(study, check_files=False).branches
    assert spec.read_kw()["compound_column"] == "所在院落"
    argv = "analyze --network x.osm --compounds c.geojson --services s.csv --branches zhibu.xlsx"
    args = build_parser().parse_args([*argv.split(), "--branch-compound-column", "所在院落"])
    assert layer_spec(args, "branches", None).read_kw()["compound_column"] == "所在院落"
