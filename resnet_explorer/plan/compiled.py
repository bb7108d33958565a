"""A block's counts as one compiled arithmetic expression per block structure.

The explorer counts tens of thousands of distinct blocks; building each block's ops and costing
them one by one takes ~15 us a block. But a block's counts are plain arithmetic in its numbers
(channels, groups, sizes) once its structure (block type, stride, shortcut, activation order,
norm, ...) is fixed. So, once per structure, this module runs the very same code that builds
and costs a block (`plan.block.block_parts`, `plan.ops.cost`) on *symbols* instead of numbers,
which yields the six count formulas, and compiles them into one Python function, the way
``dataclasses`` and ``namedtuple`` generate their methods. Evaluating it costs ~1 us.

Nothing but the op table and block definition decides the formulas: there is no second formula
to keep in step (the tests compare compiled and op-by-op counts on generated blocks). The
generated source holds only field names, integer literals and ``+ - * //``; no user text ever
reaches it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from resnet_explorer.plan.block import BlockSpec, block_counts
from resnet_explorer.plan.ops import Counts

#: The numbers of a block, which the compiled formulas take as arguments; every other
#: `BlockSpec` field is part of the block's structure (a cache key).
NUMERIC_FIELDS = (
    "in_channels",
    "mid_channels",
    "out_channels",
    "groups",
    "in_size",
    "out_size",
    "dilation",
    "first_dilation",
    "attention_width",
)

_NUMERIC_INDEX = tuple(BlockSpec._fields.index(name) for name in NUMERIC_FIELDS)
_STRUCTURE_INDEX = tuple(i for i in range(len(BlockSpec._fields)) if i not in _NUMERIC_INDEX)
_structure_of = operator.itemgetter(*_STRUCTURE_INDEX)
_numbers_of = operator.itemgetter(*_NUMERIC_INDEX)


class Symbol:
    """An integer known by name: arithmetic on it builds source text (with constant folding).

    Comparing or testing a symbol raises: a block whose *structure* depended on one of its
    numbers could not be compiled, and must not be silently.
    """

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    @staticmethod
    def _text(value: Any) -> str:
        if isinstance(value, Symbol):
            return value.source
        if type(value) is not int:
            raise TypeError(f"cannot compile a count over {value!r}")
        return repr(value)

    def _binary(self, other: Any, symbol: str, reverse: bool = False) -> Symbol:
        left, right = (other, self) if reverse else (self, other)
        return Symbol(f"({self._text(left)} {symbol} {self._text(right)})")

    def __add__(self, other: Any) -> Symbol:
        if not isinstance(other, Symbol) and other == 0:
            return self
        return self._binary(other, "+")

    def __radd__(self, other: Any) -> Symbol:
        return self if other == 0 else self._binary(other, "+", reverse=True)

    def __sub__(self, other: Any) -> Symbol:
        return self._binary(other, "-")

    def __rsub__(self, other: Any) -> Symbol:
        return self._binary(other, "-", reverse=True)

    def __mul__(self, other: Any) -> Symbol | int:
        if not isinstance(other, Symbol) and other in (0, 1):
            return 0 if other == 0 else self
        return self._binary(other, "*")

    def __rmul__(self, other: Any) -> Symbol | int:
        return self.__mul__(other)

    def __floordiv__(self, other: Any) -> Symbol:
        if not isinstance(other, Symbol) and other == 1:
            return self
        return self._binary(other, "//")

    def __rfloordiv__(self, other: Any) -> Symbol:
        return self._binary(other, "//", reverse=True)

    def __neg__(self) -> Symbol:
        return Symbol(f"(-{self.source})")

    def _refuse(self, *_: Any) -> bool:
        raise TypeError(f"a block's structure may not depend on its number {self.source}")

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __bool__ = _refuse  # type: ignore[assignment]
    __hash__ = object.__hash__


@lru_cache(maxsize=1024)
def compiled_counts(structure: tuple[Any, ...]) -> Callable[..., Counts]:
    """The function (numbers of the block -> its `Counts`) for one block structure."""
    spec = list(structure)
    for index, name in zip(_NUMERIC_INDEX, NUMERIC_FIELDS, strict=True):
        spec.insert(index, Symbol(name))
    formulas = [Symbol._text(value) for value in block_counts(BlockSpec(*spec))]
    source = f"def counts({', '.join(NUMERIC_FIELDS)}):\n    return ({', '.join(formulas)},)\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<plan.compiled block counts>", "exec"), {"__builtins__": {}}, namespace)
    return namespace["counts"]


def fast_block_counts(spec: BlockSpec) -> Counts:
    """``block_counts(spec)``, evaluated by the compiled formulas of its structure."""
    return compiled_counts(_structure_of(spec))(*_numbers_of(spec))
