"""Short summaries printed on the terminal by the command line (the library itself never prints)."""

from __future__ import annotations

from pathlib import Path


def format_summary(summary: dict) -> str:
    """A small table of coverage per category, branches and unreachable compounds."""
    params = summary["parameters"]
    has_households = summary.get("households") is not None
    lines = [
        f"{summary['compounds']} compounds, threshold {params['max_walk_min']:g} min "
        f"({params['max_walk_m']:.0f} m at {params['speed_kmh']:g} km/h)",
        "",
        f"{'category':<24}{'covered':>9}{'share':>8}"
        + (f"{'households':>12}" if has_households else "")
        + f"{'median min':>12}",
    ]
    for category, entry in summary["categories"].items():
        share = entry["compounds_share"]
        row = f"{category:<24}{entry['compounds_covered']:>9}{(share or 0) * 100:>7.1f}%"
        if has_households:
            row += f"{(entry['households_share'] or 0) * 100:>11.1f}%"
        median = entry["median_walk_min"]
        row += f"{'-' if median is None else f'{median:.1f}':>12}"
        lines.append(row)
    lines.append("")
    if summary.get("compounds_without_branch") is not None:
        lines.append(f"compounds without a branch: {summary['compounds_without_branch']}")
    unreachable = summary["unreachable_compounds"]
    lines.append(
        f"unreachable compounds: {unreachable['off_network']} off the network, "
        f"{unreachable['no_service_connected']} with no service on their piece of network"
    )
    return "\n".join(lines)


def print_summary(summary: dict, *, out_dir: Path) -> None:
    """Print the summary table and where the outputs are."""
    print(format_summary(summary))
    print(f"outputs written to {out_dir}/")
