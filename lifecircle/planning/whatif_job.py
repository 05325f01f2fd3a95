"""The what-if job: ``whatif.html`` for an analysis folder (``lifecircle what-if``, ``lifecircle analyze --what-if``).

An analysis folder holds the compounds, the services, the parameters and the network's SHA-256, not the network
itself. The page is rebuilt from the network file the user names (the one ``--network`` named), checked against
the recorded hash, and its starting coverage is checked against the folder's ``coverage.csv``: the page opens only
when it answers exactly as the analysis did. This keeps folders small (a district's network in typed arrays is
several MB, in the page only) and makes one path for fresh and old folders alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from lifecircle.errors import InputError, LifecircleError
from lifecircle.folder import SUMMARY, WHATIF, AnalysisFolder, read_analysis, read_manifest, read_summary, safe_name
from lifecircle.geo.network.lines import network_from_lines
from lifecircle.geo.network.osm import load_network
from lifecircle.geo.reach.coverage import ALL, compound_origins
from lifecircle.geo.walk import DEFAULT_STEPS_FACTOR, Walk, prepared
from lifecircle.maps._offline import write_atomic
from lifecircle.maps.whatif import render_whatif
from lifecircle.maps.whatif_data import Baseline, WhatIfScene
from lifecircle.planning.outputs import file_sha256

log = logging.getLogger(__name__)

WALK_MIN_TOLERANCE = 0.01  # coverage.csv keeps walk_min to two decimals
LINE_SUFFIXES = {".shp", ".gpkg", ".geojson", ".json", ".fgb"}  # road-centreline layers, as analyze reads them


@dataclass(frozen=True)
class WhatIfResult:
    """What the job wrote: the page, and how many compounds × categories it checked against the analysis."""

    path: Path
    compounds: int
    categories: int
    covered_pairs: int


def require_whatif_inputs(
    *,
    network: str | Path,
    gates: Path | None = None,
    output_coord_system: str = "wgs84",
    walking: object | None = None,
) -> None:
    """Refuse, before any work, the analyses a what-if page cannot repeat.

    Raises
    ------
    InputError
        The network is downloaded rather than a file, or the analysis walks from gates, on compound roads, on a
        DEM or merged lines (``walking``: the analysis's walking options), or writes shifted coordinates.
    """
    text = str(network)
    if text == "auto" or text.startswith(("place:", "bbox:")):
        raise InputError(f"--what-if needs the walking network as a file (OSM extract or GraphML), not {text!r}.")
    if not Path(text).is_file():
        raise InputError(f"Network file {text} does not exist (the what-if page is built from it).")
    unsupported = [
        f"--{name.replace('_', '-')}"
        for name in ("compound_roads", "open_blocks", "gates_from_osm", "dem", "merge_lines")
        if getattr(walking, name, None)
    ]
    if gates is not None:
        unsupported.append("--gates")
    if output_coord_system.lower() not in ("wgs84", "epsg:4326"):
        unsupported.append(f"--output-coord-system {output_coord_system}")
    if unsupported:
        raise InputError(
            "The what-if page walks from each compound's inside point on the plain walking network; "
            f"it cannot repeat an analysis with {', '.join(unsupported)}."
        )


def read_folder(folder: Path) -> AnalysisFolder:
    """The analysis folder read back (checked complete), with its walking parameters checked (one-line errors)."""
    analysis = read_analysis(folder)
    try:
        params = analysis.summary["parameters"]
        float(params["max_walk_m"]), float(params["speed_kmh"]), float(params["max_snap_m"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{folder / SUMMARY.name} does not hold an analysis's parameters ({exc}).") from None
    return analysis


def forget_missing_page(folder: Path) -> None:
    """A page deleted by hand is no unfinished analysis: drop it from the manifest before the folder is checked."""
    manifest = read_manifest(folder)
    files = manifest.jobs.get(WHATIF.job, {}) if manifest is not None else {}
    if WHATIF.name in files and not (folder / WHATIF.name).is_file():
        kept = {name: digest for name, digest in files.items() if name != WHATIF.name}
        replace(manifest, jobs={**manifest.jobs, WHATIF.job: kept}).write(folder)


def register_page(folder: Path, path: Path) -> None:
    """List the page in the folder's manifest among the analysis's files.

    Later runs then know it is lifecircle's, and the next ``analyze`` into the folder replaces the analysis whole:
    a page of the old analysis never outlives it.
    """
    manifest = read_manifest(folder)
    if manifest is not None:
        files = {**manifest.jobs.get(WHATIF.job, {}), WHATIF.name: file_sha256(path)}
        replace(manifest, jobs={**manifest.jobs, WHATIF.job: files}).write(folder)


def _check_summary(summary: dict, network: Path, folder: Path) -> None:
    """The folder's analysis must be one the page repeats, on this very network file."""
    params = summary["parameters"]
    walking = summary.get("walking", {})
    rules = [flag for flag, on in (("gates", params.get("origin") == "gates"),) if on]
    rules += [f"--{k.replace('_', '-')}" for k in ("compound_roads", "dem") if walking.get(k)]
    if summary.get("output_coord_system", "wgs84") != "wgs84":
        rules.append(f"--output-coord-system {summary['output_coord_system']}")
    if rules or params.get("origin") not in (None, "representative_point"):
        raise InputError(
            f"The analysis in {folder} used {', '.join(rules) or params.get('origin')}: the what-if page walks from "
            "each compound's inside point on the plain walking network and cannot repeat it."
        )
    recorded = summary.get("inputs", {}).get("network", {}).get("sha256")
    if recorded and file_sha256(network) != recorded:
        raise InputError(
            f"Network {network} is not the file the analysis in {folder} ran on (its SHA-256 differs from the one "
            "in summary.json)."
        )


def verify_baseline(base: Baseline, scene: WhatIfScene, table: pd.DataFrame) -> int:
    """Check the page's starting coverage against ``coverage.csv``; returns the number of covered pairs.

    Raises
    ------
    LifecircleError
        A compound's covered flag or walk differs (the page would not answer as the analysis did).
    """
    speed_m_per_min = scene.walk.metres_per_minute
    ids = pd.Index(scene.compounds.index.astype(str))
    rows = [ALL, *scene.categories]
    limits = np.array([scene.limit_m(row) for row in rows])[:, None]
    within = np.where(base.walk_m <= limits, base.walk_m, np.inf)
    page = pd.DataFrame(
        {
            "compound_id": np.tile(ids, len(rows)),
            "category": np.repeat(rows, len(ids)),
            "page_min": (within / speed_m_per_min).ravel(),
        }
    )
    merged = page.merge(table[["compound_id", "category", "walk_min", "covered"]], how="outer", indicator=True)
    covered = merged["covered"].astype(str).str.lower().isin(("true", "1"))
    page_covered = np.isfinite(merged["page_min"])
    bad = (merged["_merge"] != "both") | (covered != page_covered)
    bad |= covered & ((merged["page_min"] - merged["walk_min"]).abs() > WALK_MIN_TOLERANCE)
    if bad.any():
        examples = ", ".join(f"{r.compound_id}/{r.category}" for r in merged[bad].head(5).itertuples())
        raise LifecircleError(
            f"The rebuilt network answers differently from the analysis for {int(bad.sum())} compound-category "
            f"rows ({examples}); the what-if page was not written."
        )
    return int(covered.sum())


def find_network(folder: Path) -> Path:
    """The network file an analysis recorded by name and SHA-256, looked for where users keep it.

    Beside the analysis folder, in the working folder, and among lifecircle's own data (the demo's extract).

    Raises
    ------
    InputError
        No file of that name and content is found: the user names it with ``--network``.
    """
    recorded = (read_summary(folder).get("inputs") or {}).get("network") or {}
    name, digest = recorded.get("file"), recorded.get("sha256")
    if not name or not digest or not safe_name(name):
        raise InputError(f"The analysis in {folder} records no network file: name it with --network.")
    places = (folder.parent, Path.cwd(), Path(str(files("lifecircle.data"))))
    for candidate in (place / name for place in places):
        if candidate.is_file() and file_sha256(candidate) == digest:
            return candidate
    raise InputError(
        f"The network the analysis in {folder} ran on ({name}) is neither beside the folder nor in the working "
        "folder: name it with --network."
    )


def run_whatif(folder: str | Path, *, network: str | Path | None = None, lang: str | None = None) -> WhatIfResult:
    """Write ``whatif.html`` into an analysis folder.

    Parameters
    ----------
    folder
        Output folder of ``lifecircle analyze``.
    network
        The network file the analysis ran on (checked against the SHA-256 in ``summary.json``); by default the
        file of the recorded name and content found by :func:`find_network`.
    lang
        ``zh`` or ``en``; by default the analysis's language, else from the compound names.

    Returns
    -------
    WhatIfResult
    """
    folder = Path(folder)
    network = find_network(folder) if network is None else Path(network)
    require_whatif_inputs(network=network)
    forget_missing_page(folder)
    analysis = read_folder(folder)
    summary, compounds, services = analysis.summary, analysis.compounds, analysis.services
    _check_summary(summary, network, folder)
    params = summary["parameters"]
    households = (summary.get("weight_columns") or {}).get("households")
    if households in compounds.columns and households != "households":  # the column the analysis counted
        compounds = compounds.assign(households=compounds[households])
    from_lines = network.suffix.lower() in LINE_SUFFIXES
    graph = network_from_lines(network) if from_lines else load_network(network)
    walk = Walk(
        speed_kmh=float(params["speed_kmh"]),
        limit_dist_m=float(params["max_walk_m"]),
        category_limit_m={str(k): float(v) for k, v in (params.get("category_max_walk_m") or {}).items()},
        steps_factor=float((summary.get("walking") or {}).get("steps_factor", DEFAULT_STEPS_FACTOR)),
    )
    net = prepared(graph, walk)  # steps priced as the analysis priced them
    max_snap_m = float(params["max_snap_m"])
    scene = WhatIfScene(
        net=net,
        origins=compound_origins(net, compounds, max_snap_m=max_snap_m),
        compounds=compounds,
        services=services,
        walk=walk,
        max_snap_m=max_snap_m,
    )
    osm = not from_lines and network.suffix.lower() != ".graphml"
    html, base = render_whatif(scene, lang=lang or summary.get("lang"), osm_streets=osm)
    covered_pairs = verify_baseline(base, scene, analysis.coverage)
    path = folder / WHATIF.name
    write_atomic(path, html)
    register_page(folder, path)
    log.info("what-if page %s: %.1f MB", path, len(html.encode("utf-8")) / 1e6)
    return WhatIfResult(
        path=path, compounds=len(compounds), categories=len(scene.categories), covered_pairs=covered_pairs
    )
