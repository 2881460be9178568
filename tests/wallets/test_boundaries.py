"""The engine is a reusable app: it imports Django and itself, never the portal or the shop."""

import ast
from pathlib import Path

import wallets

ENGINE = Path(wallets.__file__).parent
FORBIDDEN = ("portal", "shop", "tests")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_engine_never_imports_the_portal_or_the_shop():
    offenders = {
        f"{path.relative_to(ENGINE)}: {module}"
        for path in ENGINE.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN
    }
    assert offenders == set()


def test_the_engine_needs_only_django_and_the_standard_library():
    import sys

    allowed = {"django", "wallets", "__future__", *sys.stdlib_module_names}
    third_party = {
        f"{path.relative_to(ENGINE)}: {module}"
        for path in ENGINE.rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] not in allowed
    }
    assert third_party == set()
