"""The public API: every name in ``lifecircle.__all__`` loads and is documented; README's Python example runs."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lifecircle

REPO = Path(__file__).resolve().parents[1]


def test_import_is_light():
    """``import lifecircle`` loads no geo stack (the CLI's --help stays quick)."""
    code = "import sys, lifecircle; print(sorted(m for m in ('geopandas', 'networkx', 'folium') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", [n for n in lifecircle.__all__ if not n.startswith("_")])
def test_every_public_name_loads_and_is_documented(name):
    obj = getattr(lifecircle, name)
    doc = inspect.getdoc(obj) or ""
    assert doc, f"lifecircle.{name} has no docstring"
    if inspect.isfunction(obj) and inspect.signature(obj).parameters:
        assert "Parameters\n----------" in doc, f"lifecircle.{name} documents no parameters (NumPy style)"


def test_at_least_six_documented_functions():
    functions = [n for n in lifecircle.__all__ if inspect.isfunction(getattr(lifecircle, n, None))]
    assert len(functions) >= 6, functions


def test_all_lists_every_lazy_name():
    assert set(lifecircle._PUBLIC) <= set(lifecircle.__all__)
    assert {n for n in lifecircle.__all__ if n[0].islower() and n != "__version__"} <= set(lifecircle._PUBLIC)


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        lifecircle.nothing_here  # noqa: B018


def test_py_typed_ships():
    assert (Path(lifecircle.__file__).parent / "py.typed").is_file()


@pytest.mark.slow
def test_readme_python_example_runs(tmp_path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "unreachable" in proc.stdout and "compound_id" in proc.stdout
    assert (tmp_path / "map.html").stat().st_size > 10_000
