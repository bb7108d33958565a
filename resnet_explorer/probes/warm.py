"""Warm what a probe's first step needs, off the click path.

The first probe of a fresh process used to spend seconds before its first step: reading the
offline digits, resizing them, and importing the optimizer's compiler machinery (``torch.optim``
imports ``torch._dynamo`` on first use, 2-3 s on a busy 2-core box). `warm_up` does all of that
once, and `warm_in_background` does it in a daemon thread the first time a page asks, so that
pressing Start trains at once. Nothing here changes the process's thread settings.
"""

from __future__ import annotations

import contextlib
import threading

_lock = threading.Lock()
_started: set[tuple[str, int, int]] = set()


def warm_up(dataset: str = "mnist", image_size: int = 16, channels: int = 3) -> None:
    """Load ``dataset`` and adapt it to ``image_size`` x ``channels`` (both kept in memory),
    make an optimizer and run one tiny training step of ResNet-20, so that their imports and
    kernels are ready."""
    import torch

    from resnet_explorer import presets
    from resnet_explorer.builder import build_model
    from resnet_explorer.probes.config import ProbeConfig
    from resnet_explorer.probes.data import load_dataset
    from resnet_explorer.probes.runner import make_optimizer

    data = load_dataset(dataset, image_size=image_size, channels=channels)
    data.adapt(image_size, channels)
    design = presets.get("resnet20").replace(image_size=image_size, in_channels=channels)
    model = build_model(design, seed=0)
    optimizer = make_optimizer(model, ProbeConfig())
    x = torch.zeros(2, channels, image_size, image_size)
    loss = torch.nn.functional.cross_entropy(model(x), torch.zeros(2, dtype=torch.long))
    loss.backward()
    optimizer.zero_grad(set_to_none=True)


def warm_in_background(
    dataset: str = "mnist", image_size: int = 16, channels: int = 3
) -> threading.Thread | None:
    """`warm_up` in a daemon thread, once per process and setting; None when already started.
    A failure is silent here: the probe that needs the data reports it with its message."""
    key = (dataset, image_size, channels)
    with _lock:
        if key in _started:
            return None
        _started.add(key)

    def run() -> None:
        with contextlib.suppress(Exception):  # e.g. CIFAR-10 offline: the probe will say so
            warm_up(dataset, image_size, channels)

    thread = threading.Thread(target=run, name="probe-warm-up", daemon=True)
    thread.start()
    return thread
