"""The layer contracts of pyproject.toml ([tool.importlinter]) hold, checked with import-linter's
own command (`lint-imports`), and that command does fail when a contract is broken."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_every_layer_contract_is_kept():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    assert {c["id"] for c in contracts} >= {
        "layers",
        "integrations-are-transport",
        "services-hold-the-rules",
        "models-stand-alone",
        "pages-need-no-worker",
    }
    checked = _lint_imports()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in checked.stdout


def test_a_broken_contract_fails_the_check(tmp_path):
    # Services do read the models: a contract forbidding it must be reported broken.
    config = tmp_path / "broken.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_package = "klinikita"\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "services without models"\n'
        'type = "forbidden"\n'
        'source_modules = ["klinikita.services"]\n'
        'forbidden_modules = ["klinikita.models"]\n'
    )
    checked = _lint_imports(str(config))
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "services without models BROKEN" in checked.stdout
