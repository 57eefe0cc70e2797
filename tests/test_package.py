"""The package as a whole: a light ``memae --help``, the lazy public API, and the layering contracts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import memae

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("torch", "sklearn", "matplotlib", "pandas", "scipy")


def _modules_after(code: str) -> set[str]:
    """Run ``code`` in a fresh interpreter that imports this checkout's memae; return its sys.modules."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["evaluate", "--help"], ["score", "--help"],
                                  ["demo", "--help"], ["reproduce", "--help"], ["score-video", "--help"], []])
def test_help_imports_neither_torch_nor_sklearn(argv):
    loaded = _modules_after(
        "import contextlib, io\n"
        "from memae.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)


def test_import_memae_is_light_and_every_public_name_resolves():
    assert not {m.split(".")[0] for m in _modules_after("import memae")} & set(HEAVY)
    for name in memae.__all__:
        assert getattr(memae, name) is not None, name
    assert set(memae.__all__) <= set(dir(memae)) and "__version__" in dir(memae)
    from memae import MemAEDetector, MemoryModule, build_model, train  # noqa: F401  (from-imports go through __getattr__)
    assert memae.training.train is memae.train  # sub-packages stay reachable as attributes
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        memae.no_such_name
