"""Who may import whom (docs/architecture.md): numerics at the bottom, imports nothing of
neurogate; hw/ never imports compiler/ or sim/; the IR never imports hw/."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def neurogate_imports(path: Path) -> set[str]:
    """Absolute names of the neurogate packages ``path`` imports (relative ones resolved)."""
    package = ["neurogate", *path.relative_to(ROOT).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                found.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module and node.module.startswith("neurogate"):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("neurogate"))
    return found


@pytest.mark.parametrize("folder, forbidden", [
    ("numerics", ("neurogate.hw", "neurogate.compiler", "neurogate.sim", "neurogate.models")),
    ("hw", ("neurogate.compiler", "neurogate.sim", "neurogate.models")),
    ("sim/golden", ("neurogate.compiler", "neurogate.hw", "neurogate.models")),
])
def test_no_upward_imports(folder, forbidden):
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in neurogate_imports(path):
            assert not name.startswith(forbidden), f"{path.relative_to(ROOT)} imports {name}"


def test_the_ir_does_not_import_hw():
    for name in ("ir.py", "verifier.py", "builder.py", "serialize.py"):
        imports = neurogate_imports(ROOT / "compiler" / name)
        assert not any(i.startswith("neurogate.hw") for i in imports), (name, imports)
