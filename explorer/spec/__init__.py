"""The network as data: model, validation, presets and the file format (no torch, no Qt)."""
from .errors import SpecError, SpecWarning
from .infer import BlockInfo, NetworkInfo, analyse, fmt_shape, problems, try_analyse
from .model import (BlockKind, BlockSpec, HeadSpec, InitKind, InitSpec, NetworkSpec, Norm, PadPlacement,
                    ShortcutKind, StageSpec, StemKind, StemSpec, StridePlacement, replace_shortcuts, uniform_stage,
                    with_pad_placement)
from .presets import DEFAULT_PRESET, PRESETS, preset, preset_names

__all__ = [
    "SpecError", "SpecWarning", "BlockInfo", "NetworkInfo", "analyse", "fmt_shape", "problems",
    "try_analyse", "BlockKind", "BlockSpec", "HeadSpec", "InitKind", "InitSpec", "NetworkSpec",
    "Norm", "PadPlacement", "ShortcutKind", "StageSpec", "StemKind", "StemSpec", "StridePlacement",
    "uniform_stage", "replace_shortcuts", "with_pad_placement", "DEFAULT_PRESET", "PRESETS", "preset", "preset_names",
]
from .fileformat import dumps, load, loads, save  # noqa: E402

__all__ += ["dumps", "load", "loads", "save"]
