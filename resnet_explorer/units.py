"""One place for units, so the app, the CLI and reports say the same thing the same way."""

from __future__ import annotations


def params(n: float) -> str:
    """Parameters in millions: 25557032 -> '25.56 M'."""
    return f"{n / 1e6:,.2f} M" if abs(n) >= 1e4 else f"{n:,.0f}"


def gmacs(n: float) -> str:
    """Multiply-accumulates in billions: 4089184256 -> '4.089 GMACs'."""
    return f"{n / 1e9:,.3f} GMACs"


def gflops(n: float) -> str:
    return f"{n / 1e9:,.3f} GFLOPs"


def count(n: float) -> str:
    """A large count with a suffix: 11114984 -> '11.11 M'."""
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= factor:
            return f"{n / factor:,.2f} {suffix}"
    return f"{n:,.0f}"


def whole(n: float) -> str:
    """A whole number with thousands separators: 1234567 -> '1,234,567'."""
    return f"{n:,.0f}"


def nbytes(n: float) -> str:
    """Bytes in binary units: 102236128 -> '97.5 MiB'."""
    for factor, suffix in ((1024**4, "TiB"), (1024**3, "GiB"), (1024**2, "MiB"), (1024, "KiB")):
        if abs(n) >= factor:
            return f"{n / factor:,.1f} {suffix}"
    return f"{n:,.0f} B"


def ms(seconds: float) -> str:
    """Seconds as milliseconds: 0.0123 -> '12.30 ms'."""
    return f"{seconds * 1e3:,.2f} ms"


def signed(n: float, fmt=count) -> str:
    """A delta with its sign: +1.2 M, -300."""
    return ("+" if n > 0 else "-" if n < 0 else "±") + fmt(abs(n))


def when(stamp: str | None, *, seconds: bool = False) -> str:
    """An ISO 8601 time as people read it: '2026-12-02T00:12:30Z' -> '2026-12-02 00:12 UTC'."""
    if not stamp:
        return ""
    text = stamp.replace("T", " ").removesuffix("Z").split("+")[0].split(".")[0]
    return f"{text[: 19 if seconds else 16]} UTC"
