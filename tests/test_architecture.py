"""The code's structure: no import cycles between modules or packages, modules of a readable
size, and results that do not drive simulations.

Imports are read with the ast module, those inside functions included (a cycle hidden in a
function is still a cycle). Imports guarded by ``if TYPE_CHECKING:`` are for annotations only
and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import accelsim

ROOT = Path(accelsim.__file__).parent
MAX_LINES = 600


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        if "_data" in path.parts:
            continue
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _runtime_nodes(tree: ast.AST):
    """Every node, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The accelsim modules ``name`` imports, and the packages whose __init__ that runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    found = set()
    own = {".".join(name.split(".")[:end]) for end in range(1, name.count(".") + 1)}
    for target in targets:
        if not target.startswith("accelsim"):
            continue
        parts = target.split(".")
        # the module itself (or a name from it), and every package __init__ on the way,
        # except the module's own packages (already being imported when it runs)
        for end in range(2, len(parts) + 1):
            candidate = ".".join(parts[:end])
            if candidate in known and candidate != name and candidate not in own:
                found.add(candidate)
    return found


def graph() -> nx.DiGraph:
    mods = modules()
    g = nx.DiGraph()
    for name, path in mods.items():
        g.add_node(name)
        for target in imports(name, path, set(mods)):
            g.add_edge(name, target)
    return g


def package(module: str) -> str:
    return ".".join(module.split(".")[:2])


def test_no_import_cycle_between_modules():
    g = graph()
    g.remove_node("accelsim")
    cycles = list(nx.simple_cycles(g))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + [c[0]])
                                                      for c in sorted(cycles)[:10])


def test_no_import_cycle_between_packages():
    packages = nx.DiGraph()
    for source, target in graph().edges:
        if "accelsim" in (source, target):
            continue
        a, b = package(source), package(target)
        if a != b:
            packages.add_edge(a, b)
    cycles = list(nx.simple_cycles(packages))
    assert not cycles, "package cycles: " + "; ".join(" -> ".join(c + [c[0]])
                                                       for c in sorted(cycles)[:10])


def test_no_module_is_over_600_lines():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_results_do_not_run_simulations_or_sweeps():
    g = graph()
    for module in g:
        if package(module) == "accelsim.results":
            reached = {package(t) for t in g.successors(module)}
            assert not reached & {"accelsim.simulate", "accelsim.sweep"}, module


def test_a_first_small_run_needs_no_numba_and_gives_the_compiled_results():
    """A fresh process's first simulation of a network runs in the C event loop (or, without
    a C compiler, the Python one) without importing numba (no compiling on a fresh install)
    or networkx, and every figure equals numba's, in every loop."""
    import json
    import os
    import subprocess
    import sys
    code = ("import json, sys; from accelsim import simulate; "
            "r = simulate('resnet18', 'cim-16x16').to_dict(); "
            "[r.pop(k) for k in ('engine_seconds', 'wall_seconds', 'compile_seconds')]; "
            "print(json.dumps([sorted(m for m in ('numba', 'networkx') if m in sys.modules), r], "
            "sort_keys=True, default=str))")
    runs = {}
    from accelsim.engine import native
    engines = ("auto", "python", "numba", *(("native",) if native.available() else ()))
    for engine in engines:
        env = {**os.environ, "ACCELSIM_ENGINE": engine}
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, env=env).stdout
        runs[engine] = json.loads(out.strip().splitlines()[-1])
    assert runs["auto"][0] == runs["python"][0] == [] and runs["numba"][0] == ["numba"]
    assert all(runs[engine][1] == runs["numba"][1] for engine in engines)


def test_import_is_light_and_names_resolve():
    """`import accelsim` loads no heavy dependency (numba, networkx, pydantic, matplotlib) until
    a name needs it, every public name resolves, and importing the modules that share a
    function's name (accelsim.simulate, accelsim.sweep) keeps the functions."""
    import subprocess
    import sys
    code = ("import sys, accelsim; heavy = [m for m in ('numba', 'networkx', 'pydantic', "
            "'matplotlib', 'numpy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
    import accelsim
    import accelsim.simulate
    import accelsim.sweep.grid  # noqa: F401
    for name in accelsim.__all__:
        assert getattr(accelsim, name) is not None, name
    assert callable(accelsim.simulate) and accelsim.simulate.__name__ == "simulate"
    assert callable(accelsim.sweep) and accelsim.sweep.__name__ == "sweep"
    assert accelsim.energy.Action is not None        # subpackages load on first use
