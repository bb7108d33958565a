"""``profile``: parameters, FLOPs in every convention, activations, memory and measured latency."""

from __future__ import annotations

import argparse

from resnet_explorer.cli.common import CliError, load_design, print_json, schema
from resnet_explorer.units import count, nbytes


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("profile", help="what a design costs: params, FLOPs, memory, latency")
    parser.add_argument("ref", metavar="NAME|FILE.json|v1.TOKEN")
    parser.add_argument(
        "--batch-sizes", default="1,32", help="latency sweep, comma-separated (default 1,32)"
    )
    parser.add_argument(
        "--memory-batch", type=int, default=None,
        help="batch size for training memory (default: the largest of --batch-sizes)",
    )  # fmt: skip
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32")
    parser.add_argument("--channels-last", action="store_true", help="NHWC memory format")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    parser.add_argument(
        "--budget", type=float, default=3.0, help="seconds per latency measurement (default 3)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="CPU threads for timing (default: torch's)"
    )
    parser.add_argument("--no-latency", action="store_true", help="skip the latency sweep")
    parser.add_argument("--no-fvcore", action="store_true", help="skip fvcore's trace")
    parser.add_argument("--depth", type=int, default=2, help="torchinfo summary depth (default 2)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def parse_batch_sizes(text: str) -> tuple[int, ...]:
    """``"1,32"`` -> (1, 32); anything else is a CliError naming the bad part."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise CliError("--batch-sizes: give at least one batch size, e.g. 1,32")
    sizes = []
    for part in parts:
        try:
            sizes.append(int(part))
        except ValueError:
            raise CliError(f"--batch-sizes: {part!r} is not a whole number") from None
    return tuple(sizes)


def run(args: argparse.Namespace) -> int:
    from resnet_explorer.analysis import LatencyOptions, profile

    label, design = load_design(args.ref)
    sizes = parse_batch_sizes(args.batch_sizes)
    options = None
    if not args.no_latency:
        options = LatencyOptions(
            batch_sizes=sizes,
            device=args.device,
            precision=args.precision,
            channels_last=args.channels_last,
            compile=args.compile,
            budget_s=args.budget,
            min_run_time_s=min(1.0, args.budget / 2),
            num_threads=args.threads,
        )
    elif args.device == "cuda" or args.precision != "fp32":
        from resnet_explorer.analysis.devices import check_precision, resolve_device

        check_precision(args.precision, resolve_device(args.device))
    batch = args.memory_batch if args.memory_batch is not None else max(sizes)
    result = profile(
        design,
        batch_size=batch,
        latency=options,
        fvcore=not args.no_fvcore,
        summary_depth=args.depth,
    )
    doc = result.to_dict()
    if args.json:
        print_json({"schema": schema("profile"), "name": label, **doc})
        return 0
    _print_text(label, result)
    return 0


def _print_text(label: str, p) -> None:
    params, fl, mem = p.params, p.flops, p.memory
    print(f"{label}  (hash {p.design.hash})")
    print(
        f"parameters  {params.total:,}  (conv {params.conv:,}, norm {params.norm:,}, "
        f"linear {params.linear:,}; trainable {params.trainable:,})"
    )
    print(f"MACs        {fl.macs:,}  ({fl.gmacs:.3f} GMACs; torchvision 'GFLOPS')")
    print(f"fvcore      {fl.fvcore:,}  (analytic; adds norm and pooling)")
    if fl.measured is not None:
        mark = "equal" if fl.measured.matches_analytic else "DIFFERENT"
        skipped = ", ".join(f"{k} x{v}" for k, v in fl.measured.skipped_ops.items()) or "none"
        print(f"  fvcore trace: {fl.measured.total:,} ({mark}); ops it skipped: {skipped}")
    print(f"FLOPs       {fl.flops:,}  ({fl.gflops:.3f} GFLOPs = 2 x MACs)")
    print(f"activations {p.activations.total:,} per image (fvcore's count)")
    print(f"{'stage':8} {'params':>12} {'MACs':>10}")
    for ps, fs in zip(params.by_stage, fl.by_stage, strict=True):
        print(f"{ps.name:8} {ps.total:>12,} {count(fs.macs):>10}")
    print(
        f"memory at batch {mem.batch_size}: parameters {nbytes(mem.parameter_bytes)}, "
        f"saved activations {nbytes(mem.saved_activation_bytes)} (measured), training step "
        f"~{nbytes(mem.training_step_estimate_bytes)} (estimate, SGD momentum)"
    )
    if mem.measured_peak_bytes is not None:
        print(
            f"  measured peak on {mem.measured_peak_device}: {nbytes(mem.measured_peak_bytes)}"
        )
    lat = p.latency
    if lat is None:
        print(f"device: {p.device['name']} (latency not measured)")
        return
    print(
        f"latency on {lat.device_name} ({lat.device}, {lat.precision}, {lat.num_threads} "
        f"threads, torch {lat.torch_version})"
    )
    print(f"{'mode':10} {'batch':>6} {'median':>10} {'IQR':>9} {'img/s':>9} {'TFLOP/s':>8}")
    for r in lat.rows:
        if r.status != "ok":
            print(f"{r.mode:10} {r.batch_size:>6}  {r.status}: {r.message}")
            continue
        print(
            f"{r.mode:10} {r.batch_size:>6} {r.median_s * 1e3:>8.2f}ms {r.iqr_s * 1e3:>7.2f}ms "
            f"{r.images_per_s:>9.1f} {r.achieved_tflops:>8.3f}"
            + (f"  {r.fraction_of_peak:.1%} of peak" if r.fraction_of_peak else "")
        )
    if lat.cut_short:
        print("the sweep was cut short (see above)")
