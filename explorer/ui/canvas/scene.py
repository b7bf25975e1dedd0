"""The diagram scene: turns a spec (and its analysis) into items, and keeps them in step.

``sync`` is called after every edit. It builds a small data record per item and
hands it over; items whose record is unchanged do nothing, so toggling one skip on
a 600-block network repaints one arc. Items are keyed by position (stage, block),
created or removed only when the structure changes. The layout is plain
arithmetic along the flow axis (see ``layout.py``) and is redone every sync;
``setPos`` on an unmoved item costs nothing.

Collapse state is view state: kept here by stage index, never in the spec.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QGraphicsScene

from ...spec import BlockKind, NetworkInfo, NetworkSpec, StemKind, fmt_shape
from ...spec.infer import partial_blocks
from ...spec.model import ShortcutKind
from ..selection import Selection
from .. import theme as th
from .drops import DropTargets
from .frames import (DropIndicatorItem, NodeData, NodeItem, SpineItem, StageData, StageFrameItem,
                     SummaryData, SummaryItem, TextBlockItem, text_height)
from .items import BlockData, BlockItem
from .layout import VERTICAL, Geometry, split_into_columns, summary_slot
from .paint import count, text_width
from .texts import fitted_widths, problems_words, skips_words, stage_title, summary_title

COLLAPSE_OVER = 12  # stages with more blocks than this start collapsed

_SHORTCUT_WORDS = {ShortcutKind.AUTO: "auto", ShortcutKind.IDENTITY: "identity",
                   ShortcutKind.PROJECTION: "projection (1x1 conv)", ShortcutKind.ZERO_PAD: "zero-pad",
                   ShortcutKind.NONE: "none"}


class DiagramScene(DropTargets, QGraphicsScene):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.geom = Geometry(th.Theme(), VERTICAL)
        self.setBackgroundBrush(th.BACKGROUND)
        self._collapsed: dict[int, bool] = {}
        self._blocks: dict[tuple[int, int], BlockItem] = {}
        self._frames: list[StageFrameItem] = []
        self._summaries: dict[int, SummaryItem] = {}
        self._nodes: dict[str, NodeItem] = {}
        self.spine = SpineItem()
        self.title = TextBlockItem(banner=False)
        self.banner = TextBlockItem(banner=True)
        self.indicator = DropIndicatorItem()
        for item in (self.spine, self.title, self.banner, self.indicator):
            self.addItem(item)
        self._spec: NetworkSpec | None = None
        self._selection = Selection()
        self._highlighted: list = []
        self.stage_spans: list[tuple[float, float]] = []
        self.block_spans: dict[int, list[tuple[float, float]]] = {}
        self.cross = (0.0, 0.0)
        self.columns = True  # top-to-bottom: stages in columns side by side
        self.column_count: int | None = None  # how many columns (None: one per stage); a fit picks it
        self.stage_offsets: list[QPointF] = []
        self.content_rect = QRectF()
        self.flow_end = 0.0

    # -- view state -------------------------------------------------------------
    def is_collapsed(self, si: int) -> bool:
        n = len(self._spec.stages[si].blocks) if self._spec and si < len(self._spec.stages) else 0
        return self._collapsed.get(si, n > COLLAPSE_OVER)

    def set_collapsed(self, si: int, on: bool) -> None:
        self._collapsed[si] = on

    def collapse_state(self, si: int) -> bool | None:
        """Stage ``si``'s own collapse state, None while it follows the default."""
        return self._collapsed.get(si)

    def restore_collapse_state(self, si: int, state: bool | None) -> None:
        if state is None:
            self._collapsed.pop(si, None)
        else:
            self._collapsed[si] = state

    def clear_collapsed(self) -> None:
        self._collapsed = {}

    def set_all_collapsed(self, on: bool) -> None:
        n = len(self._spec.stages) if self._spec else 0
        self._collapsed = {si: on for si in range(n)}

    def shift_collapse(self, at: int, delta: int) -> None:
        """Keep collapse state with its stage when a stage is inserted (+1) or removed (-1) at ``at``."""
        moved = {}
        for si, on in self._collapsed.items():
            if si < at:
                moved[si] = on
            elif delta < 0 and si == at:
                continue
            else:
                moved[si + delta] = on
        self._collapsed = moved

    def set_geometry(self, geom: Geometry) -> None:
        self.geom = geom

    # -- items by what they show ---------------------------------------------------
    def block_item(self, si: int, bi: int) -> BlockItem | None:
        return self._blocks.get((si, bi))

    def frame_item(self, si: int) -> StageFrameItem | None:
        return self._frames[si] if 0 <= si < len(self._frames) else None

    def summary_item(self, si: int) -> SummaryItem | None:
        return self._summaries.get(si)

    def node_item(self, part: str) -> NodeItem | None:
        return self._nodes.get(part)

    def block_items(self) -> list[BlockItem]:
        return list(self._blocks.values())

    # -- sync -------------------------------------------------------------------------
    def sync(self, spec: NetworkSpec, info: NetworkInfo | None, errors) -> None:
        self._spec = spec
        block_errors: dict[tuple[int, int], str] = {}
        stage_errors: dict[int, str] = {}
        part_errors: dict[str, str] = {}
        for err in errors:
            if err.stage is not None and err.block is not None:
                block_errors.setdefault((err.stage, err.block), str(err))
            elif err.stage is not None:
                stage_errors.setdefault(err.stage, str(err))
            elif err.where:
                part = {"input shape": "input", "stem": "stem", "head": "head"}.get(err.where)
                if part:
                    part_errors.setdefault(part, str(err))
        if self.geom.compact:  # a block with an error shows "⚠ " before its title: room for it too
            self.geom = fitted_widths(self.geom, spec, info, set(block_errors), set(stage_errors))
        g = self.geom
        # While the design is invalid, shapes still come from a walk that steps over the errors.
        binfos = info.blocks if info is not None else partial_blocks(spec)
        infos = {(b.stage, b.index): b for b in binfos}
        keep: set[tuple[int, int]] = set()
        for si, stage in enumerate(spec.stages):
            collapsed = self.is_collapsed(si) or not stage.blocks
            has_error = si in stage_errors or any(k[0] == si for k in block_errors)
            title = stage_title(si, stage, infos if g.compact else None)
            frame_data = StageData(si, title, collapsed and bool(stage.blocks), has_error, g)
            if si < len(self._frames):
                self._frames[si].set_data(frame_data)
            else:
                frame = StageFrameItem(frame_data)
                self.addItem(frame)
                self._frames.append(frame)
            if collapsed:
                data = self._summary_data(si, stage, infos, block_errors, stage_errors)
                item = self._summaries.get(si)
                if item is None:
                    item = self._summaries[si] = SummaryItem(data)
                    self.addItem(item)
                else:
                    item.set_data(data)
                continue
            self._drop_summary(si)
            for bi, block in enumerate(stage.blocks):
                key = (si, bi)
                keep.add(key)
                data = self._block_data(si, bi, block, infos.get(key), block_errors.get(key),
                                        counted=info is not None)
                item = self._blocks.get(key)
                if item is None:
                    item = self._blocks[key] = BlockItem(data)
                    self.addItem(item)
                else:
                    item.set_data(data)
        for key in [k for k in self._blocks if k not in keep]:
            self.removeItem(self._blocks.pop(key))
        while len(self._frames) > len(spec.stages):
            self.removeItem(self._frames.pop())
        for si in [s for s in self._summaries if s >= len(spec.stages)]:
            self._drop_summary(si)
        self._sync_nodes(spec, info, binfos, part_errors)
        self._sync_texts(spec, info, errors)
        self.layout()
        self._apply_selection()

    def _drop_summary(self, si: int) -> None:
        item = self._summaries.pop(si, None)
        if item is not None:
            self.removeItem(item)

    def _block_data(self, si, bi, block, binfo, error, counted: bool) -> BlockData:
        if binfo is not None:
            shortcut = binfo.shortcut
            style = th.shortcut_style(shortcut, binfo.skip)
            return BlockData(si, bi, block.kind, block.width, block.stride, fmt_shape(binfo.in_shape),
                             fmt_shape(binfo.out_shape), style, _SHORTCUT_WORDS[shortcut],
                             binfo.params if counted or not error else None,
                             binfo.macs if counted or not error else None,
                             error, self.geom)
        # No analysis while the design is invalid: draw what the spec declares.
        declared = block.shortcut if isinstance(block.shortcut, ShortcutKind) else ShortcutKind.AUTO
        if block.kind is BlockKind.PLAIN:
            declared = ShortcutKind.NONE
        style = th.shortcut_style(ShortcutKind.IDENTITY if declared is ShortcutKind.AUTO else declared,
                                  bool(block.skip))
        return BlockData(si, bi, block.kind, block.width, block.stride, None, None, style,
                         _SHORTCUT_WORDS[declared], None, None, error, self.geom)

    def _summary_data(self, si, stage, infos, block_errors, stage_errors) -> SummaryData:
        g = self.geom
        n = len(stage.blocks)
        if not n:
            return SummaryData(si, 0, None, "No blocks", "Drop a block kind here",
                               stage_errors.get(si, "a stage needs at least one block"), 1, g)
        kinds = {b.kind for b in stage.blocks}
        kind = kinds.pop() if len(kinds) == 1 else None
        title = summary_title(stage)
        binfos = [infos.get((si, bi)) for bi in range(n)]
        skips = skips_words(stage)
        errors = sum(1 for k in block_errors if k[0] == si) + (1 if si in stage_errors else 0)
        if all(binfos):
            shapes = f"{fmt_shape(binfos[0].in_shape)} → {fmt_shape(binfos[-1].out_shape)}"
            counts = (f"{skips} · {count(sum(b.params for b in binfos))} params · "
                      f"{count(sum(b.macs for b in binfos))} MACs")
        else:
            shapes, counts = "shapes unknown", skips
        if g.compact:  # presenter mode drops the counts: the skips are what a class needs
            counts = skips
        if errors:
            counts = problems_words(errors, skips)
        return SummaryData(si, n, kind, title, shapes, counts, errors, g)

    def _sync_nodes(self, spec: NetworkSpec, info: NetworkInfo | None, binfos, part_errors) -> None:
        g = self.geom
        c, h, w = spec.input_shape if len(spec.input_shape) == 3 else (0, 0, 0)
        wanted = {"input": NodeData("input", f"Input · {fmt_shape(spec.input_shape)}", "",
                                    f"Input images: {c} channels, {h}x{w} pixels", part_errors.get("input"), g)}
        stem = spec.stem
        if stem.kind is not StemKind.NONE:
            imagenet = stem.kind is StemKind.IMAGENET
            conv = "conv7x7/2" if imagenet else "conv3x3"
            steps = (["BN", "ReLU"] if stem.activate else []) + (["maxpool/2"] if imagenet else [])
            shape = info.stem_shape if info else (binfos[0].in_shape if binfos else None)
            out = "→ " + (fmt_shape(shape) if shape else "?")
            sub = " · ".join(steps + [out])
            tip = f"<b>Stem</b>: {conv} to {stem.width} channels" + "".join(f", {s}" for s in steps)
            if info:
                tip += f"<br>out {fmt_shape(info.stem_shape)}<br>parameters {info.stem_params:,}"
            wanted["stem"] = NodeData("stem", f"Stem · {conv} · {stem.width}", sub, tip,
                                      part_errors.get("stem"), g)
        head = spec.head
        pre = "BN · ReLU · " if head.pre_norm else ""
        tip = f"<b>Head</b>: {pre}global average pool, fully connected to {head.num_classes} classes"
        if info:
            tip += f"<br>parameters {info.head_params:,}"
        wanted["head"] = NodeData("head", "Head · avg pool · fc", f"{pre}→ {head.num_classes} classes",
                                  tip, part_errors.get("head"), g)
        for part in [p for p in self._nodes if p not in wanted]:
            self.removeItem(self._nodes.pop(part))
        for part, data in wanted.items():
            item = self._nodes.get(part)
            if item is None:
                item = self._nodes[part] = NodeItem(data)
                self.addItem(item)
            else:
                item.set_data(data)

    def _sync_texts(self, spec: NetworkSpec, info: NetworkInfo | None, errors) -> None:
        g = self.geom
        if info is not None:
            stats = (f"{info.params:,} parameters · {count(info.macs)} MACs · depth {info.depth} · "
                     f"{spec.num_blocks} blocks")
        else:
            stats = f"{spec.num_blocks} blocks · invalid design, counts unavailable"
        self.title.set_data((((spec.name or "network", 22, True), (stats, 14, False)), g))
        if errors:
            more = f" (and {len(errors) - 1} more in the problems list)" if len(errors) > 1 else ""
            lines = (("This design cannot be built:", 14, True), (str(errors[0]) + more, 14, False))
            self.banner.set_data((lines, g))
            self.banner.setVisible(True)
        else:
            self.banner.setVisible(False)

    # -- layout -----------------------------------------------------------------------
    def layout(self) -> None:
        g = self.geom
        spec = self._spec
        low, high = g.frame_cross
        if not self._summaries:  # no stage shows a (wider) summary box: the frames hug the blocks
            low = -g.across(*g.box_size) / 2 - g.frame_pad
        elif not self._blocks and g.vertical:  # every stage folded: no skip arcs to make room for
            high = -low
        titles = [f.title for f in self._frames]
        need = max((text_width(t, g.text(15), True) for t in titles), default=0.0)
        need += g.header + g.s(28)
        if g.vertical:
            high = max(high, low + need)
        self.cross = (low, high)
        segments: list[tuple[QPointF, QPointF, bool]] = []
        u = 0.0
        column_step = (high - low) + g.column_gap
        n_columns = self._column_count_now()
        columns = n_columns > 1
        u_rest = 0.0  # where the second and later columns start
        if columns:  # below the title, which sits over them beside the input and stem
            title_width = (n_columns - 2) * column_step + (high - low)
            u_rest = self._text_height(self.title, title_width) + g.s(14) + g.connector * 0.6
        column_of = self._columns_of_stages(n_columns, u_rest)
        pieces = [self.title] + ([self.banner] if self.banner.isVisible() else [])
        self._place_texts(pieces, low, high, n_columns, column_step, u_rest)
        for part in ("input", "stem"):
            node = self._nodes.get(part)
            if node is None:
                continue
            size = g.input_size if part == "input" else g.node_size
            length, half = g.along(*size), g.across(*size) / 2
            node.set_rect(g.rect(u, u + length, -half, half))
            segments.append((g.pt(u + length, 0), g.pt(u + length + g.connector, 0), True))
            u += length + g.connector
        self.stage_spans, self.block_spans, self.stage_offsets = [], {}, []
        for si, frame in enumerate(self._frames):
            dx = column_of[si] * column_step
            off = QPointF(dx, 0)
            if columns and si > 0 and column_of[si] != column_of[si - 1]:
                # this stage starts a new column: the spine turns the corner
                segments.pop()
                u_end = self.stage_spans[-1][1]
                mid = dx - column_step + high + g.column_gap / 2
                below, above = u_end + g.connector / 2, u_rest - g.connector * 0.6
                corner = [QPointF(dx - column_step, u_end), QPointF(dx - column_step, below),
                          QPointF(mid, below), QPointF(mid, above), QPointF(dx, above), QPointF(dx, u_rest)]
                segments += [(a, b, i == 4) for i, (a, b) in enumerate(zip(corner, corner[1:]))]
                u = u_rest
            self.stage_offsets.append(off)
            u0 = u
            u = u0 + (g.header + g.s(4) if g.vertical else g.frame_pad)
            if not g.vertical:  # the spine runs on through the frame's margin (vertical: header)
                segments.append((g.pt(u0, 0), g.pt(u, 0), False))
            summary = self._summaries.get(si)
            spans = []
            if summary is not None:
                length, half = g.along(*g.summary_size), g.across(*g.summary_size) / 2
                lead = g.lead * 0.75
                summary.set_rect(g.rect(u + lead, u + lead + length, -half, half).translated(off))
                segments.append((g.pt(u, 0) + off, g.pt(u + lead, 0) + off, True))
                segments.append((g.pt(u + lead + length, 0) + off, g.pt(u + summary_slot(g), 0) + off, False))
                u += summary_slot(g)
            else:
                bi = 0
                while (item := self._blocks.get((si, bi))) is not None:
                    at = g.pt(u, 0) + off
                    item.place(at.x(), at.y())
                    spans.append((u, u + item.slot_length()))
                    u += item.slot_length()
                    bi += 1
            if g.vertical:
                u += g.s(10)
            else:
                content_end = u
                u = max(u + g.frame_pad, u0 + need)
                segments.append((g.pt(content_end, 0), g.pt(u, 0), False))
            self.block_spans[si] = spans
            self.stage_spans.append((u0, u))
            frame.set_rect(g.rect(u0, u, low, high).translated(off) if g.vertical
                           else g.rect(u0, u, low, high + g.header))
            segments.append((g.pt(u, 0) + off, g.pt(u + g.connector, 0) + off, True))
            u += g.connector
        head = self._nodes.get("head")
        if head is not None:
            length, half = g.along(*g.node_size), g.across(*g.node_size) / 2
            last = self.stage_offsets[-1] if self.stage_offsets else QPointF()
            head.set_rect(g.rect(u, u + length, -half, half).translated(last))
            u += length
        self.spine.set_segments(segments, g)
        self.flow_end = u
        # Every item lies inside a frame, a node or a text block: no need to ask each item.
        rect = QRectF()
        for item in [*self._frames, *self._nodes.values(), *pieces]:
            rect = rect.united(item.rect())
        self.content_rect = rect
        pad = g.s(16)  # room for a selection outline; a fit to the window leaves no more margin
        self.setSceneRect(rect.adjusted(-pad, -pad, pad, pad))

    def _place_texts(self, pieces: list[TextBlockItem], low: float, high: float, n_columns: int,
                     column_step: float, u_rest: float) -> None:
        """The title (and the banner of an invalid design), stacked upwards so a banner appearing
        moves nothing else.

        Stages side by side: beside the input and stem, over the later columns (which start
        at ``u_rest``, higher than the first one); the diagram is then no taller than its
        columns, which is what limits how large a fit to a wide window can draw it.
        Otherwise above the input (top to bottom) or above the row of stages (left to right).
        """
        g = self.geom
        if n_columns > 1:
            left = column_step + low
            width = (n_columns - 2) * column_step + (high - low)
            # above the spine's turn into the second column (see the corner in ``layout``)
            bottom = u_rest - g.connector * 0.6 - g.s(14)
        elif g.vertical:
            left, width, bottom = low, max(high - low, g.s(540)), -g.s(34)
        else:
            left, width, bottom = 0.0, max(high - low, g.s(700)), -(high + g.header) - g.s(34)
        heights = [self._text_height(p, width) for p in pieces]
        y = bottom - sum(h + g.s(14) for h in heights) + g.s(14)
        for p, h in zip(pieces, heights):
            p.set_rect(QRectF(left, y, width, h))
            y += h + g.s(14)

    def _column_count_now(self) -> int:
        """How many columns the stages take: ``column_count`` with columns on, else 1."""
        n = len(self._frames)
        if not (self.columns and self.geom.vertical and n > 1):
            return 1
        return n if self.column_count is None else max(1, min(self.column_count, n))

    def _columns_of_stages(self, k: int, u_rest: float) -> list[int]:
        """Each stage's column: the stages in order in ``k`` columns, split where the tallest
        column comes out lowest. The first column starts after the input and stem, the
        others at ``u_rest``; the last one also holds the head.
        """
        g, n = self.geom, len(self._frames)
        if k >= n:
            return list(range(n))
        if k == 1:
            return [0] * n
        lengths = [self._stage_length(si) + g.connector for si in range(n)]
        head = g.along(*g.node_size) if "head" in self._nodes else 0.0
        return split_into_columns(lengths, k, first=self._stem_end() - u_rest, last=head)

    def _stage_length(self, si: int) -> float:
        """Flow length of stage ``si``'s frame (top to bottom), as ``layout`` will draw it."""
        g = self.geom
        if si in self._summaries:
            content = summary_slot(g)
        else:
            content, bi = 0.0, 0
            while (item := self._blocks.get((si, bi))) is not None:
                content += item.slot_length()
                bi += 1
        return g.header + g.s(4) + content + g.s(10)

    def _stem_end(self) -> float:
        """Flow position where the first stage starts (after the input and stem nodes)."""
        g = self.geom
        u = 0.0
        for part in ("input", "stem"):
            if part in self._nodes:
                u += g.along(*(g.input_size if part == "input" else g.node_size)) + g.connector
        return u

    def _text_height(self, item: TextBlockItem, width: float) -> float:
        data = item._data
        if data is None:
            return 0.0
        lines, g = data
        inner = width - (2 * g.s(12) if item.banner else 0)
        h = sum(text_height(t, g.text(size), bold, inner) + g.s(2) for t, size, bold in lines)
        return h + (2 * g.s(8) if item.banner else 0)

    # -- selection ---------------------------------------------------------------------
    def set_selection(self, selection: Selection):
        self._selection = selection
        return self._apply_selection()

    def _apply_selection(self):
        for item in self._highlighted:
            item.set_selected(False)
        sel = self._selection
        item = None
        if sel.part == "block" and sel.stage is not None:
            item = self._blocks.get((sel.stage, sel.block)) or self._summaries.get(sel.stage)
        elif sel.part == "stage" and sel.stage is not None:
            item = self.frame_item(sel.stage)
        elif sel.part in ("stem", "head"):
            item = self._nodes.get(sel.part)
        elif sel.part == "network":  # Select All: every stage and part is outlined
            self._highlighted = [*self._frames, *self._nodes.values()]
            for each in self._highlighted:
                each.set_selected(True)
            return None
        self._highlighted = [item] if item is not None else []
        if item is not None:
            item.set_selected(True)
        return item

