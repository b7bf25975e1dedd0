"""The versioned JSON network file.

Reading is strict and bounded: the file's size, its encoding, every field's type and
range, and the total number of blocks are checked before anything is built, so a
broken or hostile file ends in one ``SpecError`` that names the field, never in a
traceback, a hang or a huge allocation. Writing is atomic (a temporary file in the
same folder, then a rename), so a crash mid-save never leaves half a file.

Runs of identical consecutive blocks are stored once with a ``repeat`` count, which
keeps ResNet-1202 readable; loading expands them.
"""
from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import fields
from enum import Enum
from pathlib import Path

from .atomic import atomic_write_text
from .errors import SpecError
from .infer import MAX_BLOCKS, MAX_CLASSES, MAX_INPUT_CHANNELS, MAX_INPUT_SIDE, MAX_STRIDE, MAX_WIDTH, analyse
from .model import (BlockKind, BlockSpec, HeadSpec, InitKind, InitSpec, NetworkSpec, Norm, PadPlacement,
                    ShortcutKind, StageSpec, StemKind, StemSpec, StridePlacement)

FORMAT_ID = "resnet-explorer/network"
# Version 2 added a block's "pad_placement" (where a zero-pad shortcut puts its new channels).
# A file is written as version 1, readable by older apps, unless it uses something newer.
FORMAT_VERSION = 2
MAX_FILE_BYTES = 8 * 1024 * 1024
SUFFIX = ".json"


# -- writing --------------------------------------------------------------------

# Fields newer than version 1, written only when they differ from their default.
_V2_BLOCK_DEFAULTS = {"pad_placement": PadPlacement.END}


def _block_dict(block: BlockSpec) -> dict:
    out = {}
    for f in fields(BlockSpec):
        value = getattr(block, f.name)
        if f.name in _V2_BLOCK_DEFAULTS and value == _V2_BLOCK_DEFAULTS[f.name]:
            continue
        out[f.name] = value.value if isinstance(value, Enum) else value
    return out


def file_version(spec: NetworkSpec) -> int:
    """The oldest format version that holds ``spec``: 2 only when a block uses a version-2 field."""
    newer = any(getattr(b, name) != default for _, _, b in spec.iter_blocks()
                for name, default in _V2_BLOCK_DEFAULTS.items())
    return 2 if newer else 1


def to_dict(spec: NetworkSpec) -> dict:
    stages = []
    for stage in spec.stages:
        runs: list[dict] = []
        previous = None
        for block in stage.blocks:
            if block == previous:
                runs[-1]["repeat"] = runs[-1].get("repeat", 1) + 1
            else:
                runs.append(_block_dict(block))
            previous = block
        stages.append({"name": stage.name, "blocks": runs})
    return {
        "format": FORMAT_ID,
        "version": file_version(spec),
        "name": spec.name,
        "input_shape": list(spec.input_shape),
        "stem": {"kind": spec.stem.kind.value, "width": spec.stem.width, "activate": spec.stem.activate},
        "stages": stages,
        "head": {"num_classes": spec.head.num_classes, "pre_norm": spec.head.pre_norm},
        "norm": spec.norm.value,
        "init": {"kind": spec.init.kind.value, "std": spec.init.std},
        "zero_init_residual": spec.zero_init_residual,
    }


def dumps(spec: NetworkSpec) -> str:
    return json.dumps(to_dict(spec), indent=2) + "\n"


def save(spec: NetworkSpec, path: str | os.PathLike) -> None:
    """Write ``spec`` to ``path`` atomically; ``WriteError`` (an ``OSError``) says why not."""
    atomic_write_text(Path(path), dumps(spec))


# -- reading --------------------------------------------------------------------

class _Reader:
    """Typed access to a decoded JSON object, with the field path in every error."""

    def __init__(self, data, path: str):
        if not isinstance(data, dict):
            raise SpecError(f"{path or 'the file'} must be a JSON object, not {_type_name(data)}", where="file")
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, default=...):
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise SpecError(f"missing field '{self._name(key)}'", where="file")
            return default
        return self.data[key]

    def int(self, key: str, lo: int, hi: int, default=...) -> int:
        value = self.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            shown = _short(value) if isinstance(value, float) else _type_name(value)
            raise SpecError(f"'{self._name(key)}' must be a whole number, not {shown}", where="file")
        if not lo <= value <= hi:
            raise SpecError(f"'{self._name(key)}' is {_short(value)}; it must be between {lo} and {hi}",
                            where="file")
        return value

    def bool(self, key: str, default=...) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise SpecError(f"'{self._name(key)}' must be true or false, not {_type_name(value)}", where="file")
        return value

    def optional_bool(self, key: str) -> bool | None:
        value = self.get(key, None)
        if value is not None and not isinstance(value, bool):
            raise SpecError(f"'{self._name(key)}' must be true, false or null, not {_type_name(value)}",
                            where="file")
        return value

    def str(self, key: str, default=..., max_len: int = 200) -> str:
        value = self.get(key, default)
        if not isinstance(value, str):
            raise SpecError(f"'{self._name(key)}' must be text, not {_type_name(value)}", where="file")
        if len(value) > max_len:
            raise SpecError(f"'{self._name(key)}' is longer than {max_len} characters", where="file")
        bad = next((ch for ch in value if unprintable(ch)), None)
        if bad is not None:
            raise SpecError(f"'{self._name(key)}' holds the character {ascii(bad)}, which names may not "
                            f"contain (control characters and unpaired surrogates)", where="file")
        return value

    def float(self, key: str, default=...) -> float:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise SpecError(f"'{self._name(key)}' must be a finite number, not {_short(value)}", where="file")
        return float(value)

    def enum(self, key: str, enum_type, default=...):
        value = self.get(key, default)
        if isinstance(value, enum_type):
            return value
        try:
            return enum_type(value)
        except (ValueError, TypeError):
            choices = ", ".join(m.value for m in enum_type)
            raise SpecError(f"'{self._name(key)}' is {_short(value)}; expected one of: {choices}",
                            where="file") from None

    def list(self, key: str, max_len: int) -> list:
        value = self.get(key)
        if not isinstance(value, list):
            raise SpecError(f"'{self._name(key)}' must be a list, not {_type_name(value)}", where="file")
        if len(value) > max_len:
            raise SpecError(f"'{self._name(key)}' has {len(value):,} entries; at most {max_len:,} are allowed",
                            where="file")
        return value

    def child(self, key: str, default=...) -> "_Reader":
        value = self.get(key, default)
        return _Reader({} if value is None else value, self._name(key))

    def finish(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            raise SpecError(f"unknown field '{self._name(extra[0])}'", where="file")


def unprintable(ch: str) -> bool:
    """Characters a name may not hold: control characters (escape sequences) and unpaired surrogates."""
    code = ord(ch)
    return code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise SpecError(f"the key {_short(key)} appears twice in one object; which one is meant is "
                            f"unclear", where="file")
        seen[key] = value
    return seen


def _type_name(value) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def from_dict(data) -> NetworkSpec:
    """Build a spec from decoded JSON, checking every field (no design validation)."""
    top = _Reader(data, "")
    fmt = top.get("format", FORMAT_ID)
    if fmt != FORMAT_ID:
        raise SpecError(f"this is not a ResNet Explorer network file (format is {_short(fmt)})", where="file")
    version = top.int("version", 1, 10**6)
    if version > FORMAT_VERSION:
        raise SpecError(f"the file is format version {version}, newer than this app reads "
                        f"({FORMAT_VERSION}); update ResNet Explorer", where="file")
    name = top.str("name", "network")
    shape = top.list("input_shape", 3)
    if len(shape) != 3:
        raise SpecError("'input_shape' must list three numbers: channels, height, width", where="file")
    limits = (MAX_INPUT_CHANNELS, MAX_INPUT_SIDE, MAX_INPUT_SIDE)
    names = ("channels", "height", "width")
    shape_reader = _Reader(dict(zip(names, shape)), "input_shape")
    input_shape = tuple(shape_reader.int(n, 1, hi) for n, hi in zip(names, limits))

    st = top.child("stem", {})
    stem = StemSpec(kind=st.enum("kind", StemKind, StemKind.CIFAR), width=st.int("width", 1, MAX_WIDTH, 16),
                    activate=st.bool("activate", True))
    st.finish()

    stages = []
    total = 0
    for si, raw_stage in enumerate(top.list("stages", MAX_BLOCKS)):
        sr = _Reader(raw_stage, f"stages[{si}]")
        blocks: list[BlockSpec] = []
        for bi, raw_block in enumerate(sr.list("blocks", MAX_BLOCKS)):
            br = _Reader(raw_block, f"stages[{si}].blocks[{bi}]")
            repeat = br.int("repeat", 1, MAX_BLOCKS, 1)
            total += repeat
            if total > MAX_BLOCKS:
                raise SpecError(f"the file asks for more than {MAX_BLOCKS} blocks", where="file")
            block = BlockSpec(
                kind=br.enum("kind", BlockKind, BlockKind.BASIC),
                width=br.int("width", 1, MAX_WIDTH),
                stride=br.int("stride", 1, MAX_STRIDE, 1),
                shortcut=br.enum("shortcut", ShortcutKind, ShortcutKind.AUTO),
                skip=br.bool("skip", True),
                stride_placement=br.enum("stride_placement", StridePlacement, StridePlacement.CONV3X3),
                zero_init=br.optional_bool("zero_init"),
                pad_placement=br.enum("pad_placement", PadPlacement, PadPlacement.END),
            )
            br.finish()
            blocks.extend([block] * repeat)
        stages.append(StageSpec(blocks=tuple(blocks), name=sr.str("name", "")))
        sr.finish()

    hd = top.child("head", {})
    head = HeadSpec(num_classes=hd.int("num_classes", 1, MAX_CLASSES, 10), pre_norm=hd.bool("pre_norm", False))
    hd.finish()
    it = top.child("init", {})
    init = InitSpec(kind=it.enum("kind", InitKind, InitKind.HE), std=it.float("std", 0.01))
    it.finish()
    spec = NetworkSpec(name=name, input_shape=input_shape, stem=stem, stages=tuple(stages), head=head,
                       norm=top.enum("norm", Norm, Norm.BATCH), init=init,
                       zero_init_residual=top.bool("zero_init_residual", False))
    top.finish()
    return spec


def loads(text: str | bytes, validate: bool = True) -> NetworkSpec:
    """Parse a network file's contents; ``validate`` also checks the design (shapes)."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_FILE_BYTES:
            raise SpecError(f"the file is {len(text):,} bytes; network files are at most "
                            f"{MAX_FILE_BYTES:,}", where="file")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise SpecError(f"the file is not UTF-8 text (bad byte at position {err.start})", where="file") from None
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"the file is longer than {MAX_FILE_BYTES:,} characters", where="file")
    if not text.strip():
        raise SpecError("the file is empty", where="file")
    try:
        data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as err:
        raise SpecError(f"not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}"
                        + (" (the file may be truncated)" if err.pos >= len(text.rstrip()) else ""),
                        where="file") from None
    except SpecError:
        raise
    except RecursionError:
        raise SpecError("not a network file: the JSON is nested too deeply", where="file") from None
    except ValueError:  # Python refuses integers with thousands of digits
        raise SpecError("not a usable network file: it holds a number with thousands of digits",
                        where="file") from None
    spec = from_dict(data)
    if validate:
        analyse(spec)
    return spec


def _reject_constant(name: str):
    raise SpecError(f"the file contains {name}, which is not a valid number here", where="file")


def load(path: str | os.PathLike, validate: bool = True) -> NetworkSpec:
    """Read a network file; every problem becomes a ``SpecError`` that names the file."""
    path = Path(path)
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
            raise SpecError(f"{path} is not a regular file", where="file")
        size = st.st_size
        if size > MAX_FILE_BYTES:
            raise SpecError(f"{path.name} is {size:,} bytes; network files are at most {MAX_FILE_BYTES:,}",
                            where="file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(f"no such file: {path}", where="file") from None
    except IsADirectoryError:
        raise SpecError(f"{path} is a folder, not a network file", where="file") from None
    except OSError as err:
        raise SpecError(f"cannot read {path}: {err.strerror or err}", where="file") from None
    try:
        return loads(raw, validate=validate)
    except SpecError as err:
        located = SpecError(f"{path.name}: {err}")
        located.stage, located.block, located.where = err.stage, err.block, err.where
        raise located from None
