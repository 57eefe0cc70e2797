"""Shared test settings.

Tiny networks on a 2-core machine run several times faster with one torch thread (and tests run beside other
work), so the whole suite uses one thread.
"""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def datasets_root():
    """The real datasets: $MEMAE_DATASETS, else ../shared/datasets beside the repository."""
    import os
    from pathlib import Path

    return Path(os.environ.get("MEMAE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))


@pytest.fixture(scope="session")
def benchmark_script():
    """``benchmark_script(name)`` imports ``benchmarks/NAME.py`` (the study scripts are files, not a package)."""
    import importlib.util
    import sys
    from pathlib import Path

    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there while the file runs
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def run_cli(capsys):
    """``run_cli(args)`` runs ``memae ARGS`` in-process and returns ``(exit code, stdout, stderr)``."""
    from memae.cli.main import main

    def run(args):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.fixture(scope="session")
def only_run():
    """``only_run(out_dir)``: the one run folder under ``out_dir``."""

    def find(out_dir):
        runs = [p for p in out_dir.iterdir() if p.is_dir()]
        assert len(runs) == 1, runs
        return runs[0]

    return find


@pytest.fixture(scope="session")
def fault_injection():
    """The fault-injection table (``tests/fault_injection.py``, also a script of its own: ``python
    tests/fault_injection.py``), from the tests folder that pytest puts on ``sys.path`` for this conftest."""
    import importlib

    return importlib.import_module("fault_injection")
