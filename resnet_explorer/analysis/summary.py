"""A torchinfo summary of the built model: layer, output shape, parameters, mult-adds.

Runs torchinfo on the ``meta`` device (shapes only: nothing is computed or allocated). Each row
gives the totals of the module and everything inside it. torchinfo's mult-adds follow its own
convention: conv and linear MACs plus one per norm parameter and per linear bias element.
"""

from __future__ import annotations

from dataclasses import dataclass

from resnet_explorer.analysis._common import AnalysisError, plain, quiet
from resnet_explorer.design import Design

MAX_DEPTH = 8


@dataclass(frozen=True)
class SummaryRow:
    """One module call in forward order (a module called twice, like ReLU, appears twice)."""

    name: str  # module path, "" for the network
    layer: str  # class name
    depth: int
    output_shape: tuple[int, ...]
    params: int
    mult_adds: int


@dataclass(frozen=True)
class SummaryReport:
    """torchinfo's rows down to ``depth`` for a batch of ``batch_size``, with its totals and
    the convention of its mult-adds."""

    depth: int
    batch_size: int
    rows: tuple[SummaryRow, ...]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    convention: str = (
        "torchinfo mult-adds: conv and linear multiply-accumulates plus one per norm parameter "
        "and linear bias element"
    )

    def to_dict(self) -> dict:
        return plain(self)


def summary(design: Design, *, depth: int = 3, batch_size: int = 1) -> SummaryReport:
    """torchinfo's summary of ``design`` down to ``depth`` (1 = stages, 2 = blocks, 3 = layers)."""
    import torchinfo

    from resnet_explorer.analysis.memory import check_batch_size
    from resnet_explorer.builder import build_model

    if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= MAX_DEPTH:
        raise AnalysisError(f"summary depth must be a whole number 0..{MAX_DEPTH}, got {depth!r}")
    check_batch_size(batch_size)
    model = build_model(design, device="meta")
    names = {id(m): name for name, m in model.named_modules()}
    size = (batch_size, design.in_channels, design.image_size, design.image_size)
    with quiet():
        stats = torchinfo.summary(
            model,
            input_size=size,
            depth=MAX_DEPTH,
            col_names=("output_size", "num_params", "mult_adds"),
            device="meta",
            verbose=0,
        )
    # mult-adds of a module = those of the leaf calls inside it (each leaf adds to its ancestors)
    inside: dict[str, int] = {}
    for info in stats.summary_list:
        if info.children:
            continue
        parts = names.get(id(info.module), info.var_name).split(".")
        for k in range(len(parts) + 1):
            prefix = ".".join(parts[:k])
            inside[prefix] = inside.get(prefix, 0) + int(info.macs)
    rows = []
    for info in stats.summary_list:
        if info.depth > depth:
            continue
        name = names.get(id(info.module), info.var_name)
        params = sum(p.numel() for p in info.module.parameters())
        rows.append(
            SummaryRow(
                name=name,
                layer=info.class_name,
                depth=info.depth,
                output_shape=tuple(int(v) for v in info.output_size),
                params=params,
                mult_adds=inside.get(name, 0),
            )
        )
    return SummaryReport(
        depth=depth,
        batch_size=batch_size,
        rows=tuple(rows),
        total_params=int(stats.total_params),
        trainable_params=int(stats.trainable_params),
        total_mult_adds=int(stats.total_mult_adds),
    )
