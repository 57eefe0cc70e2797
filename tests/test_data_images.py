"""Tests for the image readers (IDX, CIFAR-10, image folder, digits), the dispatcher and the one-class split."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from memae.data.cifar import load_cifar10, read_cifar_batch, restricted_load
from memae.data.digits import load_digits_dataset
from memae.data.idx import FASHION_MNIST_CLASSES, load_idx_dataset, parse_idx, read_idx
from memae.data.image_folder import load_image_folder
from memae.data.images import (
    DATASET_NAMES,
    ImageData,
    concatenate,
    load_image_dataset,
    to_float_tensor,
)
from memae.data.one_class import official_test_split, one_class_split
from memae.errors import ConfigError, DataError, UnknownNameError


@pytest.fixture(scope="module")
def mnist_root(datasets_root):
    return datasets_root / "mnist"


# Per-class counts from /work/shared/datasets/mnist/PROVENANCE.md.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# ----------------------------------------------------------------------------------------------- helpers
_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(arr: np.ndarray) -> bytes:
    """Encode ``arr`` as an IDX file (big-endian), independent of the reader under test."""
    code = _CODES[arr.dtype.type]
    header = bytes([0, 0, code, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx_pair(root: Path, prefix: str, images: np.ndarray, labels: np.ndarray, gz: bool = True) -> None:
    root.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""
    enc = gzip.compress if gz else (lambda b: b)
    (root / f"{prefix}-images-idx3-ubyte{suffix}").write_bytes(enc(idx_bytes(images)))
    (root / f"{prefix}-labels-idx1-ubyte{suffix}").write_bytes(enc(idx_bytes(labels)))


class _Py2Pickler(pickle._Pickler):
    """Writes bytes and str as Python 2 ``str`` (BINSTRING), as the genuine CIFAR-10 files (cPickle) were."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_py2_str(self, obj):
        b = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(b) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(b)]) + b)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(b)) + b)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str
    dispatch[str] = _save_py2_str


def py2_dumps(obj) -> bytes:
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    # Python 2 era numpy named the module numpy.core.multiarray (GLOBAL opcodes are plain text lines).
    return buf.getvalue().replace(b"numpy._core.multiarray", b"numpy.core.multiarray")


def write_cifar_batch(
    path: Path, data: np.ndarray, labels: list[int], protocol: int | str = "py2", str_keys: bool = False
) -> None:
    """Write a batch in the official python-version layout (a pickled dict, Python 2 str keys by default)."""
    k = (lambda s: s) if str_keys else (lambda s: s.encode())
    batch = {
        k("batch_label"): b"testing batch 1 of 1",
        k("data"): data,
        k("labels"): list(labels),
        k("filenames"): [f"img_{i}.png".encode() for i in range(len(labels))],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(py2_dumps(batch) if protocol == "py2" else pickle.dumps(batch, protocol=protocol))


def make_cifar(root: Path, n_per_batch: int = 4, meta: bool = True) -> dict[str, tuple[np.ndarray, list[int]]]:
    rng = np.random.default_rng(0)
    written = {}
    for i, name in enumerate([f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]):
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = [(i + j) % 10 for j in range(n_per_batch)]
        write_cifar_batch(root / name, data, labels)
        written[name] = (data, labels)
    if meta:
        names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
        (root / "batches.meta").write_bytes(
            py2_dumps({b"label_names": names, b"num_cases_per_batch": n_per_batch, b"num_vis": 3072})
        )
    return written


class _Evil:
    """Unpickling this runs os.system (the attack the restricted unpickler must stop)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvilEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


# ----------------------------------------------------------------------------------------------- IDX
@pytest.fixture(scope="module")
def mnist_all(mnist_root) -> ImageData:
    if not (mnist_root / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real mnist_root not found at {mnist_root}")
    return load_image_dataset("mnist", mnist_root, split="all")


def test_real_mnist_counts_and_labels(mnist_root, mnist_all: ImageData) -> None:
    train = load_idx_dataset(mnist_root, "train")
    test = load_idx_dataset(mnist_root, "test")
    assert train.images.shape == (60000, 1, 28, 28) and train.images.dtype == np.uint8
    assert test.images.shape == (10000, 1, 28, 28)
    assert train.labels.dtype == np.int64 and test.labels.dtype == np.int64
    assert np.bincount(train.labels).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.labels).tolist() == MNIST_TEST_COUNTS
    # Well-known first labels of each split.
    assert train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert train.images.min() == 0 and train.images.max() == 255
    assert train.class_names == tuple(str(i) for i in range(10))
    # "all" is train followed by test.
    assert len(mnist_all) == 70000
    np.testing.assert_array_equal(mnist_all.images[60000:], test.images)
    np.testing.assert_array_equal(mnist_all.labels[:60000], train.labels)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_all_dtypes_gz_detected_by_magic(tmp_path: Path, dtype, compress: bool) -> None:
    rng = np.random.default_rng(1)
    arr = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    payload = idx_bytes(arr)
    # Misleading names on purpose: detection must use the gzip magic bytes, not the suffix.
    path = tmp_path / ("data.idx" if compress else "data.idx.gz")
    path.write_bytes(gzip.compress(payload) if compress else payload)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    assert out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, arr)


def test_parse_idx_errors_name_the_source(tmp_path: Path) -> None:
    good = idx_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4))
    with pytest.raises(DataError, match=r"f\.idx: not an IDX file \(magic 0x12340802"):
        parse_idx(b"\x12\x34" + good[2:], "f.idx")
    with pytest.raises(DataError, match="not an IDX file"):
        parse_idx(b"\x00\x00\x07\x01" + good[4:], "f.idx")  # undefined type code 0x07
    with pytest.raises(DataError, match=r"need 12 data bytes, found 11; the file is truncated"):
        parse_idx(good[:-1], "f.idx")
    with pytest.raises(DataError, match=r"need 12 data bytes, found 13"):
        parse_idx(good + b"\x00", "f.idx")
    with pytest.raises(DataError, match="too short"):
        parse_idx(b"\x00\x00", "f.idx")
    with pytest.raises(DataError, match="header declares 2 dimensions"):
        parse_idx(good[:7], "f.idx")
    bad_gz = tmp_path / "x.gz"
    bad_gz.write_bytes(gzip.compress(good)[:-8])
    with pytest.raises(DataError, match=rf"{bad_gz}: corrupt or truncated gzip"):
        read_idx(bad_gz)
    with pytest.raises(DataError, match="cannot read IDX file"):
        read_idx(tmp_path / "missing")


def test_load_idx_dataset_fashion_layout_and_checks(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    tr_img = rng.integers(0, 256, (7, 5, 6), dtype=np.uint8)
    tr_lab = np.array([0, 9, 3, 3, 1, 2, 8], dtype=np.uint8)
    te_img = rng.integers(0, 256, (2, 5, 6), dtype=np.uint8)
    te_lab = np.array([4, 5], dtype=np.uint8)
    write_idx_pair(tmp_path, "train", tr_img, tr_lab, gz=True)
    write_idx_pair(tmp_path, "t10k", te_img, te_lab, gz=False)  # mixed compression is fine
    d = load_image_dataset("fashion-mnist", tmp_path, split="train")
    assert d.images.shape == (7, 1, 5, 6)
    np.testing.assert_array_equal(d.images[:, 0], tr_img)
    assert d.labels.tolist() == tr_lab.tolist() and d.labels.dtype == np.int64
    assert d.class_names == FASHION_MNIST_CLASSES and d.class_names[9] == "Ankle boot"
    t = load_image_dataset("idx", tmp_path, split="test")
    np.testing.assert_array_equal(t.images[:, 0], te_img)
    assert load_image_dataset("fmnist", tmp_path, split="all").labels.tolist() == [0, 9, 3, 3, 1, 2, 8, 4, 5]

    # Image/label count mismatch.
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2, 3], dtype=np.uint8)))
    with pytest.raises(DataError, match="3 labels for 2 images"):
        load_idx_dataset(tmp_path, "test")
    # Non-uint8 images are refused.
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((3, 2, 2), np.float32)))
    with pytest.raises(DataError, match="expected uint8 images"):
        load_idx_dataset(tmp_path, "test")


def test_missing_idx_dataset_says_what_was_expected_where(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_image_dataset("mnist", tmp_path, split="train")
    msg = str(info.value)
    assert str(tmp_path) in msg and "train-images-idx3-ubyte" in msg and "\n" not in msg
    with pytest.raises(DataError, match="does not exist"):
        load_image_dataset("mnist", tmp_path / "nope")


# ----------------------------------------------------------------------------------------------- CIFAR
def test_cifar_official_layout_train_test_all(tmp_path: Path) -> None:
    written = make_cifar(tmp_path / "cifar-10-batches-py", n_per_batch=4)
    # The files really are Python-2 style (old numpy module name, str as BINSTRING), like the genuine ones.
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in (tmp_path / "cifar-10-batches-py" / "data_batch_1").read_bytes()
    train = load_cifar10(tmp_path, "train")
    assert train.images.shape == (20, 3, 32, 32) and train.images.dtype == np.uint8
    assert train.labels.dtype == np.int64
    assert train.class_names[0] == "airplane" and train.class_names[9] == "truck"
    data1, labels1 = written["data_batch_1"]
    # Row layout: 1024 red, then 1024 green, then 1024 blue values, each 32x32 row-major.
    np.testing.assert_array_equal(train.images[0, 0], data1[0, :1024].reshape(32, 32))
    np.testing.assert_array_equal(train.images[0, 2, 5], data1[0, 2048 + 5 * 32 : 2048 + 6 * 32])
    assert train.labels[:4].tolist() == labels1
    test = load_image_dataset("cifar10", tmp_path, split="test")
    np.testing.assert_array_equal(test.images.reshape(4, -1), written["test_batch"][0])
    assert len(load_image_dataset("cifar-10", tmp_path, split="all")) == 24


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar_batches_directly_in_root_py3_pickles_no_meta(tmp_path: Path, protocol: int) -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
    write_cifar_batch(tmp_path / "test_batch", data, [1, 2, 3], protocol=protocol, str_keys=protocol == 5)
    d = load_cifar10(tmp_path, "test")
    assert d.labels.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(d.images.reshape(3, -1), data)
    assert d.class_names[1] == "automobile"  # built-in names when batches.meta is absent


def test_cifar_bad_contents_and_missing_files(tmp_path: Path) -> None:
    write_cifar_batch(tmp_path / "test_batch", np.zeros((2, 100), np.uint8), [0, 1])
    with pytest.raises(DataError, match=r"'data' must be uint8 of shape \(N, 3072\)"):
        load_cifar10(tmp_path, "test")
    write_cifar_batch(tmp_path / "test_batch", np.zeros((2, 3072), np.uint8), [0, 10])
    with pytest.raises(DataError, match="labels must be 0..9"):
        load_cifar10(tmp_path, "test")
    with pytest.raises(DataError, match="missing CIFAR-10 batch file.*data_batch_1"):
        load_cifar10(tmp_path, "train")
    (tmp_path / "test_batch").write_bytes(b"not a pickle at all")
    with pytest.raises(DataError, match="not a readable CIFAR-10 pickle"):
        load_cifar10(tmp_path, "test")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match=r"expected CIFAR-10 python batches .*cifar-10-batches-py"):
        load_image_dataset("cifar10", empty, split="test")


def test_cifar_malicious_pickle_is_refused_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "test_batch"
    evil.write_bytes(pickle.dumps({b"data": _Evil(marker), b"labels": [0]}, protocol=2))
    with pytest.raises(DataError, match=r"refused to unpickle global (posix|nt|os)\.system"):
        read_cifar_batch(evil)
    assert not marker.exists()
    with pytest.raises(DataError, match=r"refused to unpickle global builtins\.eval"):
        restricted_load(pickle.dumps(_EvilEval(), protocol=4))
    # Plain data and numpy arrays still load.
    arr = np.arange(6, dtype=np.int16).reshape(2, 3)
    out = restricted_load(pickle.dumps({b"a": arr, "b": [1, 2.5, b"x"]}, protocol=2))
    np.testing.assert_array_equal(out[b"a"], arr)
    assert out["b"] == [1, 2.5, b"x"]


# ----------------------------------------------------------------------------------------------- folder
def _save(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)


def test_image_folder_classes_grey_and_rgb(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    cat0 = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    cat1 = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    dog0 = rng.integers(0, 256, (6, 5), dtype=np.uint8)
    _save(tmp_path / "cat" / "a.png", cat0)
    _save(tmp_path / "cat" / "b.PNG", cat1)
    _save(tmp_path / "dog" / "z.png", dog0)
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    _save(tmp_path / "dog" / "y.jpg", rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))

    rgb = load_image_dataset("folder", tmp_path, mode="rgb")
    assert rgb.images.shape == (4, 3, 6, 5) and rgb.class_names == ("cat", "dog")
    assert rgb.labels.tolist() == [0, 0, 1, 1] and not rgb.prelabelled_anomalies
    np.testing.assert_array_equal(rgb.images[0], cat0.transpose(2, 0, 1))  # PNG is lossless
    np.testing.assert_array_equal(rgb.images[1], cat1.transpose(2, 0, 1))
    np.testing.assert_array_equal(rgb.images[3, 1], dog0)  # grey -> rgb repeats the channel (z.png after y.jpg)

    grey = load_image_folder(tmp_path, mode="grey")
    assert grey.images.shape == (4, 1, 6, 5)
    np.testing.assert_array_equal(grey.images[3, 0], dog0)
    expected = np.asarray(Image.fromarray(cat0).convert("L"))
    np.testing.assert_array_equal(grey.images[0, 0], expected)

    small = load_image_folder(tmp_path, mode="grey", size=(3, 4))
    assert small.images.shape == (4, 1, 3, 4)


def test_image_folder_normal_anomalous_layout(tmp_path: Path) -> None:
    _save(tmp_path / "normal" / "n1.png", np.full((4, 4), 10, np.uint8))
    _save(tmp_path / "normal" / "n2.png", np.full((4, 4), 20, np.uint8))
    _save(tmp_path / "Anomalous" / "a1.png", np.full((4, 4), 200, np.uint8))
    d = load_image_folder(tmp_path, mode="grey")
    assert d.prelabelled_anomalies
    assert d.class_names == ("normal", "anomalous")
    assert d.labels.tolist() == [0, 0, 1]
    assert d.images[:, 0, 0, 0].tolist() == [10, 20, 200]


def test_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no class sub-folders"):
        load_image_folder(tmp_path)
    _save(tmp_path / "a" / "x.png", np.zeros((4, 4), np.uint8))
    (tmp_path / "b").mkdir()
    with pytest.raises(DataError, match=rf"{tmp_path / 'b'}: no images"):
        load_image_folder(tmp_path)
    bad = tmp_path / "b" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(DataError, match=rf"{bad}: cannot read image"):
        load_image_folder(tmp_path)
    _save(bad, np.zeros((5, 7), np.uint8))
    with pytest.raises(DataError, match=r"broken\.png: image is 7x5 but x\.png is 4x4; pass a size"):
        load_image_folder(tmp_path, mode="grey")
    assert load_image_folder(tmp_path, mode="grey", size=(4, 4)).images.shape == (2, 1, 4, 4)
    with pytest.raises(ConfigError, match="unknown image mode"):
        load_image_folder(tmp_path, mode="cmyk")
    with pytest.raises(ConfigError, match="image size"):
        load_image_folder(tmp_path, size=(0, 4))


# ----------------------------------------------------------------------------------------------- digits
def test_digits_dataset() -> None:
    from sklearn.datasets import load_digits

    d = load_digits_dataset()
    src = load_digits()
    assert d.images.shape == (1797, 1, 8, 8) and d.images.dtype == np.uint8
    assert d.labels.dtype == np.int64 and np.bincount(d.labels).sum() == 1797 and len(d.class_names) == 10
    np.testing.assert_array_equal(d.labels, src.target)
    assert d.images.min() == 0 and d.images.max() == 255
    # Value v in 0..16 maps to round(v * 255 / 16): 16 -> 255, 8 -> 128, 0 -> 0.
    np.testing.assert_array_equal(d.images[:, 0], np.rint(src.images * 255 / 16).astype(np.uint8))
    assert set(np.unique(d.images[:, 0][src.images == 8])) == {128}


# ----------------------------------------------------------------------------------------------- dispatcher / types
def test_dispatcher_errors(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError) as info:
        load_image_dataset("imagenet", tmp_path)
    for name in DATASET_NAMES:
        assert name in str(info.value)
    with pytest.raises(ConfigError, match="needs a data root"):
        load_image_dataset("mnist")
    with pytest.raises(ConfigError, match="no official train/test split"):
        load_image_dataset("digits", split="train")
    with pytest.raises(ConfigError, match="unknown split"):
        load_image_dataset("mnist", tmp_path, split="val")
    with pytest.raises(ConfigError, match="only to the 'folder'"):
        load_image_dataset("mnist", tmp_path, mode="grey")
    assert len(load_image_dataset("DIGITS")) == 1797


def test_to_float_tensor_and_imagedata_checks() -> None:
    imgs = np.array([0, 51, 255, 128], dtype=np.uint8).reshape(1, 1, 2, 2)
    t = to_float_tensor(imgs)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and tuple(t.shape) == (1, 1, 2, 2)
    assert torch.allclose(t.flatten(), torch.tensor([0.0, 0.2, 1.0, 128 / 255]))
    ro = np.frombuffer(bytes(16), dtype=np.uint8).reshape(1, 1, 4, 4)  # read-only input is fine
    assert float(to_float_tensor(ro).sum()) == 0.0
    with pytest.raises(DataError, match="uint8"):
        to_float_tensor(imgs.astype(np.float32))
    with pytest.raises(DataError, match=r"\(N, C, H, W\)"):
        to_float_tensor(imgs[0])
    with pytest.raises(DataError, match="1 or 3 channels"):
        ImageData(np.zeros((2, 2, 4, 4), np.uint8), np.zeros(2, np.int64), ("a",))
    with pytest.raises(DataError, match="int64"):
        ImageData(np.zeros((2, 1, 4, 4), np.uint8), np.zeros(2, np.int32), ("a",))
    with pytest.raises(DataError, match="2 class names"):
        ImageData(np.zeros((2, 1, 4, 4), np.uint8), np.array([0, 2]), ("a", "b"))
    a = ImageData(np.zeros((2, 1, 4, 4), np.uint8), np.array([0, 1]), ("a", "b"))
    both = concatenate([a, a.subset(np.array([1]))])
    assert len(both) == 3 and both.labels.tolist() == [0, 1, 1] and both.shape == (1, 4, 4)


# ----------------------------------------------------------------------------------------------- one-class split
def _labels() -> np.ndarray:
    rng = np.random.default_rng(5)
    counts = [300, 450, 200, 310, 290]
    return rng.permutation(np.repeat(np.arange(5), counts))


def _check_split(labels: np.ndarray, normal: int, s) -> None:
    n_normal = int((labels == normal).sum())
    tr, va, te, an = s.train_idx, s.val_idx, s.test_idx, s.test_is_anomaly
    # Disjoint, in range, no duplicates.
    allidx = np.concatenate([tr, va, te])
    assert np.unique(allidx).size == allidx.size
    assert allidx.min() >= 0 and allidx.max() < labels.size
    assert te.shape == an.shape and an.dtype == bool
    # Train / val / test normals are exactly the normal class, anomalies are exactly the other classes.
    assert (labels[tr] == normal).all() and (labels[va] == normal).all()
    assert (labels[te][~an] == normal).all() and (labels[te][an] != normal).all()
    assert tr.size + va.size + (~an).sum() == n_normal
    # 2:1 split of the normals, 10 % validation, ~30 % anomalies (within rounding).
    n_train_all = tr.size + va.size
    assert abs(n_train_all - n_normal * 2 / 3) <= 0.5
    assert abs(va.size - n_train_all * 0.1) <= 0.5
    assert abs(an.mean() - 0.3) < 1.0 / te.size + 1e-9


@pytest.mark.parametrize("normal", [0, 1, 2, 4])
def test_one_class_split_protocol(normal: int) -> None:
    labels = _labels()
    s = one_class_split(labels, normal, seed=0)
    _check_split(labels, normal, s)
    assert s.normal_class == normal and s.seed == 0


def test_one_class_split_determinism_and_seeds() -> None:
    labels = _labels()
    a, b, c = (one_class_split(labels, 1, seed=k) for k in (7, 7, 8))
    for f in ("train_idx", "val_idx", "test_idx", "test_is_anomaly"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert not np.array_equal(a.train_idx, c.train_idx)
    assert not np.array_equal(a.test_idx, c.test_idx)
    assert a.train_idx.size == c.train_idx.size  # only which samples, not how many, depends on the seed
    with pytest.raises(ValueError):
        a.train_idx[0] = 0  # read-only: a split cannot be altered by accident


def test_one_class_split_real_mnist_pooled(mnist_all: ImageData) -> None:
    s = one_class_split(mnist_all.labels, 0, seed=0)
    # Class 0 pooled: 5923 + 980 = 6903 normals -> 4602 train+val (460 val), 2301 test normals,
    # round(2301 * 0.3 / 0.7) = 986 anomalies.
    assert (s.train_idx.size, s.val_idx.size, s.test_idx.size, int(s.test_is_anomaly.sum())) == (4142, 460, 3287, 986)
    _check_split(mnist_all.labels, 0, s)
    # Anomalies come from all nine other classes.
    assert set(np.unique(mnist_all.labels[s.test_idx[s.test_is_anomaly]]).tolist()) == set(range(1, 10))


def test_one_class_split_validation() -> None:
    labels = _labels()
    with pytest.raises(ConfigError, match=r"normal class 9 does not occur.*\[0, 1, 2, 3, 4\]"):
        one_class_split(labels, 9, seed=0)
    with pytest.raises(ConfigError, match="train_fraction"):
        one_class_split(labels, 0, seed=0, train_fraction=1.0)
    with pytest.raises(ConfigError, match="anomaly_fraction"):
        one_class_split(labels, 0, seed=0, anomaly_fraction=0.0)
    with pytest.raises(ConfigError, match="val_fraction"):
        one_class_split(labels, 0, seed=0, val_fraction=-0.1)
    # 90 normals -> 30 test normals need 70 anomalies at 70 %, only 10 exist.
    few = np.array([0] * 90 + [1] * 10)
    with pytest.raises(DataError, match="need 70 anomalies .* only 10"):
        one_class_split(few, 0, seed=0, anomaly_fraction=0.7)
    with pytest.raises(DataError, match="too few"):
        one_class_split(np.array([0, 1, 1, 1]), 0, seed=0)
    with pytest.raises(DataError, match="1-D integer"):
        one_class_split(np.zeros((3, 2), np.int64), 0, seed=0)
    s = one_class_split(labels, 3, seed=1, val_fraction=0.0)
    assert s.val_idx.size == 0


def test_official_test_split_keeps_published_test_images_out_of_development(mnist_all: ImageData) -> None:
    n_train = 60000
    train_labels, test_labels = mnist_all.labels[:n_train], mnist_all.labels[n_train:]
    s = official_test_split(train_labels, test_labels, 3, seed=1)
    inside = one_class_split(train_labels, 3, seed=1)
    # training and validation normals are the development protocol's, drawn inside the official training images
    np.testing.assert_array_equal(s.train_idx, inside.train_idx)
    np.testing.assert_array_equal(s.val_idx, inside.val_idx)
    assert s.test_idx.min() >= n_train
    test = s.test_idx - n_train
    assert set(np.flatnonzero(test_labels == 3)) == set(test[~s.test_is_anomaly])  # every official test normal
    assert (test_labels[test[s.test_is_anomaly]] != 3).all()
    assert abs(s.anomaly_share - 0.3) < 0.002
    assert not official_test_split(train_labels, test_labels, 3, seed=2).test_idx.tolist() == s.test_idx.tolist()


def test_official_test_protocol_through_the_config(mnist_root, tmp_path: Path) -> None:
    from memae.config import DataSection
    from memae.data.experiment import build_experiment_data

    if not (mnist_root / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real mnist_root not found at {mnist_root}")
    mnist = build_experiment_data(DataSection(dataset="mnist", root=str(mnist_root), protocol="official-test",
                                              normal_class=1), seed=0)
    assert mnist.info["protocol"] == "official-test" and mnist.info["n_test"] > 1135  # all 1,135 test normals
    assert len(mnist.train) + len(mnist.val) == int(np.floor(6742 * 2 / 3 + 0.5))
    with pytest.raises(ConfigError, match="official train/test split"):
        build_experiment_data(DataSection(dataset="digits", protocol="official-test"), seed=0)
    with pytest.raises(ConfigError, match="data.protocol for images"):
        build_experiment_data(DataSection(dataset="digits", protocol="dagmm-code"), seed=0)
