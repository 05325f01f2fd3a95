"""Data to page text: JSON that is safe in ``<script>`` and Jinja, HTML text, and JSON-ready columns."""

from __future__ import annotations

import html
import json
import re
import secrets

import numpy as np
import pandas as pd

__all__ = ["RawJson", "fmt_num", "html_text", "is_listlike", "jsonable", "safe_json"]

# branca compiles each element's rendered script once more as a Jinja template, so "{{", "{%" and "{#" in
# the data would run as template code on the user's machine: every user string reaches the page without them.
_JINJA_OPENERS = re.compile(r"\{(?=[{%#])")


def safe_json(obj: object) -> str:
    """JSON text that is safe inside ``<script>``, HTML attributes and branca's second Jinja pass.

    No ``<``, ``>``, ``&`` and no Jinja opener (``{{``, ``{%``, ``{#``: these can only occur inside JSON
    strings, where ``\\u007b`` stands for the brace).
    """
    text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_json_default)
    text = (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    return _JINJA_OPENERS.sub(r"\\u007b", text)


def html_text(value: object) -> str:
    """``value`` as HTML text: escaped, and with braces as character references (inert to Jinja)."""
    return html.escape(str(value), quote=True).replace("{", "&#123;").replace("}", "&#125;")


def _json_default(o: object) -> object:
    if isinstance(o, np.generic):
        return o.item()
    if o is pd.NA or o is pd.NaT:
        return None
    raise TypeError(f"cannot serialise {type(o).__name__}")


class RawJson:
    """JSON texts built from numbers only (geometries), spliced into :func:`safe_json` output afterwards.

    :meth:`key` returns a placeholder string to put in the data; :meth:`splice` replaces each placeholder's
    JSON string by its text. Placeholders carry a random token, so data strings cannot forge one.
    """

    def __init__(self) -> None:
        self._token = secrets.token_hex(8)
        self._texts: dict[str, str] = {}

    def key(self, text: str) -> str:
        """A placeholder for ``text`` (JSON made of numbers, brackets, ``null`` and fixed keys only)."""
        key = f"@@lc{self._token}_{len(self._texts)}@@"
        self._texts[f'"{key}"'] = text
        return key

    def splice(self, data_js: str) -> str:
        """``data_js`` with every placeholder replaced by its JSON text."""
        for key, text in self._texts.items():
            data_js = data_js.replace(key, text, 1)
        return data_js


def jsonable(values: pd.Series | np.ndarray, *, decimals: int | None = None) -> list:
    """Column as a JSON-ready list: NaN/NA -> None, numpy scalars -> Python, floats optionally rounded."""
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        return s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_numeric_dtype(s):
        f = s.astype(float)
        if decimals is not None:
            f = f.round(decimals)
        out = f.astype("Int64").astype(object) if decimals == 0 else f.astype(object)
        return out.where(f.notna(), None).tolist()
    out = np.full(len(s), None, dtype=object)
    mask = s.notna().to_numpy()
    out[mask] = s[mask].astype(str).to_numpy(dtype=object)
    return out.tolist()


def fmt_num(x: float) -> str:
    """A number as short text (``10``, ``12.5``)."""
    return f"{x:g}"


def is_listlike(v: object) -> bool:
    """Whether a cell holds a list of values (lists of service ids in ``services_within``)."""
    return isinstance(v, (list, tuple, set, frozenset, np.ndarray))
