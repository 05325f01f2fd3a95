"""Colours and line styles of every map layer, in one place."""

from __future__ import annotations

__all__ = ["CATEGORY_COLORS", "STATUS_COLORS", "STATUS_ORDER", "UNREACHABLE"]

UNREACHABLE = "unreachable"
#: Compound statuses in legend order (``unknown``, for compounds the table does not know, comes last).
STATUS_ORDER: tuple[str, ...] = ("covered", "no_service", "no_branch", "neither", UNREACHABLE)
STATUS_COLORS: dict[str, str] = {
    "covered": "#2b8a3e",
    "no_service": "#e67700",
    "no_branch": "#7048e8",
    "neither": "#c92a2a",
    UNREACHABLE: "#6c757d",  # drawn hatched
    "unknown": "#ced4da",
}
#: Service-category colours, each at least 30 CIELAB units (ΔE*76) from every status colour and 25 from each other,
#: so a category's markers and served areas never read as a compound status.
CATEGORY_COLORS: tuple[str, ...] = (
    "#1c7ed6", "#f783ac", "#8d5524", "#fcc419", "#15aabf", "#a9e34b",
    "#b197fc", "#c2255c", "#5c3d2e", "#862e9c", "#74c0fc", "#96f2d7",
)  # fmt: skip
