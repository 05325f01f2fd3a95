"""The report's tables in the run's language, each with the kind of every column (text, count, minutes, share).

One :class:`Table` feeds both the HTML report and the workbook, so a share is 83.8 % on the page and a
percentage cell in Excel, a status is 已覆盖 in both, and an id is text everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lifecircle import folder
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS, POPULATION_COLUMNS, find_column
from lifecircle.planning.reachability import UNREACHABLE_REACH
from lifecircle.planning.report_data import GOVERNANCE_LEVELS, ReportData
from lifecircle.planning.report_labels import REPORT_LABELS, category_name, status_word, t, yes_no
from lifecircle.planning.report_notes import notes_in

__all__ = ["KINDS", "Table", "report_tables"]

KINDS = ("text", "int", "number", "minutes", "percent")
"""Column kinds: text cells, counts, plain numbers, minutes (one decimal), shares (percentage cells)."""
NO_UNIT = "(none)"  # what rollups.py writes for compounds without a unit


@dataclass(frozen=True, eq=False)
class Table:
    """One table of the report.

    Attributes
    ----------
    key
        Machine name (``compounds``, ``categories``, ``street``...).
    title
        Its title and sheet name, in the run's language.
    frame
        The rows, with labelled columns.
    kinds
        Column -> one of :data:`KINDS`; columns not named are text, or numbers when numeric.
    source
        The file that holds the complete table (named when it does not fit a workbook).
    """

    key: str
    title: str
    frame: pd.DataFrame
    kinds: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None

    def kind(self, column: str) -> str:
        """The kind of ``column``."""
        if column in self.kinds:
            return self.kinds[column]
        dtype = self.frame[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            return "text"
        return "int" if pd.api.types.is_integer_dtype(dtype) else "number"


def _categories(summary: dict) -> list[str]:
    cats = list(summary.get("categories", {}) or {})
    return (["all"] if "all" in cats else []) + [c for c in cats if c != "all"]


def _limit_min(summary: dict, category: str) -> float:
    params = summary.get("parameters", {}) or {}
    limits = params.get("category_max_walk_min", {}) or {}
    return float(limits.get(category, params.get("max_walk_min", np.nan)))


def category_table(summary: dict, lang: str) -> Table:
    """Per category: threshold, compounds covered, shares of compounds and households, median walk."""
    cats = summary.get("categories", {}) or {}
    rows = []
    for category in _categories(summary):
        entry = cats[category]
        rows.append(
            {
                t("category", lang): category_name(category, lang),
                t("limit_min", lang): _limit_min(summary, category),
                t("covered", lang): entry.get("compounds_covered"),
                t("share", lang): entry.get("compounds_share"),
                t("households_share", lang): entry.get("households_share"),
                t("median_walk_min", lang): entry.get("median_walk_min"),
                t("unreachable", lang): entry.get("unreachable"),
            }
        )
    keys = ("category", "limit_min", "covered", "share", "households_share", "median_walk_min", "unreachable")
    frame = pd.DataFrame(rows, columns=[t(k, lang) for k in keys])
    if summary.get("households") is None:
        frame = frame.drop(columns=t("households_share", lang))
    kinds = {
        t("limit_min", lang): "minutes",
        t("covered", lang): "int",
        t("share", lang): "percent",
        t("households_share", lang): "percent",
        t("median_walk_min", lang): "minutes",
        t("unreachable", lang): "int",
    }
    return Table("categories", t("categories", lang), frame, kinds)


def status_table(summary: dict, lang: str) -> Table:
    """Compounds per status, in words."""
    status = summary.get("status", {}) or {}
    frame = pd.DataFrame(
        {t("status", lang): [status_word(k, lang) for k in status], t("compounds", lang): list(status.values())}
    )
    return Table("status", t("status", lang), frame, {t("compounds", lang): "int"})


def compound_table(data: ReportData, lang: str) -> Table | None:
    """One row per compound: name, units, households, status, branch, and per category walk, covered, nearest."""
    coverage = data.coverage
    if coverage is None or coverage.empty:
        return None
    attrs = data.compounds
    ids = pd.Index(pd.unique(coverage["compound_id"].astype(str)), name="compound_id")
    if attrs is not None:
        ids = attrs.index.astype(str).append(ids.difference(attrs.index.astype(str)))
        attrs = attrs.reindex(ids)
    out: dict[str, pd.Series] = {t("col_id", lang): pd.Series(ids, index=ids)}
    kinds = {t("col_id", lang): "text"}
    names = attrs["name"] if attrs is not None and "name" in attrs else None
    if names is None and "compound_name" in coverage.columns:
        names = coverage.drop_duplicates("compound_id").set_index("compound_id")["compound_name"].reindex(ids)
    if names is not None:
        out[t("col_name", lang)] = names
    units = data.summary.get("governance_columns") or {}
    if attrs is not None:
        for level in GOVERNANCE_LEVELS:
            column = units.get(level) if isinstance(units, dict) else None
            if column in attrs.columns:
                out[t(f"level_{level}", lang)] = attrs[column].astype(object)
        weights = data.summary.get("weight_columns") or {}
        for key, names_ in (("households", HOUSEHOLD_COLUMNS), ("population", POPULATION_COLUMNS)):
            column = weights.get(key) if isinstance(weights, dict) else None
            column = column if column in attrs.columns else find_column(attrs, names_)
            if column is not None:
                out[t(key, lang)] = pd.to_numeric(attrs[column], errors="coerce")
                kinds[t(key, lang)] = "int"
        if "status" in attrs.columns:
            out[t("col_status", lang)] = _by_value(attrs["status"], lambda s: status_word(s, lang))
        if "has_branch" in attrs.columns and attrs["has_branch"].notna().any():
            out[t("col_branch", lang)] = _by_value(
                attrs["has_branch"], lambda v: yes_no(v, lang, has=True), missing=True
            )
    for category in _categories(data.summary):
        limit = _limit_min(data.summary, category)
        _category_columns(out, kinds, coverage, data.service_names, category, ids, lang, limit_min=limit)
    frame = pd.DataFrame(out).reset_index(drop=True)
    return Table("compounds", t("compound_list", lang), frame, kinds, source=folder.COVERAGE.name)


def _by_value(series: pd.Series, word: Callable[[object], str], *, missing: bool = False) -> pd.Series:
    """``series.map(word)`` (``na_action="ignore"`` unless ``missing``), ``word`` called once per distinct value."""
    if missing and series.isna().any():
        return series.map(word)
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    words = np.array([*(word(v) for v in distinct), np.nan], dtype=object)  # code -1 (missing): the last
    return pd.Series(words[codes], index=series.index, name=series.name)


def _category_columns(out: dict, kinds: dict, coverage: pd.DataFrame, service_names: pd.Series,
                      category: str, ids: pd.Index, lang: str, *, limit_min: float) -> None:  # fmt: skip
    """Walk, covered and nearest service of one category, added to ``out``."""
    rows = coverage[coverage["category"].astype(str) == category].drop_duplicates("compound_id")
    rows = rows.set_index(rows["compound_id"].astype(str)).reindex(ids)
    name = category_name(category, lang)
    walk = pd.to_numeric(rows["walk_min"], errors="coerce")
    reach = rows["reach"] if "reach" in rows.columns else pd.Series("ok", index=ids)
    unreachable = walk.isna() & reach.astype(str).isin(UNREACHABLE_REACH)  # not beyond_search_radius (tiles)
    walk_col = t("col_walk", lang, category=name)
    out[walk_col] = walk.round(1).astype(object).where(~unreachable, t("unreachable_short", lang))
    kinds[walk_col] = "minutes"
    covered_col = t("col_covered", lang, category=name, minutes=f"{limit_min:g}")  # each category's own limit
    out[covered_col] = _by_value(rows["covered"], lambda v: yes_no(v, lang))
    if "nearest_service_name" in rows.columns:
        nearest = rows["nearest_service_name"]
    elif "nearest_service_id" in rows.columns:
        ids_ = rows["nearest_service_id"].astype(object)
        nearest = ids_.map(service_names).where(ids_.map(service_names).notna(), ids_) if len(service_names) else ids_
    else:
        return
    out[t("col_nearest", lang, category=name)] = nearest.astype(object).where(nearest.notna(), None)


def rollup_table(frame: pd.DataFrame, level: str, summary: dict, lang: str) -> Table:
    """A roll-up (``rollup_<level>.csv``) in words: counts, shares per category, the worst-served compound."""
    unit = frame.columns[0]
    out: dict[str, pd.Series] = {}
    kinds: dict[str, str] = {}
    level_name = t(f"level_{level}", lang)
    out[level_name] = frame[unit].astype(object).where(frame[unit].astype(str) != NO_UNIT, t("no_unit", lang))
    for key, label, kind in (("compounds", "compounds", "int"), ("households", "households", "int"),
                             ("population", "population", "int")):  # fmt: skip
        if key in frame.columns:
            out[t(label, lang)] = pd.to_numeric(frame[key], errors="coerce")
            kinds[t(label, lang)] = kind
    for category in _categories(summary) or [c.removeprefix("share_") for c in frame.columns if c.startswith("share_")]:
        name = category_name(category, lang)
        for prefix, label in (("share_", "share_of"), ("households_share_", "households_share_of")):
            if f"{prefix}{category}" in frame.columns:
                out[t(label, lang, category=name)] = pd.to_numeric(frame[f"{prefix}{category}"], errors="coerce")
                kinds[t(label, lang, category=name)] = "percent"
    for key, label in (("compounds_without_branch", "without_branch"), ("unreachable", "unreachable")):
        if key in frame.columns and frame[key].notna().any():
            out[t(label, lang)] = pd.to_numeric(frame[key], errors="coerce")
            kinds[t(label, lang)] = "int"
    if "worst_compound_name" in frame.columns:
        out[t("worst", lang)] = frame["worst_compound_name"].astype(object)
    if "worst_walk_min" in frame.columns:
        walk = pd.to_numeric(frame["worst_walk_min"], errors="coerce")
        out[t("worst_walk_min", lang)] = walk.round(1).astype(object).where(walk.notna(), t("unreachable_short", lang))
        kinds[t("worst_walk_min", lang)] = "minutes"
    return Table(level, t(f"rollup_{level}", lang), pd.DataFrame(out), kinds, source=folder.rollup_name(level))


def parameter_table(summary: dict, lang: str) -> Table:
    """The parameters in words (no keys, no braces)."""
    p = summary.get("parameters", {}) or {}
    rows = [
        (t("threshold", lang), t("threshold_value", lang, minutes=f"{p.get('max_walk_min', 0):g}",
                                 metres=f"{p.get('max_walk_m', 0):.0f}")),
        (t("speed", lang), t("speed_value", lang, speed=f"{p.get('speed_kmh', 0):g}")),
        (t("snap", lang), t("metres_value", lang, metres=f"{p.get('max_snap_m', 0):.0f}")),
    ]  # fmt: skip
    origin = f"origin_{p.get('origin', 'representative_point')}"
    rows.append((t("origin", lang), t(origin, lang) if origin in REPORT_LABELS else str(p.get("origin"))))
    if p.get("category_max_walk_min"):
        sep = "；" if lang == "zh" else "; "
        text = sep.join(
            t("category_threshold_value", lang, category=category_name(k, lang), minutes=f"{float(v):g}")
            for k, v in p["category_max_walk_min"].items()
        )
        rows.append((t("category_thresholds", lang), text))
    if isinstance(summary.get("coord_systems"), dict) and summary["coord_systems"]:
        sep = "；" if lang == "zh" else "; "
        colon = "：" if lang == "zh" else ": "
        text = sep.join(f"{_role(k, lang)}{colon}{_coord(v, lang)}" for k, v in summary["coord_systems"].items())
        rows.append((t("coord_systems", lang), text))
    if summary.get("output_coord_system"):
        rows.append((t("output_coord_system", lang), _coord(summary["output_coord_system"], lang)))
    if isinstance(summary.get("standard"), dict):
        s = summary["standard"]
        rows.append((t("standard", lang), t("standard_value", lang, name=s.get("name", ""), key=s.get("key", ""),
                                            walk_m=f"{float(s.get('walk_m', 0)):.0f}")))  # fmt: skip
    study = summary.get("study")
    if isinstance(study, dict) and study.get("name"):
        rows.append((t("study_name", lang), str(study["name"])))
    frame = pd.DataFrame(rows, columns=[t("parameters", lang), t("value", lang)])
    return Table("parameters", t("parameters", lang), frame)


def _role(role: str, lang: str) -> str:
    return t(f"role_{role}", lang) if f"role_{role}" in REPORT_LABELS else str(role)


def _coord(system: object, lang: str) -> str:
    return t(f"coord_{system}", lang) if f"coord_{system}" in REPORT_LABELS else str(system)


def inputs_table(summary: dict, lang: str) -> Table:
    """The input files: name, SHA-256 (first 16 digits), the OSM data date."""
    rows = []
    for role, info in (summary.get("inputs") or {}).items():
        info = info if isinstance(info, dict) else {}
        date = info.get("osm_date")
        source = f"osm_date_{date.get('source')}" if isinstance(date, dict) else ""
        said = t(source, lang) if source in REPORT_LABELS else str(date.get("source")) if date else ""
        when = f"{date.get('date')} ({said})" if isinstance(date, dict) else ""
        rows.append(
            {
                t("role", lang): _role(role, lang),
                t("path", lang): info.get("file", info.get("path")),
                t("sha256", lang): (info.get("sha256") or "")[:16],
                t("osm_date", lang): when,
            }
        )
    columns = [t(k, lang) for k in ("role", "path", "sha256", "osm_date")]
    return Table("inputs", t("data_versions", lang), pd.DataFrame(rows, columns=columns))


def _facility_names(summary: dict, lang: str) -> dict[str, str]:
    """Facility key -> its name in ``lang``, from the standard the analysis used (keys when it cannot be read)."""
    from lifecircle.errors import LifecircleError
    from lifecircle.planning.standards import load_standard

    key = (summary.get("standard") or {}).get("key")
    try:
        standard = load_standard(key) if isinstance(key, str) else None
    except (LifecircleError, OSError, ValueError):  # a user TOML no longer where it was: keys stay
        standard = None
    if standard is None:
        return {}
    return {f.key: (f.name if lang == "zh" else f.name_en or f.name) for f in standard.facilities}


def standard_table(summary: dict, lang: str) -> Table | None:
    """Per facility of the standard: compounds lacking it."""
    s = summary.get("standard")
    if not isinstance(s, dict):
        return None
    counts = s.get("missing_counts", {}) or {}
    names = _facility_names(summary, lang)
    frame = pd.DataFrame(
        {t("facility", lang): [names.get(k, k) for k in counts], t("missing_in", lang): list(counts.values())}
    )
    return Table("standard", t("standard", lang), frame, {t("missing_in", lang): "int"})


def compliance_table(frame: pd.DataFrame, summary: dict, lang: str) -> Table:
    """Per compound: complies or not, the facilities missing, those not assessed (in words)."""
    names = _facility_names(summary, lang)
    sep = "、" if lang == "zh" else "; "

    def words(keys: object) -> str:
        if not isinstance(keys, str) or not keys:
            return ""
        return sep.join(names.get(k.strip(), k.strip()) for k in keys.split(";") if k.strip())

    out = {t("col_id", lang): frame["compound_id"].astype(str)} if "compound_id" in frame else {}
    if "name" in frame:
        out[t("col_name", lang)] = frame["name"]
    if "compliant" in frame:
        out[t("compliant", lang)] = frame["compliant"].map(lambda v: yes_no(v, lang))
    for column, label in (("missing", "missing_facilities"), ("not_assessed", "not_assessed")):
        if column in frame:
            out[t(label, lang)] = frame[column].map(words)
    return Table("compliance", t("compliance", lang), pd.DataFrame(out), source=folder.COMPLIANCE.name)


_SITE_COLUMNS = {  # sites.csv column -> (label, kind)
    "rank": ("site_rank", "int"),
    "site_id": ("col_id", "text"),
    "name": ("col_name", "text"),
    "source": ("site_source", "text"),
    "lon": ("lon", "number"),
    "lat": ("lat", "number"),
    "new_compounds": ("new_compounds", "int"),
    "new_households": ("new_households", "int"),
    "new_population": ("new_population", "int"),
    "cum_compounds": ("cum_compounds", "int"),
    "cum_share": ("cum_share", "percent"),
    "walk_m_saved": ("walk_m_saved", "number"),
    "covers": ("covers", "text"),
}


def sites_table(frame: pd.DataFrame, lang: str) -> Table:
    """The recommended sites in build order, columns in words (others kept as written)."""
    out, kinds = {}, {}
    order = [c for c in _SITE_COLUMNS if c in frame.columns] + [c for c in frame.columns if c not in _SITE_COLUMNS]
    for column in order:
        label, kind = _SITE_COLUMNS.get(column, (None, None))
        name = t(label, lang) if label else str(column)
        out[name] = frame[column]
        if kind:
            kinds[name] = kind
    if t("lon", lang) in kinds:
        kinds[t("lon", lang)] = kinds[t("lat", lang)] = "text"  # seven decimals, as written
        out[t("lon", lang)] = frame["lon"].map(lambda v: f"{v:.7f}" if pd.notna(v) else "")
        out[t("lat", lang)] = frame["lat"].map(lambda v: f"{v:.7f}" if pd.notna(v) else "")
    return Table("sites", t("siting", lang), pd.DataFrame(out), kinds, source=folder.SITES_CSV.name)


def siting_table(siting: dict, lang: str, notes: list[str]) -> Table:
    """The siting plan's model, solver, result, candidates and coverage before and after, in words."""
    rows = []
    model = siting.get("model_option", siting.get("model"))
    if f"model_{model}" in REPORT_LABELS:
        rows.append((t("siting_model", lang), t(f"model_{model}", lang)))
    if siting.get("solver"):
        rows.append((t("siting_solver", lang), str(siting["solver"])))
    if siting.get("status"):
        optimal = siting["status"] == "optimal"
        rows.append((t("siting_status", lang), t("status_optimal", lang) if optimal else
                     t("status_not_optimal", lang, status=siting["status"])))  # fmt: skip
    cand = siting.get("candidates") if isinstance(siting.get("candidates"), dict) else {}
    if cand:
        source = f"source_{cand.get('source')}"
        said = t(source, lang) if source in REPORT_LABELS else str(cand.get("source"))
        text = t("candidates_value", lang, source=said, given=cand.get("given", ""), used=cand.get("used", ""))
        rows.append((t("siting_candidates", lang), text))
    if isinstance(siting.get("sites"), list):
        rows.append((t("siting_new_sites", lang), str(len(siting["sites"]))))
    comp = siting.get("compounds") if isinstance(siting.get("compounds"), dict) else {}
    if {"covered_before", "covered_after", "newly_covered", "total"} <= set(comp):
        text = t("covered_before_after", lang, before=comp["covered_before"], after=comp["covered_after"],
                 new=comp["newly_covered"], total=comp["total"])  # fmt: skip
        rows.append((t("siting_covered", lang), text))
    rows += [(t("siting_notes", lang), note) for note in notes]
    frame = pd.DataFrame(rows, columns=[t("parameters", lang), t("value", lang)])
    return Table("siting", t("siting", lang), frame)


def notes_table(notes: list[str], lang: str) -> Table:
    """The data-quality notes, one a row."""
    return Table("data_quality", t("data_quality", lang), pd.DataFrame({t("data_quality", lang): list(notes)}))


def report_tables(data: ReportData, lang: str, *, notes: list[str] | None = None) -> dict[str, Table]:
    """Every table of the report, by key, in the order of the workbook's sheets.

    Parameters
    ----------
    data
        The folder's result files (:func:`~lifecircle.planning.report_data.load_report_data`).
    lang
        ``zh`` or ``en``.
    notes
        The data-quality notes in ``lang`` (default: as in ``summary.json``).
    """
    summary = data.summary
    tables: dict[str, Table] = {}
    compounds = compound_table(data, lang)
    if compounds is not None:
        tables["compounds"] = compounds
    tables["categories"] = category_table(summary, lang)
    tables["status"] = status_table(summary, lang)
    for level, frame in data.rollups.items():
        tables[level] = rollup_table(frame, level, summary, lang)
    standard = standard_table(summary, lang)
    if standard is not None:
        tables["standard"] = standard
        if data.compliance is not None:
            tables["compliance"] = compliance_table(data.compliance, summary, lang)
    if data.siting is not None:
        siting_notes = notes_in(list(data.siting.get("notes") or []), lang)
        tables["siting"] = siting_table(data.siting, lang, siting_notes)
    if data.sites is not None:
        tables["sites"] = sites_table(data.sites, lang)
    tables["parameters"] = parameter_table(summary, lang)
    tables["inputs"] = inputs_table(summary, lang)
    tables["data_quality"] = notes_table(list(summary.get("data_quality", []) if notes is None else notes), lang)
    return tables
