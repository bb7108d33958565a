"""Memory of a design: parameter bytes and what a training step keeps for the backward pass.

The saved-activation figure is measured, not estimated: a forward pass in training mode runs
under ``torch.autograd.graph.saved_tensors_hooks`` and every tensor autograd keeps for the
backward pass is counted once per storage (parameters excluded, they are counted apart). The
pass runs on the ``meta`` device by default: same autograd graph as on the CPU (the tests check
that both give the same bytes) but nothing is computed or allocated, so any batch size is free.
On a CUDA GPU the peak memory of a real training step can also be measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from resnet_explorer.analysis._common import BYTES_FP32, AnalysisError, plain
from resnet_explorer.analysis.analytic import layer_counts, totals
from resnet_explorer.analysis.parameters import parameters
from resnet_explorer.design import Design

OPTIMIZER_STATES = {"sgd": 1, "adam": 2, "none": 0}
"""Optimizer state tensors per parameter: SGD momentum 1, Adam 2 (first and second moment)."""

MAX_BATCH = 4096


@dataclass(frozen=True)
class SavedTensors:
    """What autograd saves for the backward pass of one forward pass (measured)."""

    bytes: int
    tensors: int
    device: str  # where the forward pass ran: meta (shapes only) or cpu / cuda


@dataclass(frozen=True)
class MemoryReport:
    """Memory of a training step at ``batch_size``, fp32, every figure labelled.

    ``training_step_estimate_bytes`` adds parameters, gradients, optimizer state and the saved
    activations: an estimate (it leaves out the allocator's overhead, workspaces and temporary
    buffers of the backward pass). ``measured_peak_bytes`` is the real peak of a training step on
    a CUDA GPU, None on CPU.
    """

    batch_size: int
    optimizer: str
    parameter_bytes: int
    buffer_bytes: int
    gradient_bytes: int
    optimizer_state_bytes: int
    saved_activation_bytes: int
    saved_activation_method: str
    saved_tensors: int
    forward_output_bytes: int
    training_step_estimate_bytes: int
    measured_peak_bytes: int | None
    measured_peak_device: str | None

    def to_dict(self) -> dict:
        return plain(self)


def check_batch_size(batch_size: object, *, what: str = "batch size") -> int:
    """A whole number in 1..MAX_BATCH, else a ValueError that says so."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise AnalysisError(f"{what} must be a whole number, got {batch_size!r}")
    if batch_size <= 0:
        raise AnalysisError(f"{what} must be at least 1, got {batch_size}")
    if batch_size > MAX_BATCH:
        raise AnalysisError(f"{what} {batch_size:,} is absurd; at most {MAX_BATCH:,} is accepted")
    return batch_size


def saved_activations(
    design: Design, batch_size: int, *, device: str = "meta", per_block: bool = True
) -> SavedTensors:
    """Bytes autograd saves during a training-mode forward pass (and the loss) at ``batch_size``.

    Counts each storage once (a tensor saved by two ops, or views of one tensor, is one
    allocation); parameters are excluded. ``device="cpu"`` runs the real pass (slow for big
    batches); ``"meta"`` gives the same figure without computing. On the meta device with
    ``per_block`` (the default) each distinct block is measured once and the figures summed
    (`_segments`): the same bytes as one pass of the whole network (tested), at the cost of a
    few blocks, where a pass of 1,000 blocks on the meta device takes seconds.
    """
    check_batch_size(batch_size)
    if device == "meta" and per_block:
        return _compose(design, batch_size)
    from resnet_explorer.builder import build_model

    model = build_model(design, device=device).train()
    size = (batch_size, design.in_channels, design.image_size, design.image_size)
    saved = _saves(model, model.parameters(), _zeros(size, device), loss=True)
    return SavedTensors(saved.bytes, saved.tensors, device)


class _Saves(NamedTuple):
    """What one part of the network saves: bytes and storages (its input's among them when it
    saves its input), whether it saves its input and its output, and its output's shape."""

    bytes: int
    tensors: int
    saves_input: bool
    saves_output: bool
    output_bytes: int
    output_shape: tuple[int, ...]


def _storage_key(t) -> int:
    storage = t.untyped_storage()
    # meta storages have no address; the storage object's C pointer identifies them
    return storage._cdata if t.device.type == "meta" else storage.data_ptr()


def _zeros(size: tuple[int, ...], device: str, *, grad: bool = False):
    import torch

    x = torch.zeros(size, device=device, requires_grad=grad)
    return x.clone() if grad else x  # not a leaf: an op may then work on it in place


def _saves(forward, params, x, *, loss: bool) -> _Saves:
    """Run ``forward(x)`` (the cross-entropy of its output with ``loss``) under saved-tensor
    hooks; storages of ``params`` are not counted."""
    import torch
    import torch.nn.functional as F

    exclude = {_storage_key(p) for p in params}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        k = _storage_key(t)
        if k not in exclude:
            seen[k] = t.untyped_storage().nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        try:
            out = forward(x)
        except ValueError as exc:  # torch refuses the training step itself
            if "more than 1 value per channel" not in str(exc):
                raise
            raise AnalysisError(
                f"batch {x.shape[0]}: this design cannot take a training step at this batch "
                "size: its feature map shrinks to 1x1, where batch norm needs more than one "
                "value per channel (use a larger batch)"
            ) from None
        if loss:
            F.cross_entropy(out, torch.zeros(x.shape[0], dtype=torch.long, device=x.device))
    return _Saves(
        sum(seen.values()),
        len(seen),
        _storage_key(x) in seen,
        _storage_key(out) in seen,
        out.untyped_storage().nbytes(),
        tuple(out.shape),
    )


def _segments(design: Design):
    """The network as parts run one after the other: (key, make, whether the loss follows),
    where blocks of one spec share a key (they save the same) and ``make()`` builds the part
    on the meta device as (its parameters, its forward)."""
    import torch
    from torch import nn

    from resnet_explorer.builder.blocks import ResidualBlock
    from resnet_explorer.builder.sequence import install, run
    from resnet_explorer.plan import plan

    layout = plan(design)

    def ops_part(ops):
        owner = nn.Module()
        with torch.device("meta"):
            steps = install(owner, ops)
        return owner.parameters(), lambda x: run(owner, steps, x)

    def block_part(block):
        with torch.device("meta"):
            module = ResidualBlock(block).train()
        return module.parameters(), module

    yield ("stem",), lambda: ops_part(layout.stem), False
    for block in (b for stage in layout.stages for b in stage.blocks):
        yield ("block", block.spec, block.drop_path > 0), lambda b=block: block_part(b), False
    yield ("head",), lambda: ops_part(layout.final + layout.head), True


def _compose(design: Design, batch_size: int) -> SavedTensors:
    """The whole pass's saved bytes from each distinct part's, measured once on the meta
    device: a tensor between two parts that both save it (a block's ReLU output that the next
    block's conv saves) is one storage, counted once."""
    shape = (batch_size, design.in_channels, design.image_size, design.image_size)
    measured: dict[tuple, _Saves] = {}
    total = tensors = 0
    previous: _Saves | None = None
    for key, make, loss in _segments(design):
        if key not in measured:
            params, forward = make()
            x = _zeros(shape, "meta", grad=previous is not None)
            measured[key] = _saves(forward, params, x, loss=loss)
        part = measured[key]
        total, tensors = total + part.bytes, tensors + part.tensors
        if previous is not None and previous.saves_output and part.saves_input:
            total, tensors = total - previous.output_bytes, tensors - 1
        previous, shape = part, part.output_shape
    return SavedTensors(total, tensors, "meta")


def measure_cuda_peak(design: Design, batch_size: int, optimizer: str = "sgd") -> int:
    """Peak bytes allocated on the current CUDA GPU by one fp32 training step (after warm-up):
    model, gradients, optimizer state and the step's tensors, not what was allocated before."""
    import torch

    from resnet_explorer.builder import build_model

    torch.cuda.empty_cache()
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    model = build_model(design, device="cuda").train()
    opt = _optimizer(model, optimizer)
    size = (batch_size, design.in_channels, design.image_size, design.image_size)
    x = torch.randn(size, device="cuda")
    target = torch.zeros(batch_size, dtype=torch.long, device="cuda")
    try:
        for step in range(2):  # the first step creates the optimizer state
            if step == 1:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            loss = torch.nn.functional.cross_entropy(model(x), target)
            if opt is not None:
                opt.zero_grad(set_to_none=True)
            loss.backward()
            if opt is not None:
                opt.step()
        torch.cuda.synchronize()
        return int(torch.cuda.max_memory_allocated()) - before
    finally:
        del model, opt, x, target
        torch.cuda.empty_cache()


def _optimizer(model, name: str):
    import torch

    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=0.0)
    return None


def memory(
    design: Design,
    batch_size: int = 32,
    *,
    optimizer: str = "sgd",
    measure_peak: bool | None = None,
) -> MemoryReport:
    """Memory of ``design`` for a training step at ``batch_size`` (fp32).

    ``optimizer``: ``sgd`` (momentum), ``adam`` or ``none``. ``measure_peak``: run a real training
    step on the CUDA GPU and report its peak; None = when CUDA is present.
    """
    import torch

    check_batch_size(batch_size)
    if optimizer not in OPTIMIZER_STATES:
        raise AnalysisError(
            f"optimizer {optimizer!r} is not known; use one of {', '.join(OPTIMIZER_STATES)}"
        )
    state = _state_bytes(design, optimizer)
    saved = saved_activations(design, batch_size)
    peak = _measured_peak(design, batch_size, optimizer, measure_peak)
    return MemoryReport(
        batch_size=batch_size,
        optimizer=optimizer,
        **state,
        saved_activation_bytes=saved.bytes,
        saved_activation_method=(
            "measured: tensors autograd saves for backward (saved_tensors_hooks), one forward "
            f"pass in training mode on the {saved.device} device, input batch included"
        ),
        saved_tensors=saved.tensors,
        forward_output_bytes=totals(design).outputs * BYTES_FP32 * batch_size,
        training_step_estimate_bytes=sum(state.values()) + saved.bytes,
        measured_peak_bytes=peak,
        measured_peak_device=torch.cuda.get_device_name() if peak is not None else None,
    )


def _state_bytes(design: Design, optimizer: str) -> dict[str, int]:
    """What a training step holds besides its activations (fp32), by `MemoryReport` field: the
    parameters, the buffers, a gradient per parameter and the optimizer's state."""
    params = parameters(design)
    param_bytes = params.total * BYTES_FP32
    return {
        "parameter_bytes": param_bytes,
        "buffer_bytes": _buffer_bytes(design, params.buffers),
        "gradient_bytes": param_bytes,
        "optimizer_state_bytes": OPTIMIZER_STATES[optimizer] * param_bytes,
    }


def _measured_peak(
    design: Design, batch_size: int, optimizer: str, measure_peak: bool | None
) -> int | None:
    """The peak of a real training step on the CUDA GPU (`measure_cuda_peak`) when
    ``measure_peak`` asks for it (None: when CUDA is present), else None."""
    import torch

    cuda = torch.cuda.is_available()
    if measure_peak and not cuda:
        raise AnalysisError("measuring peak memory needs a CUDA GPU; this machine has none")
    if not (measure_peak or (measure_peak is None and cuda)):
        return None
    try:
        return measure_cuda_peak(design, batch_size, optimizer)
    except torch.cuda.OutOfMemoryError as exc:
        if measure_peak:  # asked for: say so; measured by default: the estimate stands
            gpu = torch.cuda.get_device_name()
            raise AnalysisError(
                f"a training step at batch {batch_size:,} does not fit on {gpu} "
                f"({str(exc).splitlines()[0]}); try a smaller batch"
            ) from None
        return None


def _buffer_bytes(design: Design, buffers: int) -> int:
    """Batch-norm running statistics (fp32) and step counters (int64)."""
    if design.norm != "batch":
        return 0
    counters = sum(1 for x in layer_counts(design) if x.kind == "norm")
    return (buffers - counters) * BYTES_FP32 + counters * 8
