"""Each package's public surface is its __all__: sorted, complete, importable."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["indexer", "assistant"])
def test_all_is_sorted_and_importable(package: str) -> None:
    module = importlib.import_module(package)
    names = module.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n)), "keep __all__ sorted"
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(module, name) is not None


def test_indexer_does_not_import_assistant() -> None:
    import subprocess
    import sys

    code = "import sys, indexer, indexer.cli, indexer.pipeline; print('assistant' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
