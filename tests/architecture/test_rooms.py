"""The rooms of the salesprep package import one way (docs/architecture.md): the entry points
(`cli/`, `orchestration/`) call `pipeline.py` and the rooms, and no room imports an entry point;
the emulator's server and its fault injector share `messages` instead of importing each other."""

from __future__ import annotations

import ast
from pathlib import Path

import salesprep

PACKAGE = Path(salesprep.__file__).parent
ENTRY_POINTS = ("salesprep.cli", "salesprep.orchestration")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every salesprep module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("salesprep")}


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_no_room_imports_an_entry_point():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if any(_under(module, entry) for entry in ENTRY_POINTS):
            continue
        upward += [
            f"{module} imports {name}"
            for name in sorted(_imports(path))
            if any(_under(name, entry) for entry in ENTRY_POINTS)
        ]
    assert not upward, "rooms must not import cli/ or orchestration/: " + "; ".join(upward)


def test_the_emulator_fault_injector_does_not_import_the_server():
    faults = _imports(PACKAGE / "emulator" / "faults.py")
    assert not any(_under(name, "salesprep.emulator.server") for name in faults), faults


def test_the_emulator_has_no_argument_parsing():
    parsing = [
        _module_name(path)
        for path in sorted((PACKAGE / "emulator").glob("*.py"))
        if "argparse"
        in {
            alias.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Import)
            for alias in node.names
        }
    ]
    assert not parsing, f"argument parsing belongs in salesprep/cli/: {parsing}"
