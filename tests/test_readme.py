"""The README's Python snippet runs as written (with small arrays standing in for the user's data)."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_api_snippet(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## The Python API\n\n```python\n(.*?)```", text, re.S).group(1)
    rng = np.random.default_rng(0)
    namespace = {
        "train_images": rng.random((40, 1, 28, 28), dtype=np.float32),
        "val_images": rng.random((8, 1, 28, 28), dtype=np.float32),
        "test_images": rng.random((10, 1, 28, 28), dtype=np.float32),
        "test_labels": np.r_[np.zeros(5), np.ones(5)],
    }
    monkeypatch.chdir(tmp_path)
    code = code.replace("epochs=10", "epochs=1, progress=False")
    exec(compile(code, "README.md", "exec"), namespace)
    assert (tmp_path / "runs" / "mine" / "best.pt").is_file()
    assert namespace["scores"].shape == (10,)
