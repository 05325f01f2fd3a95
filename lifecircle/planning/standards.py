"""Planning standards as data: life-circle levels, their walking distances and facility checklists.

The shipped presets (``lifecircle/data/standards/gb50180.toml``) describe GB 50180-2018 life circles:
``gb50180-15`` (800–1000 m), ``gb50180-10`` (500 m) and ``gb50180-5`` (300 m). The file was written without
access to the standard text and flags every entry ``verified = false`` until someone checks it; users copy and
edit it and pass the path. :func:`compliance` tells, per compound, which required facilities of a level are
missing within the level's walking distance, from the long coverage table of the core (in
:mod:`lifecircle.planning.compliance`).
"""

from __future__ import annotations

import logging
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from lifecircle.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

logger = logging.getLogger(__name__)

__all__ = [
    "Facility",
    "Standard",
    "list_standards",
    "load_standard",
]

_PRESET_FILES = ("gb50180.toml",)
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Facility:
    """One entry of a level's facility checklist.

    Attributes
    ----------
    key : str
        Identifier used in category maps (``kindergarten``).
    name, name_en : str
        Chinese and English names.
    clause : str
        Clause / table of the standard the entry comes from.
    required : bool
        True for facilities that shall be provided (▲), False for recommended ones (△).
    verified : bool
        Whether the entry has been checked against the standard text.
    walk_m : float or None
        The facility's own service radius in metres, overriding the level's distance.
    osm : tuple of str
        OSM ``key=value`` tags that usually correspond (an aid, not part of the standard).
    note : str
    """

    key: str
    name: str
    name_en: str
    clause: str
    required: bool
    verified: bool
    walk_m: float | None = None
    osm: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Standard:
    """One life-circle level of a planning standard.

    Attributes
    ----------
    key : str
        Level key (``gb50180-10``).
    name, title : str
        Standard name (``GB 50180-2018``) and title.
    label, label_en : str
        Level name (``十分钟生活圈居住区``) in Chinese and English.
    walk_m : float
        Walking distance in metres used for compliance.
    walk_m_range : (float, float)
        Range given by the standard (800–1000 m for the 15-minute level).
    walk_min : float or None
        Nominal minutes (informative: the standard works in distances).
    clause : str
    verified : bool
        Whether the level's numbers have been checked against the standard text.
    facilities : tuple of Facility
    source : str
        File the level was read from.
    """

    key: str
    name: str
    title: str
    label: str
    label_en: str
    walk_m: float
    walk_m_range: tuple[float, float]
    walk_min: float | None
    clause: str
    verified: bool
    facilities: tuple[Facility, ...]
    source: str

    @property
    def required(self) -> tuple[Facility, ...]:
        """The facilities that shall be provided."""
        return tuple(f for f in self.facilities if f.required)

    @property
    def fully_verified(self) -> bool:
        """True when the level and every facility entry are marked verified."""
        return self.verified and all(f.verified for f in self.facilities)

    def facility(self, key: str) -> Facility:
        """Return the facility with this key (``InputError`` naming the valid keys otherwise)."""
        for f in self.facilities:
            if f.key == key:
                return f
        raise InputError(
            f"Standard {self.key} has no facility {key!r}; its facilities are "
            f"{', '.join(f.key for f in self.facilities)}."
        )


# ---- loading and validation ------------------------------------------------------------------------------


class _Checker:
    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, expected: str, got: object) -> None:
        raise InputError(f"{self.source}: {where} must be {expected}; got {got!r}.")

    def table(self, parent: Mapping, key: str, where: str) -> Mapping:
        value = parent.get(key)
        if not isinstance(value, Mapping):
            self.fail(f"{where}", "a table ([" + where + "])", value)
        return value

    def keys(self, table: Mapping, allowed: set[str], required: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise InputError(
                f"{self.source}: unknown key {where}.{unknown[0]}; allowed keys are {', '.join(sorted(allowed))}."
            )
        missing = sorted(required - set(table))
        if missing:
            raise InputError(f"{self.source}: {where} lacks the required key {missing[0]!r}.")

    def string(self, table: Mapping, key: str, where: str, *, default: str | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}.{key}", 'a non-empty string (e.g. key = "text")', value)
        return value

    def boolean(self, table: Mapping, key: str, where: str) -> bool:
        value = table.get(key)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", f"true or false (e.g. {key} = false)", value)
        return value

    def metres(self, table: Mapping, key: str, where: str, *, optional: bool = False) -> float | None:
        value = table.get(key)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            self.fail(f"{where}.{key}", f"a positive number of metres (e.g. {key} = 500)", value)
        return float(value)

    def pair(self, table: Mapping, key: str, where: str, *, optional: bool = False) -> tuple[float, float] | None:
        value = table.get(key)
        if value is None and optional:
            return None
        ok = (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in value)
            and value[0] <= value[1]
        )
        if not ok:
            self.fail(f"{where}.{key}", f"[low, high] with 0 <= low <= high (e.g. {key} = [800, 1000])", value)
        return float(value[0]), float(value[1])


_LEVEL_KEYS = {
    "label", "label_en", "walk_m", "walk_m_range", "walk_min", "population", "households", "clause",
    "verified", "facilities", "note",
}  # fmt: skip
_LEVEL_REQUIRED = {"label", "walk_m", "clause", "verified", "facilities"}
_FAC_KEYS = {"key", "name", "name_en", "clause", "required", "verified", "walk_m", "osm", "note"}
_FAC_REQUIRED = {"key", "name", "clause", "required", "verified"}


def _parse_level(doc: Mapping, level_key: str, source: str) -> Standard:
    chk = _Checker(source)
    std = doc.get("standard", {})
    if not isinstance(std, Mapping):
        chk.fail("[standard]", "a table with name and title", std)
    chk.keys(std, {"name", "title", "note"}, {"name"}, "standard")
    levels = chk.table(doc, "levels", "levels")
    where = f"levels.{level_key}"
    level = levels[level_key]
    if not isinstance(level, Mapping):
        chk.fail(where, f"a table ([{where}])", level)
    chk.keys(level, _LEVEL_KEYS, _LEVEL_REQUIRED, where)
    walk_m = chk.metres(level, "walk_m", where)
    walk_range = chk.pair(level, "walk_m_range", where, optional=True) or (walk_m, walk_m)
    if not walk_range[0] <= walk_m <= walk_range[1]:
        chk.fail(f"{where}.walk_m", f"within walk_m_range {list(walk_range)}", walk_m)
    for k in ("population", "households"):
        chk.pair(level, k, where, optional=True)
    walk_min = level.get("walk_min")
    if walk_min is not None and (isinstance(walk_min, bool) or not isinstance(walk_min, int | float) or walk_min <= 0):
        chk.fail(f"{where}.walk_min", "a positive number of minutes (e.g. walk_min = 10)", walk_min)
    facs_raw = level["facilities"]
    if not isinstance(facs_raw, list) or not facs_raw:
        chk.fail(f"{where}.facilities", f"a non-empty array of tables ([[{where}.facilities]])", facs_raw)
    facilities = []
    seen: set[str] = set()
    for i, fac in enumerate(facs_raw):
        fwhere = f"{where}.facilities[{i}]"
        if not isinstance(fac, Mapping):
            chk.fail(fwhere, "a table", fac)
        chk.keys(fac, _FAC_KEYS, _FAC_REQUIRED, fwhere)
        key = chk.string(fac, "key", fwhere)
        if not _KEY_RE.match(key):
            chk.fail(f"{fwhere}.key", 'a snake_case identifier (e.g. key = "kindergarten")', key)
        if key in seen:
            raise InputError(f"{source}: {fwhere}.key {key!r} appears twice in {where}.")
        seen.add(key)
        osm = fac.get("osm", [])
        if not isinstance(osm, list) or not all(isinstance(t, str) and "=" in t for t in osm):
            chk.fail(f"{fwhere}.osm", 'a list of "key=value" strings (e.g. osm = ["amenity=school"])', osm)
        facilities.append(
            Facility(
                key=key,
                name=chk.string(fac, "name", fwhere),
                name_en=chk.string(fac, "name_en", fwhere, default=key),
                clause=chk.string(fac, "clause", fwhere),
                required=chk.boolean(fac, "required", fwhere),
                verified=chk.boolean(fac, "verified", fwhere),
                walk_m=chk.metres(fac, "walk_m", fwhere, optional=True),
                osm=tuple(osm),
                note=str(fac.get("note", "")),
            )
        )
    return Standard(
        key=level_key,
        name=chk.string(std, "name", "standard"),
        title=str(std.get("title", "")),
        label=chk.string(level, "label", where),
        label_en=chk.string(level, "label_en", where, default=level_key),
        walk_m=walk_m,
        walk_m_range=walk_range,
        walk_min=None if walk_min is None else float(walk_min),
        clause=chk.string(level, "clause", where),
        verified=chk.boolean(level, "verified", where),
        facilities=tuple(facilities),
        source=source,
    )


def _read_toml(path: Path, label: str) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"Standard file {label} does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Standard file {label} is not valid TOML: {exc}.") from None
    except RecursionError:
        raise InputError(f"Standard file {label} is nested too deeply to be a standard.") from None


def _presets() -> dict[str, tuple[str, dict]]:
    out = {}
    folder = resources.files("lifecircle.data") / "standards"
    for name in _PRESET_FILES:
        with (folder / name).open("rb") as fh:
            doc = tomllib.load(fh)
        for level in doc.get("levels", {}):
            out[level.lower()] = (name, doc)
    return out


def list_standards() -> list[str]:
    """Keys of the shipped presets (``gb50180-15``, ``gb50180-10``, ``gb50180-5``)."""
    return list(_presets())


def load_standard(name: str | Path, *, level: str | None = None) -> Standard:
    """Load a life-circle level from the shipped presets or from a user TOML file.

    Parameters
    ----------
    name : str or Path
        A preset key (``gb50180-15``, ``gb50180-10``, ``gb50180-5``; case-insensitive), or the path of a TOML
        file in the same schema, optionally with ``#level`` appended (``my.toml#gb50180-10``).
    level : str, optional
        Level key within a user file; needed when the file holds several levels.

    Returns
    -------
    Standard

    Raises
    ------
    InputError
        Unknown preset, missing or invalid file, unknown level, or a key with the wrong form (the message
        names the key and the expected form).
    """
    text = str(name)
    presets = _presets()
    if text.strip().lower() in presets and level is None:
        file_name, doc = presets[text.strip().lower()]
        real_key = next(k for k in doc["levels"] if k.lower() == text.strip().lower())
        return _parse_level(doc, real_key, f"lifecircle/data/standards/{file_name}")
    if "#" in text and level is None:
        text, level = text.rsplit("#", 1)
    path = Path(text)
    if path.suffix.lower() != ".toml" and not path.exists():
        raise InputError(
            f"Unknown standard {str(name)!r}; use one of {', '.join(presets)} or the path of a .toml file."
        )
    doc = _read_toml(path, str(path))
    levels = doc.get("levels")
    if not isinstance(levels, Mapping) or not levels:
        raise InputError(f"{path}: needs at least one [levels.<key>] table (e.g. [levels.my-10min]).")
    if level is None:
        if len(levels) > 1:
            raise InputError(f"{path} holds several levels ({', '.join(levels)}); choose one with {path}#<level>.")
        level = next(iter(levels))
    if level not in levels:
        raise InputError(f"{path} has no level {level!r}; its levels are {', '.join(levels)}.")
    return _parse_level(doc, level, str(path))


# ---- compliance -------------------------------------------------------------------------------------------
