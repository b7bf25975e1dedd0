"""What the user has selected in the network: nothing, the stem, a stage, a block or the head."""
from __future__ import annotations

from dataclasses import dataclass

from ..spec import NetworkSpec


@dataclass(frozen=True)
class Selection:
    part: str | None = None  # None, "stem", "stage", "block", "head" or "network" (Select All)
    stage: int | None = None  # 0-based
    block: int | None = None  # 0-based, within the stage

    @classmethod
    def of_block(cls, stage: int, block: int) -> "Selection":
        return cls("block", stage, block)

    @classmethod
    def of_stage(cls, stage: int) -> "Selection":
        return cls("stage", stage, None)

    def clamped(self, spec: NetworkSpec) -> "Selection":
        """The same selection if it still exists in ``spec``, else the nearest thing that does."""
        if self.part in ("stage", "block"):
            if self.stage is None or not 0 <= self.stage < len(spec.stages):
                return Selection()
            if self.part == "block":
                n = len(spec.stages[self.stage].blocks)
                if n == 0:
                    return Selection.of_stage(self.stage)
                if self.block is None or not 0 <= self.block < n:
                    return Selection.of_block(self.stage, n - 1)
        return self
