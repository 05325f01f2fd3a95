"""Compare two coverage results compound by compound: what a scenario (open blocks, slope, a walker) changes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifecircle.geo.reach.coverage import ALL, CoverageResult

CHANGES = ("gained", "lost", "same_covered", "same_uncovered")


def compare_coverage(
    before: CoverageResult,
    after: CoverageResult,
    *,
    labels: tuple[str, str] = ("before", "after"),
    category: str = ALL,
) -> pd.DataFrame:
    """Per-compound difference between two coverage results of the same compounds.

    Parameters
    ----------
    before, after
        Coverage results (for example gated vs open blocks, flat vs hilly).
    labels
        Suffixes of the two scenarios' columns.
    category
        The service category compared (``all`` by default).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``compound_id``: ``walk_min_<a>``, ``walk_min_<b>``, ``delta_min`` (after minus before; NaN when
        either is unreachable), ``covered_<a>``, ``covered_<b>`` and ``change`` in ``gained``, ``lost``,
        ``same_covered``, ``same_uncovered``.
    """
    a, b = labels
    left = before.table[before.table["category"] == category].set_index("compound_id")
    right = after.table[after.table["category"] == category].set_index("compound_id")
    right = right.reindex(left.index)
    out = pd.DataFrame(index=left.index)
    out[f"walk_min_{a}"] = left["walk_min"]
    out[f"walk_min_{b}"] = right["walk_min"]
    out["delta_min"] = right["walk_min"] - left["walk_min"]
    cov_a = left["covered"].fillna(False).to_numpy(dtype=bool)
    cov_b = right["covered"].fillna(False).to_numpy(dtype=bool)
    out[f"covered_{a}"] = cov_a
    out[f"covered_{b}"] = cov_b
    out["change"] = np.select(
        [cov_b & ~cov_a, cov_a & ~cov_b, cov_a & cov_b], ["gained", "lost", "same_covered"], "same_uncovered"
    )
    return out


def summarize_change(diff: pd.DataFrame) -> dict[str, float]:
    """Counts of each ``change`` and the mean and largest ``delta_min`` of a :func:`compare_coverage` table."""
    counts = diff["change"].value_counts()
    summary: dict[str, float] = {name: int(counts.get(name, 0)) for name in CHANGES}
    delta = diff["delta_min"].dropna()
    summary["mean_delta_min"] = float(delta.mean()) if len(delta) else 0.0
    summary["max_delta_min"] = float(delta.max()) if len(delta) else 0.0
    summary["min_delta_min"] = float(delta.min()) if len(delta) else 0.0
    return summary


@dataclass(frozen=True, eq=False)
class ScenarioComparison:
    """Two coverage results of the same compounds and their per-compound difference.

    Attributes
    ----------
    before, after
        The two results (gated / open blocks, flat / hilly, ...).
    diff
        :func:`compare_coverage` table, indexed by compound_id.
    summary
        :func:`summarize_change` of ``diff``: compounds that gain or lose coverage, mean and extreme change.
    """

    before: CoverageResult
    after: CoverageResult
    diff: pd.DataFrame
    summary: dict

    @classmethod
    def of(
        cls, before: CoverageResult, after: CoverageResult, *, labels: tuple[str, str], category: str = ALL
    ) -> ScenarioComparison:
        """Compare two results (see :func:`compare_coverage`)."""
        diff = compare_coverage(before, after, labels=labels, category=category)
        return cls(before=before, after=after, diff=diff, summary=summarize_change(diff))
