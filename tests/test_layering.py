"""The project's layering, declared once and enforced on every module's imports.

A module may import its own part and the parts of *lower* layers, never a higher layer or a sibling part of its
own layer. ARCHITECTURE.md explains each part; this table is the rule. Imports are read with `ast` (every
`import` and `from ... import`, including those inside functions), so a lazy import cannot hide a wrong direction.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("hub", "loaders", "evaluators", "submissions", "leaderboard")

# Lowest layer first. Each layer holds one or more parts (a module prefix); parts of one layer are independent.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("core types", ("hub.core",)),
    ("file codecs", ("loaders.formats",)),
    ("dataset loaders | store", ("loaders", "hub.store")),
    ("prediction readers | tool-log parsers", ("evaluators.readers", "submissions.measurements")),
    ("metrics | lm-eval tasks | synthetic releases", ("evaluators", "loaders.lm_tasks", "loaders.synthetic")),
    ("wiring (spec names to objects)", ("hub.scoring.wiring",)),
    (
        "export (parquet + dataset card) | results dataset | result bundles | executors",
        ("hub.export", "hub.results_dataset", "hub.scoring.bundle", "hub.scoring.executors"),
    ),
    ("producers of submissions", ("submissions.baselines", "submissions.runner")),
    ("real models run by mobench", ("submissions.models",)),
    ("intake and worker | leaderboard", ("submissions", "leaderboard")),
    ("command line", ("hub.cli",)),
)


@dataclass(frozen=True)
class Violation:
    file: str
    line: int
    importer: str
    imported: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.importer} imports {self.imported}: {self.rule}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> tuple[int, str] | None:
    """(layer index, part) of the longest declared prefix of `module`, or None."""
    best: tuple[int, str] | None = None
    for index, (_, parts) in enumerate(LAYERS):
        for part in parts:
            if (module == part or module.startswith(part + ".")) and (best is None or len(part) > len(best[1])):
                best = (index, part)
    return best


def project_imports(path: Path, module: str, root: Path) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import of a project module in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PACKAGES:
                    yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] not in PACKAGES:
                continue
            # `from pkg import mod` imports the submodule, not only the package
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                yield node.lineno, candidate if _is_module(candidate, root) else target


def _is_module(name: str, root: Path) -> bool:
    base = root.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def modules(root: Path) -> Iterator[tuple[Path, str]]:
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield path, module_name(path, root)


def check_layering(root: Path) -> list[Violation]:
    violations: list[Violation] = []
    for path, module in modules(root):
        rel = str(path.relative_to(root))
        mine = part_of(module)
        imports = sorted(set(project_imports(path, module, root)))
        if mine is None:
            if imports:
                rule = "this module belongs to no declared part (add it to LAYERS)"
                violations.append(Violation(rel, 1, module, imports[0][1], rule))
            continue
        for line, imported in imports:
            theirs = part_of(imported)
            if theirs is None:
                if not _is_package_root(imported):
                    violations.append(Violation(rel, line, module, imported, "it belongs to no declared part"))
                continue
            if theirs[1] == mine[1] or theirs[0] < mine[0]:
                continue
            mine_name, theirs_name = LAYERS[mine[0]][0], LAYERS[theirs[0]][0]
            if theirs[0] == mine[0]:
                rule = f"{mine[1]} and {theirs[1]} are independent parts of the layer '{mine_name}'"
            else:
                rule = f"{mine[1]} ('{mine_name}') must not import the higher layer '{theirs_name}' ({theirs[1]})"
            violations.append(Violation(rel, line, module, imported, rule))
    return violations


def _is_package_root(name: str) -> bool:
    return name in PACKAGES


def import_cycles(root: Path) -> list[list[str]]:
    """Strongly connected components (more than one module, or a self-import) of the module import graph."""
    graph: dict[str, set[str]] = {}
    for path, module in modules(root):
        graph[module] = {imported for _, imported in project_imports(path, module, root) if imported != module}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_every_import_follows_the_declared_layers() -> None:
    violations = check_layering(REPO)
    assert not violations, "imports against the layering:\n" + "\n".join(map(str, violations))


def test_no_import_cycles() -> None:
    assert import_cycles(REPO) == []


def test_every_module_belongs_to_a_part() -> None:
    folders = {part.rpartition(".")[0] for _, parts in LAYERS for part in parts}  # e.g. hub.scoring: its parts' home
    orphans = [m for _, m in modules(REPO) if part_of(m) is None and m not in PACKAGES and m not in folders]
    assert orphans == []


@pytest.mark.parametrize(
    ("importer", "source", "expected"),
    [
        # a loader that imports a metric: a higher layer
        ("loaders/bad.py", "from evaluators.flow import kitti_outliers\n", "must not import the higher layer 'metrics"),
        # the core importing anything of the project
        ("hub/core/bad.py", "import loaders.base\n", "must not import the higher layer 'dataset loaders | store'"),
        # a lazy import inside a function counts too
        ("evaluators/bad.py", "def f():\n    from submissions import worker\n", "higher layer 'intake and worker"),
        # siblings of one layer are independent: the store knows no loader
        ("hub/store/bad.py", "from loaders.base import DatasetLoader\n", "are independent parts"),
    ],
)
def test_a_wrong_import_is_named_with_file_line_and_rule(
    tmp_path: Path, importer: str, source: str, expected: str
) -> None:
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    target = tmp_path / importer
    target.parent.mkdir(parents=True, exist_ok=True)
    (target.parent / "__init__.py").touch()
    target.write_text("import math\n\n" + source)
    violations = check_layering(tmp_path)
    assert len(violations) == 1
    message = str(violations[0])
    assert message.startswith(f"{importer}:{source.count(chr(10)) + 2}: ")
    assert expected in message


def test_a_cycle_is_found(tmp_path: Path) -> None:
    (tmp_path / "evaluators").mkdir()
    (tmp_path / "evaluators" / "a.py").write_text("from evaluators import b\n")
    (tmp_path / "evaluators" / "b.py").write_text("import evaluators.a\n")
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    assert import_cycles(tmp_path) == [["evaluators.a", "evaluators.b"]]
