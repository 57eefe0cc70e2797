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


def datasets_root():
    """The real datasets: $MEMAE_DATASETS, else ../shared/datasets beside the repository."""
    import os
    from pathlib import Path

    return Path(os.environ.get("MEMAE_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets"))


def run_cli(args, capsys):
    """Run ``memae ARGS`` in-process; returns ``(exit code, stdout, stderr)``."""
    from memae.cli.main import main

    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def only_run(out_dir):
    """The one run folder under ``out_dir``."""
    runs = [p for p in out_dir.iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]
