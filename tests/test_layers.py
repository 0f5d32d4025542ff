"""The packages of ``trainer`` import downwards only (docs/design.md, "The house").

Every import in every module is read, including imports inside functions, so a lazy import that
reaches up a layer fails here just as a top-level one does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import trainer

PACKAGE_DIR = Path(trainer.__file__).parent

#: Each package's layer: a module may import its own package and packages on lower layers.
LAYERS = {
    "trainer": 0,  # the package face (its version), errors.py and visible.py
    "trainer.errors": 0,
    "trainer.store": 1,
    "trainer.scheduling": 2,
    "trainer.content": 2,
    "trainer.study": 3,
    "trainer.importers": 3,
    "trainer.reports": 4,
    "trainer.cli": 5,
    "trainer.__main__": 6,
}


def package_of(module: str) -> str:
    """The entry of :data:`LAYERS` a dotted module name belongs to."""
    parts = module.split(".")
    for depth in (2, 1):
        name = ".".join(parts[:depth])
        if name in LAYERS:
            return name
    raise AssertionError(f"{module} belongs to no package of LAYERS")


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every ``trainer`` module a file imports, with the line of the import."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("trainer")]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found += [(node.lineno, node.module)] if node.module.startswith("trainer") else []
    return found


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_every_package_has_a_layer_and_says_what_it_is_for() -> None:
    for init in PACKAGE_DIR.glob("*/__init__.py"):
        name = module_name(init)
        assert name in LAYERS, f"{name} is missing from LAYERS"
        assert ast.get_docstring(ast.parse(init.read_text())), f"{name} has no docstring"


def test_imports_point_down() -> None:
    upward = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        here = package_of(module_name(path))
        for line, target in imports_of(path):
            there = package_of(target)
            if there != here and LAYERS[there] >= LAYERS[here]:
                upward.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{line} imports {target}")
    assert upward == []


def test_the_layer_check_sees_an_upward_import(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from trainer.cli.main import main\n")
    assert imports_of(source) == [(2, "trainer.cli.main")]
    assert LAYERS[package_of("trainer.cli.main")] > LAYERS[package_of("trainer.store.db")]


def test_the_scheduler_adapter_builds_no_sql() -> None:
    """The adapter is pure: card rows and SQL belong to the store and the layers above."""
    scheduling = PACKAGE_DIR / "scheduling"
    for path in sorted(scheduling.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        imported = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        imported += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert [m for m in imported if m.split(".")[0] == "sqlalchemy"] == [], path.name
