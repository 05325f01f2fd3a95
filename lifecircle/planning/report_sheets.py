"""The workbook's sheets for capacity (供需) and opening hours (三延): per compound and category the access ratio and
whether it is covered but crowded, per service its demand and load, per compound and category the hours of the
week covered; read from ``adequacy.csv``, ``coverage.csv``, ``services.gpkg`` and ``coverage_hours.csv``, in the
run's language, flags in words and numbers as number cells."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lifecircle import folder
from lifecircle.geo.inputs.columns import HOUSEHOLD_COLUMNS
from lifecircle.planning.adequacy import category_norms, crowded_table
from lifecircle.planning.report_data import ReportData, find_file, read_result_csv
from lifecircle.planning.report_labels import category_name, t
from lifecircle.planning.report_tables import Table

__all__ = ["PER", "beyond_sheets", "with_beyond_sheets"]

PER = 1000
"""Access ratios and norms are shown per this many households (or people): 0.045 m² per household reads 45 m²."""

_TEXT = {
    "adequacy_compounds": {"zh": "供需（小区）", "en": "Capacity (compounds)"},
    "adequacy_services": {"zh": "供需（服务点）", "en": "Capacity (services)"},
    "hours_compounds": {"zh": "营业时间（小区）", "en": "Opening hours (compounds)"},
    "compound_id": {"zh": "小区编号", "en": "Compound id"},
    "compound_name": {"zh": "小区名称", "en": "Compound"},
    "service_id": {"zh": "服务点编号", "en": "Service id"},
    "service_name": {"zh": "服务点名称", "en": "Service"},
    "category": {"zh": "类别", "en": "Category"},
    "ratio_households": {"zh": "可达比（每千户）", "en": "Access ratio (per 1,000 households)"},
    "ratio_people": {"zh": "可达比（每千人）", "en": "Access ratio (per 1,000 people)"},
    "norm_households": {"zh": "标准（每千户）", "en": "Norm (per 1,000 households)"},
    "norm_people": {"zh": "标准（每千人）", "en": "Norm (per 1,000 people)"},
    "covered": {"zh": "步行阈值内有服务", "en": "Service within the limit"},
    "crowded": {"zh": "覆盖但供给不足", "en": "Covered but crowded"},
    "not_judged": {"zh": "未设标准", "en": "no norm"},
    "capacity": {"zh": "供给能力", "en": "Capacity"},
    "demand_within": {"zh": "服务范围内需求", "en": "Demand within reach"},
    "load": {"zh": "负荷（每单位供给的需求）", "en": "Load (demand per unit of capacity)"},
    "overloaded": {"zh": "超负荷", "en": "Overloaded"},
    "hours_week": {"zh": "每周覆盖小时", "en": "Hours covered a week"},
    "share_week": {"zh": "占全周", "en": "Share of the week"},
    "hours_known": {"zh": "仅计营业时间已知（小时）", "en": "Known hours only (h)"},
    "weekday_day": {"zh": "工作日白天 8–18 时（小时，共 {n}）", "en": "Weekday daytime 8–18 (h of {n})"},
    "weekday_evening": {"zh": "工作日晚间 18–21 时（小时，共 {n}）", "en": "Weekday evening 18–21 (h of {n})"},
    "weekend": {"zh": "周末 8–21 时（小时，共 {n}）", "en": "Weekend 8–21 (h of {n})"},
}
_WEEK_H = 168


def _t(key: str, lang: str, **values: object) -> str:
    return _TEXT[key]["zh" if lang == "zh" else "en"].format(**values)


def _flag(value: object, lang: str) -> str:
    """是/否 (yes/no), or "no norm" where a flag was not judged."""
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return _t("not_judged", lang)
    flag = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "1.0")
    return t("yes" if flag else "no", lang)


def _names(data: ReportData) -> pd.Series:
    compounds = data.compounds
    if compounds is None or "name" not in compounds.columns:
        return pd.Series(dtype=object)
    return compounds["name"]


def _adequacy_compounds(data: ReportData, dirs: Sequence[Path], lang: str) -> Table | None:
    path = find_file(folder.ADEQUACY.name, dirs)
    if path is None or data.coverage is None:
        return None
    ratios = read_result_csv(path, required=folder.ADEQUACY.columns)
    judged = crowded_table(ratios, data.coverage, category_norms(data.summary))
    entry = data.summary.get("adequacy") or {}
    unit = "households" if str(entry.get("demand_column")) in HOUSEHOLD_COLUMNS else "people"
    frame = pd.DataFrame(
        {
            _t("compound_id", lang): judged["compound_id"].astype(str),
            _t("compound_name", lang): judged["compound_id"].map(_names(data)).to_numpy(),
            _t("category", lang): [category_name(c, lang) for c in judged["category"]],
            _t(f"ratio_{unit}", lang): judged["access_ratio"].astype(float) * PER,
            _t("covered", lang): [t("yes" if c else "no", lang) for c in judged["covered"]],
            _t(f"norm_{unit}", lang): judged["norm"].astype(float) * PER,
            _t("crowded", lang): [_flag(v, lang) for v in judged["crowded"]],
        }
    )
    return Table("adequacy_compounds", _t("adequacy_compounds", lang), frame, source=folder.ADEQUACY.name)


def _services(dirs: Sequence[Path]) -> pd.DataFrame | None:
    import pyogrio

    path = find_file(folder.SERVICES.name, dirs)
    if path is None:
        return None
    table = pd.DataFrame(pyogrio.read_dataframe(path, read_geometry=False))
    return table if "demand_within" in table.columns and "service_id" in table.columns else None


def _adequacy_services(dirs: Sequence[Path], lang: str) -> Table | None:
    services = _services(dirs)
    if services is None:
        return None
    over = pd.Series(None, index=services.index, dtype=object)
    if "overloaded" in services.columns and "norm" in services.columns:  # no norm: not judged
        over = services["overloaded"].astype(object).where(pd.to_numeric(services["norm"]).notna(), None)
    frame = pd.DataFrame(
        {
            _t("service_id", lang): services["service_id"].astype(str),
            _t("service_name", lang): services["name"] if "name" in services.columns else None,
            _t("category", lang): [category_name(c, lang) for c in services.get("category", pd.Series("all"))],
            _t("capacity", lang): pd.to_numeric(services["capacity"], errors="coerce"),
            _t("demand_within", lang): pd.to_numeric(services["demand_within"], errors="coerce"),
            _t("load", lang): pd.to_numeric(services["load"], errors="coerce"),
            _t("overloaded", lang): [_flag(v, lang) for v in over],
        }
    )
    return Table("adequacy_services", _t("adequacy_services", lang), frame, source=folder.SERVICES.name)


def _hours_compounds(data: ReportData, dirs: Sequence[Path], lang: str) -> Table | None:
    path = find_file(folder.COVERAGE_HOURS.name, dirs)
    if path is None:
        return None
    hours = read_result_csv(path, required=folder.COVERAGE_HOURS.columns[:4])
    entry = data.summary.get("opening_hours") or {}
    windows = entry.get("windows") or {}
    frame = pd.DataFrame(
        {
            _t("compound_id", lang): hours["compound_id"].astype(str),
            _t("compound_name", lang): hours["compound_id"].map(_names(data)).to_numpy(),
            _t("category", lang): [category_name(c, lang) for c in hours["category"]],
            _t("hours_week", lang): hours["hours_covered"].astype(int),
            _t("share_week", lang): hours["hours_covered"].astype(float) / _WEEK_H,
            _t("hours_known", lang): hours["hours_covered_known"].astype(int),
        }
    )
    for window, length in windows.items():
        if f"{window}_h" in hours.columns and window in _TEXT:
            frame[_t(window, lang, n=length)] = hours[f"{window}_h"].astype(int)
    kinds = {_t("share_week", lang): "percent"}
    return Table("hours_compounds", _t("hours_compounds", lang), frame, kinds=kinds, source=path.name)


def beyond_sheets(data: ReportData, dirs: Sequence[Path], lang: str) -> list[Table]:
    """The capacity and opening-hours sheets the folder's files allow (none for a run without them)."""
    dirs = [Path(d) for d in dirs]
    tables = [_adequacy_compounds(data, dirs, lang), _adequacy_services(dirs, lang), _hours_compounds(data, dirs, lang)]
    return [table for table in tables if table is not None]


def with_beyond_sheets(tables: dict[str, Table], data: ReportData, dirs: Sequence[Path], lang: str) -> list[Table]:
    """The workbook's sheets: the report's tables with the capacity and opening-hours sheets before the parameters."""
    sheets = list(tables.values())
    at = list(tables).index("parameters") if "parameters" in tables else len(sheets)
    return [*sheets[:at], *beyond_sheets(data, dirs, lang), *sheets[at:]]
