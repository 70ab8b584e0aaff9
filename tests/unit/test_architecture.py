"""The layering rules of docs/architecture.rst, checked on the source tree itself."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
PACKAGE = PLUGINS / "mailrep"
CORE = ("dns", "dnsbl", "mail", "relay", "bounce")
MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PLUGINS).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every mailrep module this file imports, at top level or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("mailrep"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mailrep"):
            base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(
                    sub if (PLUGINS / Path(*sub.split("."))).with_suffix(".py").exists() else base
                )
    return found


def test_no_import_cycle_inside_the_package():
    graph = {module_name(p): imported(p) for p in MODULES}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(name) :], name]))
        if name in done or name not in graph:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        done.add(name)

    for name in graph:
        visit(name, [])


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PLUGINS)))
def test_no_module_is_over_400_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400


def test_only_the_package_face_and_errors_stay_flat():
    flat = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "errors.py"]


@pytest.mark.parametrize("package", [*CORE, "plugin"])
def test_sub_package_init_is_a_docstring_without_imports(package):
    tree = ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), "say what lives here and what it may import"
    assert not [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]


@pytest.mark.parametrize("package", CORE)
def test_core_packages_do_not_import_the_plugin_layer(package):
    for path in (PACKAGE / package).glob("*.py"):
        assert not {m for m in imported(path) if m.startswith("mailrep.plugin")}, path


@pytest.mark.parametrize("banned", ["argparse", "nagiosplugin"])
def test_ruff_refuses_argparse_and_nagiosplugin_in_the_core(banned):
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [
            str(ruff),
            "check",
            "--select",
            "TID251",
            "--stdin-filename",
            str(PACKAGE / "dns" / "example.py"),
            "-",
        ],
        input=f"import {banned}\n",
        capture_output=True,
        text=True,
        cwd=PLUGINS.parent,
    )
    assert result.returncode == 1 and "TID251" in result.stdout
