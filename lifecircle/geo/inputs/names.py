"""Compound names as offices write them, matched to the compound layer's names.

A branch list says 阳光小区, the compound layer 阳光 (or ``阳光小区 （一期）`` against ``阳光小区(一期)``). Names are
compared after :func:`normalise_name`: NFKC (full-width letters, digits and brackets become half-width), no
spaces, no brackets, lower-case, and a trailing 小区 or 社区 dropped. :func:`match_names` matches each name to
exactly one compound, or says it is ambiguous (several compounds share the normalised name) or unmatched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable
from dataclasses import dataclass

import pandas as pd

__all__ = ["NameMatch", "match_names", "normalise_name"]

_BRACKETS = re.compile(r"[()\[\]{}<>（）【】〔〕［］｛｝〈〉《》「」『』]")
_SPACES = re.compile(r"\s+")
_SUFFIXES = ("小区", "社区")


def normalise_name(name: object) -> str:
    """The form in which two spellings of a compound name compare equal.

    Parameters
    ----------
    name : object
        A compound name (other types are turned into text; missing values give ``""``).

    Returns
    -------
    str
        NFKC-normalised, lower-case, without spaces or bracket characters, without a trailing 小区/社区.

    Examples
    --------
    >>> normalise_name(" 阳光小区 ") == normalise_name("阳光") == normalise_name("阳光社区")
    True
    >>> normalise_name("翠苑（一期）小区")
    '翠苑一期'
    """
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return ""
    text = unicodedata.normalize("NFKC", str(name)).lower()
    text = _SPACES.sub("", _BRACKETS.sub("", text))
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


@dataclass(frozen=True)
class NameMatch:
    """What :func:`match_names` found.

    Attributes
    ----------
    ids : pandas.Series
        Per given name (same index): the matched compound id, or None.
    ambiguous : dict
        Name as given -> the compound ids it could be.
    unmatched : tuple
        Names as given that match no compound.
    """

    ids: pd.Series
    ambiguous: dict[str, tuple[Hashable, ...]]
    unmatched: tuple[str, ...]


def match_names(names: pd.Series, compound_names: pd.Series) -> NameMatch:
    """Match names to compounds: exactly as written first, else by :func:`normalise_name`.

    Parameters
    ----------
    names : pandas.Series
        The names to place (e.g. the compound column of a branch list); empty cells are neither matched nor
        reported.
    compound_names : pandas.Series
        Compound names indexed by compound id.

    Returns
    -------
    NameMatch
    """
    exact: dict[str, list[Hashable]] = {}
    loose: dict[str, list[Hashable]] = {}
    for cid, name in compound_names.items():
        if pd.isna(name):
            continue
        exact.setdefault(str(name).strip(), []).append(cid)
        loose.setdefault(normalise_name(name), []).append(cid)
    ids = pd.Series([None] * len(names), index=names.index, dtype=object)
    ambiguous: dict[str, tuple[Hashable, ...]] = {}
    unmatched: list[str] = []
    for row, name in names.items():
        key = normalise_name(name)
        if not key:
            continue
        hits = exact.get(str(name).strip()) or loose.get(key, [])
        if len(hits) == 1:
            ids[row] = hits[0]
        elif hits:
            ambiguous[str(name).strip()] = tuple(hits)
        elif str(name).strip() not in unmatched:
            unmatched.append(str(name).strip())
    return NameMatch(ids=ids, ambiguous=ambiguous, unmatched=tuple(unmatched))
