"""Checking the values of a study file: each mistake is one line naming the file, the table and the key."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from lifecircle.errors import InputError
from lifecircle.geo.inputs.chinese_crs import normalize_coord_system
from lifecircle.geo.reach.coverage import ALL
from lifecircle.planning.inputs import LayerSpec

__all__ = ["StudyCheck", "categories", "layer_spec", "per_category"]


class StudyCheck:
    """Checks of one study file's values; every failure is one line naming the file, the table and the key."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, key: str, expected: str, got: object) -> NoReturn:
        raise InputError(f"{self.source}: {key} must be {expected}; got {got!r}.")

    @contextmanager
    def about(self, key: str) -> Iterator[None]:
        """Name the study file and key in an InputError raised while checking that key's value."""
        try:
            yield
        except InputError as exc:
            raise InputError(f"{self.source}: {key}: {exc}") from None

    def table(self, doc: Mapping, key: str, *, required: bool = False) -> Mapping | None:
        value = doc.get(key)
        if value is None:
            if required:
                raise InputError(f"{self.source}: the [{key}] table is missing (see `lifecircle init` for the form).")
            return None
        if not isinstance(value, Mapping):
            self.fail(f"[{key}]", f"a table ([{key}] with key = value lines)", value)
        return value

    def keys(self, table: Mapping, allowed: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise InputError(
                f"{self.source}: unknown key {where}.{unknown[0]}; allowed keys are {', '.join(sorted(allowed))}."
            )

    def string(self, table: Mapping, key: str, where: str, *, required: bool = False) -> str | None:
        value = table.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{where}.{key}", f'a non-empty string (e.g. {key} = "...")', value)
        return value.strip()

    def number(self, table: Mapping, key: str, where: str, example: str) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            self.fail(f"{where}.{key}", f"a positive number (e.g. {key} = {example})", value)
        return float(value)

    def boolean(self, table: Mapping, key: str, where: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", f"true or false (e.g. {key} = {str(default).lower()})", value)
        return value

    def coord_system(self, table: Mapping, key: str, where: str) -> str | None:
        value = self.string(table, key, where)
        if value is None:
            return None
        try:
            return normalize_coord_system(value)
        except InputError:
            self.fail(f"{where}.{key}", '"wgs84", "gcj02" (Amap, Tencent), "bd09" (Baidu) or "cgcs2000"', value)

    def path(self, value: str, where: str, base: Path, *, check_files: bool) -> Path:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else (base / path)
        if check_files and not path.exists():
            raise InputError(f"{self.source}: {where} names {value!r}, which does not exist ({path}).")
        return path

    def integer(self, table: Mapping, key: str, where: str, example: str) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.fail(f"{where}.{key}", f"a whole number of at least 1 (e.g. {key} = {example})", value)
        return int(value)

    def choice(self, table: Mapping, key: str, where: str, choices: tuple[str, ...]) -> str | None:
        value = self.string(table, key, where)
        if value is not None and value not in choices:
            self.fail(f"{where}.{key}", " or ".join(f'"{c}"' for c in choices), value)
        return value

    def numbers(self, table: Mapping, key: str, where: str, example: str) -> tuple[float, ...] | None:
        value = table.get(key)
        if value is None:
            return None
        values = value if isinstance(value, list) else [value]
        if not values or not all(
            not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v) and v > 0 for v in values
        ):
            self.fail(f"{where}.{key}", f"a list of positive numbers (e.g. {key} = {example})", value)
        return tuple(float(v) for v in values)

    def strings(self, table: Mapping, key: str, where: str, example: str) -> tuple[str, ...] | None:
        value = table.get(key)
        if value is None:
            return None
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            self.fail(f"{where}.{key}", f"a list of names (e.g. {key} = {example})", value)
        return tuple(v.strip() for v in values)


def layer_spec(
    chk: StudyCheck, table: Mapping, where: str, base: Path, *, allowed: set[str], check_files: bool
) -> LayerSpec:
    chk.keys(table, allowed, where)
    path = chk.string(table, "path", where, required=True)
    sheet = table.get("sheet")
    if sheet is not None and not (isinstance(sheet, str) and sheet) and not (isinstance(sheet, int) and sheet >= 0):
        chk.fail(f"{where}.sheet", 'a sheet name or 0-based number (e.g. sheet = "台账")', sheet)
    return LayerSpec(
        path=chk.path(path, f"{where}.path", base, check_files=check_files),
        id_column=chk.string(table, "id_column", where),
        name_column=chk.string(table, "name_column", where),
        crs=chk.string(table, "crs", where),
        lon_column=chk.string(table, "lon_column", where),
        lat_column=chk.string(table, "lat_column", where),
        encoding=chk.string(table, "encoding", where),
        layer=chk.string(table, "layer", where),
        coord_system=chk.coord_system(table, "coord_system", where),
        sheet=sheet,
        on_swap="fix" if chk.boolean(table, "fix_swapped", where, False) else "raise",
    )


def per_category(chk: StudyCheck, table: Mapping | None, where: str, example: str) -> dict[str, float]:
    out = {}
    for key in table or {}:
        out[str(key)] = chk.number(table, key, where, example)
    return out


def categories(chk: StudyCheck, table: Mapping | None) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    seen: dict[str, str] = {}
    for category, values in (table or {}).items():
        where = f"categories.{category}"
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            chk.fail(where, 'a list of ledger values (e.g. 便民服务 = ["便民服务点", "超市"])', values)
        if category == ALL:
            raise InputError(f"{chk.source}: categories.{ALL} is reserved (every service); choose another name.")
        for v in values:
            if v.strip() in seen and seen[v.strip()] != category:
                raise InputError(
                    f"{chk.source}: ledger value {v!r} is in both categories.{seen[v.strip()]} and {where}."
                )
            seen[v.strip()] = category
        out[str(category)] = tuple(v.strip() for v in values)
    return out
