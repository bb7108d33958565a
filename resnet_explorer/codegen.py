"""'Copy as code': Python that builds the same network, with this package and, for published
networks, with torchvision or timm."""

from __future__ import annotations

from resnet_explorer import presets
from resnet_explorer.design import Design


def _literal(value: object) -> str:
    return repr(value)


def python_code(design: Design) -> str:
    """Keyword-argument Python for ``design`` (only fields that differ from ``Design()``)."""
    defaults = Design().to_dict()
    data = design.to_dict()
    lines = ["from resnet_explorer import Design, Stage, build_model", "", "design = Design("]
    for key, value in data.items():
        if key == "final_norm":
            if value == (data["activation_order"] == "full_preact"):
                continue  # derived from the activation order
        elif value == defaults.get(key):
            continue
        if key == "stages":
            lines.append("    stages=[")
            for stage in value:
                args = ", ".join(f"{k}={_literal(v)}" for k, v in stage.items())
                lines.append(f"        Stage({args}),")
            lines.append("    ],")
        else:
            lines.append(f"    {key}={_literal(value)},")
    lines += [")", "model = build_model(design)"]
    lines.extend(_library_equivalent(design))
    return "\n".join(lines) + "\n"


def torchvision_args(preset: presets.Preset) -> str:
    """The keyword arguments of the preset's torchvision call, as Python source."""
    return ", ".join(f"{k}={_literal(v)}" for k, v in preset.torchvision_kwargs.items())


def _library_equivalent(design: Design) -> list[str]:
    preset = presets.find(design)
    if preset is None:
        return []
    if preset.torchvision:
        return [
            "",
            "# The same architecture (and state_dict keys) in torchvision:",
            "import torchvision",
            f"reference = torchvision.models.{preset.torchvision}({torchvision_args(preset)})",
        ]
    if preset.timm:
        return [
            "",
            "# The same architecture (and state_dict keys) in timm:",
            "import timm",
            f'reference = timm.create_model("{preset.timm}")',
        ]
    return []
