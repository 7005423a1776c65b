"""The structure the code promises: imports flow one way, every block has a spec and a test file of its name, no
private Amaranth hooks."""

import ast
import dataclasses
import importlib
import inspect
import pathlib

import pytest

from wccgen.hw.spec_component import SpecComponent

ROOT = pathlib.Path(__file__).resolve().parent.parent
#: Top-level folders from the lowest to the highest: each may import only those before it.
LAYERS = ("spec", "golden", "hw", "sim", "gen", "wccgen")
#: Modules of the package root below every layer: they import nothing of wccgen.
LEAVES = ("environment",)


def imported_layers(path, folder):
    """(line, layer) of every wccgen module ``path`` imports, the lazy imports inside functions included."""
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.ImportFrom) or node.level == 0:
            continue
        parts = (node.module or "").split(".")
        if node.level == 1 and folder != "wccgen":
            yield node.lineno, folder
        elif parts[0]:
            yield node.lineno, parts[0]


def test_imports_flow_one_way():
    wrong = []
    for rank, folder in enumerate(LAYERS):
        for path in sorted((ROOT / folder).glob("*.py")):
            for line, layer in imported_layers(path, folder):
                leaf = folder == "wccgen" and path.stem in LEAVES
                if layer in LAYERS and (LAYERS.index(layer) > rank or leaf):
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {layer}")
    assert wrong == []


def test_the_check_sees_a_wrong_import(tmp_path):
    """The check above is not blind: an import of sim from hw is found."""
    (tmp_path / "wrong.py").write_text("def f():\n    from ..sim import harness\n")
    assert list(imported_layers(tmp_path / "wrong.py", "hw")) == [(2, "sim")]


def test_no_private_amaranth_hooks():
    used = [f"{path.relative_to(ROOT)}" for folder in (*LAYERS, "tests", "bench")
            for path in (ROOT / folder).glob("*.py") if "_MustUse" in path.read_text() and path != pathlib.Path(__file__)]
    assert used == []


def components():
    for path in sorted((ROOT / "hw").glob("*.py")):
        module = importlib.import_module(f"wccgen.hw.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, SpecComponent) and cls is not SpecComponent and cls.__module__ == module.__name__:
                yield cls


@pytest.mark.parametrize("component", list(components()), ids=lambda cls: cls.__name__)
def test_every_spec_is_an_immutable_dataclass(component):
    spec = component.Spec
    assert dataclasses.is_dataclass(spec) and spec.__dataclass_params__.frozen
    assert spec.__module__.startswith("wccgen.hw.")  # its own file, or its family's (ScatterBuffer: ScatterSpec)


def test_every_hardware_file_has_a_test_file_of_its_name():
    """``hw/x.py`` is tested in ``tests/test_x.py``; the golden function of a block, if it has one, is in
    ``golden/x.py``."""
    blocks = {path.stem for path in (ROOT / "hw").glob("*.py") if path.stem != "__init__"}
    tests = {path.stem.removeprefix("test_") for path in (ROOT / "tests").glob("test_*.py")}
    assert sorted(blocks - tests) == []
    golden = {path.stem for path in (ROOT / "golden").glob("*.py")}
    named_elsewhere = {stem for stem in blocks if "golden: ``golden." in (ROOT / "hw" / f"{stem}.py").read_text()
                       and stem not in golden}
    assert sorted(named_elsewhere) == []
