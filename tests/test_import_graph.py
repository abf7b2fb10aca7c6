"""The floors of the house (docs/architecture.md, contracts in .importlinter): the contracts are kept,
and no module of the project takes part in an import cycle — imports inside functions counted, as
grimp (import-linter's graph builder) reads every import statement of a module wherever it stands."""

import ast
import configparser
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def project_packages() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def import_cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    cycles: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle_it_is_shown():
    graph = grimp.ImportGraph()
    for module in ("a", "a.x", "a.y", "a.z", "b"):
        graph.add_module(module)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    graph.add_import(importer="b", imported="a.x")
    assert import_cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_no_module_of_the_project_is_in_an_import_cycle():
    graph = grimp.build_graph(*project_packages(), cache_dir=None)
    assert import_cycles(graph) == []


def test_the_import_contracts_are_kept():
    linter = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-4000:]


def function_level_imports() -> list[tuple[str, str, int]]:
    """(file, function, line) of every import of the project's own modules inside a function."""
    packages = set(project_packages())
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for function in ast.walk(tree):
                if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(function):
                    own = (
                        isinstance(node, ast.ImportFrom)
                        and (node.level or (node.module or "").split(".")[0] in packages)
                    ) or (
                        isinstance(node, ast.Import)
                        and any(a.name.split(".")[0] in packages for a in node.names)
                    )
                    if own:
                        found.append((str(path.relative_to(ROOT)), function.name, node.lineno))
    return found


def test_imports_inside_functions_are_only_where_the_contract_file_says():
    """.importlinter lists the places: an app's ``AppConfig.ready`` and ``portal.__getattr__``."""
    stray = [
        (path, function, line)
        for path, function, line in function_level_imports()
        if not (path.endswith("apps.py") and function == "ready")
        and not (path == "portal/__init__.py" and function == "__getattr__")
    ]
    assert stray == []
