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


def test_layering_contracts_hold():
    """The import-linter contracts in pyproject.toml (``lint-imports``; .ci/run runs it too)."""
    pytest.importorskip("importlinter")
    root = SRC.parent
    result = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
                             "sys.exit(lint_imports_command())", "--no-cache"],
                            capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(SRC)})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


# Private names that still cross a package boundary, in modules owned elsewhere (issue 11); shrink, never grow.
KNOWN_PRIVATE_CROSSINGS: set[tuple[str, str]] = set()  # none left; add one here only with a reason


def _private_crossings() -> set[tuple[str, str]]:
    import ast

    found = set()
    for path in sorted((SRC / "memae").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[:2] == module.split(".")[:2]:
                continue  # the same package (memae.data.x -> memae.data.y) may share private helpers
            for alias in node.names:
                names = target.split(".") + [alias.name]
                if any(n.startswith("_") and not n.startswith("__") for n in names):
                    found.add((module, f"{target}.{alias.name}"))
    return found


def test_no_new_private_names_cross_packages():
    found = _private_crossings()
    assert found <= KNOWN_PRIVATE_CROSSINGS, sorted(found - KNOWN_PRIVATE_CROSSINGS)


def test_experiments_take_typed_options_from_python():
    from memae.errors import ConfigError, UnknownNameError
    from memae.experiments import ReproduceOptions, reproduce

    with pytest.raises(UnknownNameError, match="unknown experiment 'table9'"):
        reproduce(ReproduceOptions("table9"))
    with pytest.raises(ConfigError, match="--reuse is for the video experiments"):
        reproduce(ReproduceOptions("table3", reuse=["runs/x"]))
