"""The one error type for anything wrong with a network design or file."""
from __future__ import annotations


class SpecError(ValueError):
    """A design or file problem, located where possible.

    ``stage`` and ``block`` are 0-based indices; the message shows them 1-based,
    as a person counts ("stage 2, block 1"). ``where`` names any other part
    ("input shape", "stem", "head", "file").
    """

    def __init__(self, message: str, *, stage: int | None = None, block: int | None = None,
                 where: str | None = None):
        self.detail = message
        self.stage = stage
        self.block = block
        self.where = where
        super().__init__(self._render())

    @property
    def location(self) -> str:
        parts = []
        if self.stage is not None:
            parts.append(f"stage {self.stage + 1}")
        if self.block is not None:
            parts.append(f"block {self.block + 1}")
        if not parts and self.where and self.where != "file":
            parts.append(self.where)
        return ", ".join(parts)

    def _render(self) -> str:
        loc = self.location
        return f"{loc}: {self.detail}" if loc else self.detail


class SpecWarning:
    """Something legal but probably unintended (mixing pre- and post-activation, say)."""

    def __init__(self, message: str, *, stage: int | None = None, block: int | None = None):
        self.detail = message
        self.stage = stage
        self.block = block

    def __str__(self) -> str:
        loc = []
        if self.stage is not None:
            loc.append(f"stage {self.stage + 1}")
        if self.block is not None:
            loc.append(f"block {self.block + 1}")
        return (", ".join(loc) + ": " if loc else "") + self.detail

    def __repr__(self) -> str:
        return f"SpecWarning({str(self)!r})"
