"""Party branches (支部) as offices list them: a yes/no or name column of the compounds, or a list by compound name.

Two shapes of data say which compounds have their own branch:

- a column of the compound layer (``有支部``, ``支部``...): yes/no in any usual spelling
  (:func:`lifecircle.geo.inputs.flags.parse_flags`), or the branch's name (a filled cell means a branch);
- a branch list naming the compound each branch sits in (``所在小区``, ``小区名称``, ``compound_name``), with no
  coordinates. Its names are matched to the compounds' names (:func:`lifecircle.geo.inputs.names.match_names`);
  ambiguous and unmatched names are listed by name in data-quality notes, never dropped in silence, and a list
  whose names match no compound at all is refused (a wrong column, not "no branches").
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from lifecircle.errors import InputError
from lifecircle.geo.inputs.flags import flag_word
from lifecircle.geo.inputs.names import match_names

__all__ = [
    "BY_NAME_KEY",
    "COMPOUND_NAME_COLUMNS",
    "NamedBranches",
    "branch_column_flags",
    "match_branch_list",
]

#: Columns of a branch list that name the compound a branch sits in.
COMPOUND_NAME_COLUMNS = ("所在小区", "小区名称", "compound_name", "所属小区", "compound", "小区")
#: ``attrs`` key of a branch list read by compound name: the column that names the compound.
BY_NAME_KEY = "lifecircle_branch_compound_column"
_NAME_HINT = re.compile(r"支部|党|branch", re.IGNORECASE)
_NAME_COLUMN_HINT = re.compile(r"名称|名字|name", re.IGNORECASE)
_UNSURE = frozenset({"待定", "不详", "未知", "不清楚", "unknown", "maybe", "n/a", "na", "?", "？", "-", "—", "tbd"})


def _quoted(names) -> str:
    names = list(names)
    shown = "、".join(map(str, names[:10]))
    return shown + (f" (and {len(names) - 10} more)" if len(names) > 10 else "")


def branch_column_flags(values: pd.Series, *, column: Hashable, source: str) -> tuple[pd.Series, list[str]]:
    """Whether each compound has a branch, from its branch column: yes/no words, or the branch's name.

    Parameters
    ----------
    values : pandas.Series
        The column, indexed by compound id.
    column, source : optional
        For messages.

    Returns
    -------
    (pandas.Series, list of str)
        Boolean per compound (empty cells: no branch), and data-quality notes (empty cells counted as "no").

    Raises
    ------
    InputError
        The column is empty, or holds values that are neither yes/no nor branch names (listed).
    """
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "")
    if empty.all():
        raise InputError(f"{source}: the branch column {column!r} is empty, so no compound would have a branch.")
    words = values[~empty].map(flag_word)
    others = text[~empty][words.isna()]
    if len(others):
        wordy = others.str.contains(r"[^\W\d_]", regex=True, na=False)  # letters or 汉字, not just numbers
        names = _NAME_COLUMN_HINT.search(str(column)) or others.str.contains(_NAME_HINT, na=False).all()
        unsure = others.str.lower().isin(_UNSURE)  # 待定 is no name: it says nothing either way
        if unsure.any() or not (names or (words.isna().all() and wordy.all())):
            _not_understood(values[~empty][words.isna()], column, source)
    flags = pd.Series(False, index=values.index)
    flags[~empty] = words.where(words.notna(), True).astype(bool)  # a branch's name: filled means a branch
    notes = []
    if empty.any():
        notes.append(
            f"{source}: {int(empty.sum())} compounds have an empty branch cell in column {column!r} and are counted "
            f"as without a branch ({_quoted(values.index[empty])})."
        )
    return flags, notes


def _not_understood(rest: pd.Series, column: Hashable, source: str) -> None:
    shown = ", ".join(repr(v) for v in pd.unique(rest.astype(str))[:8])
    raise InputError(
        f"{source}: column {column!r} should say whether a compound has a branch, but {len(rest)} cells hold other "
        f"values ({shown}; rows {', '.join(map(str, rest.index[:5]))}); use 是/否, 有/无, 1/0, ✓/✗, true/false, "
        "yes/no, or the branch's name (with 支部 or 党 in it, or in a column named like 支部名称)."
    )


@dataclass(frozen=True)
class NamedBranches:
    """A branch list matched to compounds by name.

    Attributes
    ----------
    compound_ids : pandas.Series
        Per branch (branch id index): the compound it sits in, or None (ambiguous, unmatched or empty).
    located : geopandas.GeoDataFrame
        The matched branches, each at a point inside its compound (for maps), in the compounds' CRS.
    notes : list of str
        Data-quality notes naming the ambiguous and unmatched names.
    """

    compound_ids: pd.Series
    located: gpd.GeoDataFrame
    notes: list[str]


def match_branch_list(branches: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, *, source: str) -> NamedBranches:
    """Match a branch list read by compound name (``attrs[BY_NAME_KEY]``) to the compounds' ``name`` column.

    Raises
    ------
    InputError
        No name of the list matches a compound (a wrong column, or the wrong compound layer).
    """
    column = branches.attrs.get(BY_NAME_KEY, "compound_name")
    names = branches["compound_name"]
    compound_names = compounds["name"] if "name" in compounds.columns else pd.Series(compounds.index, compounds.index)
    match = match_names(names, compound_names)
    filled = int((names.astype("string").str.strip().fillna("") != "").sum())
    if filled and match.ids.notna().sum() == 0:
        raise InputError(
            f"{source}: none of the {filled} compound names in column {column!r} matches a compound of the compound "
            f"layer (e.g. {_quoted(list(match.unmatched)[:3] or list(match.ambiguous)[:3])}); name the column that "
            "holds the compound's name with --branch-compound-column (compound_column in a study file)."
        )
    notes = []
    if match.ambiguous:
        listed = "; ".join(f"{n} ({', '.join(map(str, ids))})" for n, ids in list(match.ambiguous.items())[:10])
        notes.append(
            f"{source}: {len(match.ambiguous)} compound names fit several compounds and were not matched: {listed}."
        )
    if match.unmatched:
        notes.append(
            f"{source}: {len(match.unmatched)} compound names match no compound and were not counted: "
            f"{_quoted(match.unmatched)}."
        )
    blank = names.astype("string").str.strip().fillna("") == ""
    if blank.any():
        notes.append(f"{source}: {int(blank.sum())} branches name no compound ({_quoted(branches.index[blank])}).")
    ids = match.ids.dropna()
    inside = compounds.geometry.representative_point().reindex(ids.to_numpy())
    located = gpd.GeoDataFrame(
        branches.loc[ids.index].drop(columns=branches.geometry.name), geometry=np.asarray(inside), crs=compounds.crs
    )
    located["compound_id"] = ids.to_numpy()
    return NamedBranches(compound_ids=match.ids, located=located, notes=notes)
