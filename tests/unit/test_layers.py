"""Imports flow one way: entry points -> hub -> envelope/security; store implements the ports."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

FORBIDDEN = {
    "gateway.envelope": (
        "spyne",
        "sqlalchemy",
        "zeep",
        "gateway.hub",
        "gateway.store",
        "gateway.soap",
        "gateway.bootstrap",
        "gateway.cli",
    ),
    "gateway.security": (
        "spyne",
        "sqlalchemy",
        "gateway.hub",
        "gateway.store",
        "gateway.soap",
        "gateway.bootstrap",
    ),
    "gateway.web": (
        "sqlalchemy",
        "zeep",
        "spyne",
        "gateway.store",
        "gateway.bootstrap",
        "gateway.cli",
    ),
    "gateway.hub": (
        "spyne",
        "sqlalchemy",
        "zeep",
        "gateway.store",
        "gateway.soap",
        "gateway.bootstrap",
        "gateway.cli",
        "gateway.web",
    ),
    "gateway.store": ("spyne", "zeep", "gateway.soap", "gateway.bootstrap", "gateway.cli"),
    "gateway.soap": ("sqlalchemy", "zeep", "gateway.store", "gateway.bootstrap", "gateway.cli"),
    "client": (
        "spyne",
        "sqlalchemy",
        "gateway.hub",
        "gateway.store",
        "gateway.soap",
        "gateway.bootstrap",
        "gateway.cli",
        "gateway.settings",
        "gateway.security.passwords",
        "gateway.security.secretbox",
    ),
}


def modules(package: str):
    folder = ROOT.joinpath(*package.split("."))
    files = [folder.with_suffix(".py")] if not folder.is_dir() else sorted(folder.rglob("*.py"))
    return [f for f in files if f.exists()]


def imported_names(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_only_what_it_may(package):
    offences = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules(package)
        for name in imported_names(path)
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[package])
    ]
    assert offences == []
