"""Probe data: the offline MNIST digits, CIFAR-10 in its real pickle format, image folders,
the synthetic set, adapting to a design's input, and batched augmentation."""

from __future__ import annotations

import hashlib
import pickle
import tarfile

import numpy as np
import pytest
import torch

from resnet_explorer.probes import DataError
from resnet_explorer.probes import data as pdata


@pytest.fixture(scope="module")
def mnist():
    return pdata.load_mnist()


def test_offline_mnist_is_real_and_split_fixed(mnist):
    assert mnist.train_x.shape == (4000, 1, 28, 28) and mnist.train_x.dtype == torch.uint8
    assert mnist.test_x.shape == (1000, 1, 28, 28)
    assert torch.bincount(mnist.test_y, minlength=10).min() > 60  # shuffled, not sorted by class
    assert int(mnist.train_x.max()) == 255 and float(mnist.train_x.float().mean()) > 20
    again = pdata.load_mnist()
    assert torch.equal(again.test_y, mnist.test_y) and torch.equal(again.train_x, mnist.train_x)
    assert mnist.augment == "crop"  # digits are not flipped


def test_adapt_pads_resizes_and_sets_channels(mnist):
    padded = mnist.adapt(32, 3)
    assert padded.train_x.shape == (4000, 3, 32, 32)
    assert torch.equal(padded.train_x[:, 0, 2:30, 2:30], mnist.train_x[:, 0])
    assert padded.train_x[:, :, :2].sum() == 0
    assert len(padded.mean) == 3
    small = mnist.adapt(16, 1)
    assert small.test_x.shape == (1000, 1, 16, 16) and small.test_x.dtype == torch.uint8
    rgb = pdata.synthetic(image_size=8, channels=3, train=20, held_out=5)
    grey = rgb.adapt(8, 1)
    assert grey.train_x.shape[1] == 1 and len(grey.mean) == 1


def _write_cifar_fixture(root, per_batch: int = 6):
    """Files as in cifar-10-python.tar.gz: python-2 pickles of dicts with bytes keys."""
    folder = root / pdata.CIFAR10_DIR
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in (*pdata.CIFAR10_TRAIN, pdata.CIFAR10_TEST):
        entry = {
            b"batch_label": name.encode(),
            b"labels": [int(x) for x in rng.integers(0, 10, per_batch)],
            b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
            b"filenames": [f"img_{i}.png".encode() for i in range(per_batch)],
        }
        with open(folder / name, "wb") as fh:
            pickle.dump(entry, fh, protocol=2)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [c.encode() for c in pdata.CIFAR10_CLASSES]}, fh, protocol=2)
    return folder


def test_cifar10_reads_the_official_pickles(tmp_path):
    folder = _write_cifar_fixture(tmp_path)
    ds = pdata.load_cifar10(tmp_path, download=False)
    assert ds.train_x.shape == (30, 3, 32, 32) and ds.test_x.shape == (6, 3, 32, 32)
    with open(folder / "data_batch_1", "rb") as fh:
        raw = pickle.load(fh, encoding="bytes")
    # Row-major 3072 bytes: 1024 red, then green, then blue.
    assert ds.train_x[0, 1, 0, 5] == raw[b"data"][0, 1024 + 5]
    assert ds.train_y[:6].tolist() == raw[b"labels"]
    assert ds.augment == "crop_flip" and ds.classes[0] == "airplane"


def test_cifar10_download_checks_md5_and_extracts(tmp_path):
    source = tmp_path / "source"
    _write_cifar_fixture(source)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(source / pdata.CIFAR10_DIR, arcname=pdata.CIFAR10_DIR)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="damaged"):
        pdata.download_cifar10(cache, url=archive.as_uri(), md5="0" * 32)
    (cache / archive.name).unlink()
    folder = pdata.download_cifar10(cache, url=archive.as_uri(), md5=md5)
    assert (folder / "test_batch").is_file()
    assert pdata.load_cifar10(cache, download=False).train_x.shape[0] == 30


def test_cifar10_offline_gives_a_clear_message(tmp_path):
    with pytest.raises(DataError, match="offline") as info:
        pdata.download_cifar10(tmp_path, url="http://127.0.0.1:9/cifar-10-python.tar.gz", timeout=2)
    assert "--dataset mnist" in str(info.value)
    assert not list(tmp_path.glob("*.part"))


def test_cifar10_broken_file_is_a_data_error(tmp_path):
    folder = _write_cifar_fixture(tmp_path)
    (folder / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="test_batch"):
        pdata.load_cifar10(tmp_path, download=False)


def test_image_folder(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls, value in (("cat", 30), ("dog", 220)):
        (tmp_path / cls).mkdir()
        for i in range(5):
            pixels = np.clip(value + rng.integers(-20, 20, (12, 10, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / cls / f"{i}.png")
    ds = pdata.load_image_folder(tmp_path, image_size=8)
    assert ds.classes == ("cat", "dog") and ds.num_classes == 2
    assert ds.train_x.shape == (8, 3, 8, 8) and ds.test_x.shape == (2, 3, 8, 8)
    assert ds.train_x[ds.train_y == 0].float().mean() < ds.train_x[ds.train_y == 1].float().mean()
    assert pdata.load_dataset(str(tmp_path), image_size=8).num_classes == 2
    (tmp_path / "dog" / "bad.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"bad\.png"):
        pdata.load_image_folder(tmp_path)


def test_unknown_dataset_names_the_choices():
    with pytest.raises(DataError, match="mnist, cifar10, synthetic"):
        pdata.load_dataset("imagenet")


def test_synthetic_is_seeded():
    a, b = pdata.synthetic(seed=3), pdata.synthetic(seed=3)
    assert torch.equal(a.train_x, b.train_x) and torch.equal(a.test_y, b.test_y)
    assert not torch.equal(a.train_x, pdata.synthetic(seed=4).train_x)


def test_sampler_covers_each_epoch_without_replacement():
    sampler = pdata.BatchSampler(10, 3, seed=0, device=torch.device("cpu"))
    epoch = torch.cat([sampler.next() for _ in range(3)])
    assert len(set(epoch.tolist())) == 9  # the last partial batch is dropped


def test_augment_crops_and_flips_the_whole_batch():
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).view(2, 1, 8, 8)
    g = torch.Generator().manual_seed(0)
    assert pdata.augment(x, "none", g) is x
    out = pdata.augment(x, "crop", g, pad=2)
    assert out.shape == x.shape
    # Each crop is a shifted window: its non-zero values are a contiguous block of the original.
    for i in range(2):
        rows = out[i, 0][out[i, 0].sum(1) > 0]
        assert rows.shape[0] >= 6
    flipped = pdata.augment(
        x.repeat(32, 1, 1, 1), "crop_flip", torch.Generator().manual_seed(1), pad=0
    )
    same = (flipped == x.repeat(32, 1, 1, 1)).flatten(1).all(1)
    mirrored = (flipped == x.repeat(32, 1, 1, 1).flip(3)).flatten(1).all(1)
    assert (same | mirrored).all() and same.any() and mirrored.any()


class _Boom:
    """Unpickles into a call of a function of another module (what an attacker would do)."""

    def __reduce__(self):
        import os

        return (os.makedirs, (_Boom.marker,))


def test_a_crafted_cifar10_batch_is_refused_and_runs_nothing(tmp_path):
    folder = _write_cifar_fixture(tmp_path)
    _Boom.marker = str(tmp_path / "pwned")
    with open(folder / "data_batch_2", "wb") as fh:
        pickle.dump({b"data": _Boom(), b"labels": []}, fh, protocol=2)
    with pytest.raises(pdata.DataError) as info:
        pdata.load_cifar10(tmp_path, download=False)
    message = str(info.value)
    assert "data_batch_2" in message and "not an official CIFAR-10 batch" in message
    assert "refers to os.makedirs" in message and "refused" in message
    assert not (tmp_path / "pwned").exists()  # nothing ran


def test_only_the_official_checksum_is_unpickled_as_is(tmp_path, monkeypatch):
    import collections

    folder = _write_cifar_fixture(tmp_path)
    entry = collections.OrderedDict(
        {b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": [1, 2]}
    )
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump(entry, fh, protocol=2)
    with pytest.raises(pdata.DataError, match=r"collections\.OrderedDict"):
        pdata.load_cifar10(tmp_path, download=False)
    official = dict(pdata.CIFAR10_BATCH_MD5, test_batch=pdata.md5sum(folder / "test_batch"))
    monkeypatch.setattr(pdata, "CIFAR10_BATCH_MD5", official)
    assert pdata.load_cifar10(tmp_path, download=False).test_y.tolist() == [1, 2]


def test_an_oversized_batch_file_is_not_read(tmp_path, monkeypatch):
    folder = _write_cifar_fixture(tmp_path)
    monkeypatch.setattr(pdata, "CIFAR10_MAX_BATCH_BYTES", 100)
    with pytest.raises(pdata.DataError, match="larger than any CIFAR-10 batch"):
        pdata.load_cifar10(tmp_path, download=False)
    assert (folder / "data_batch_1").exists()


def test_a_decompression_bomb_in_an_image_folder_is_refused_by_name(tmp_path):
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp_path / name / "ok.png")
    bomb = tmp_path / "b" / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb)  # 400 M pixels in a few kilobytes
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(pdata.DataError) as info:
        pdata.load_dataset(str(tmp_path), image_size=8)
    assert "bomb.png" in str(info.value) and "too large to decode safely" in str(info.value)
