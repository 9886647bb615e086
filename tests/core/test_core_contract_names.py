"""The contract's promise that nothing else spells an artifact's file or folder name, checked over the product code."""

from __future__ import annotations

import ast
from pathlib import Path

from vocalmine.core.contract import dataset, models, report, scores, shards

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ["vocalmine", "mining", "features", "model", "evaluation", "report"]
# where names are declared: the contract itself, the catalog's defaults of the yaml paths, and the test kit
DECLARED = [ROOT / "vocalmine" / "core" / "contract", ROOT / "vocalmine" / "core" / "catalog.py", ROOT / "vocalmine" / "testing"]


def contract_names() -> set[str]:
    names = {value for module in (dataset, models, report, scores, shards) for key, value in vars(module).items()
             if key.endswith("_FILE") or key.endswith("_CHECKPOINT") or key.endswith("_FOLDER")}
    names |= {suffix for suffix in models.MODEL_SETS.values() if suffix}
    return {n for n in names if isinstance(n, str)}


def literals(path: Path) -> list[tuple[int, str]]:
    """String constants of a module that are not docstrings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_contract_names_cover_the_known_artifacts():
    names = contract_names()
    assert {"best.pt", "last.pt", "tables.md", "scores.parquet", "index.parquet", "manifest.parquet", "-noskip"} <= names


def test_no_product_module_spells_a_contract_file_name():
    names = contract_names()
    found = []
    for package in PRODUCT:
        for path in sorted((ROOT / package).rglob("*.py")):
            if any(path == d or d in path.parents for d in DECLARED):
                continue
            found += [f"{path.relative_to(ROOT)}:{line}: {value!r}" for line, value in literals(path) if value in names]
    assert not found, "import these names from vocalmine.core.contract instead:\n" + "\n".join(found)
