"""The publishing job (``lifecircle publish``, the ``publishing`` step of ``lifecircle run``): a static site of
analysis folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lifecircle.planning.options import PublishOptions

__all__ = ["run_publish"]


def run_publish(folders: Sequence[str | Path], out_dir: str | Path, *, options: PublishOptions | None = None) -> Path:
    """Publish the folders of ``analyze``/``run`` (and the other jobs) as one static site; returns its index."""
    from lifecircle.maps import publish_site

    options = options or PublishOptions()
    return publish_site([Path(f) for f in folders], Path(out_dir), offline=not options.online, lang=options.lang)
