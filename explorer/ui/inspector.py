"""The inspector: edit whatever is selected, see its shapes and counts, read what it is.

Every change is one ``document.edit``. A run of spin-box arrow clicks on one field
merges into one undo step (``merge_key``); a typed value committed with Enter or by
leaving the box ends the run, so the next change is a step of its own. When the spec
changes from elsewhere (undo, the canvas) the editors are refreshed with their signals
blocked, so a refresh never turns into an edit.
"""
from __future__ import annotations

import html
from contextlib import contextmanager

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QAbstractSpinBox, QCheckBox, QComboBox, QFrame, QLabel, QScrollArea,
                               QVBoxLayout, QWidget)

from ..spec import BlockKind, InitKind, NetworkSpec, ShortcutKind, StemKind, edits, fmt_shape
from ..spec.fileformat import unprintable
from . import explanations as ex
from .formatting import macs_text, params_text
from .inspector_forms import BlockPage, HeadPage, NetworkPage, StagePage, StemPage
from .problems import location_text
from .selection import Selection
from .theme import COLOUR


class Inspector(QWidget):
    """Editors for ``document.selection`` (the whole network when nothing is selected)."""

    def __init__(self, document, parent: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self._session = 0  # bumped to end a run of merged edits
        self._editing = False  # True while our own edit is being applied
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)
        self._style_title()

        self.network_page, self.stem_page = NetworkPage(), StemPage()
        self.stage_page, self.block_page, self.head_page = StagePage(), BlockPage(), HeadPage()
        self.pages = PageSwitcher()
        self._page_of = {None: self.network_page, "stem": self.stem_page, "stage": self.stage_page,
                         "block": self.block_page, "head": self.head_page}
        for page in self._page_of.values():
            self.pages.addWidget(page)

        self.details = _rich_label("inspectorDetails")
        self.explanation = _rich_label("inspectorExplanation")
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.pages)
        layout.addWidget(self.details)
        layout.addWidget(line)
        layout.addWidget(self.explanation)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self._editors = [w for page in self._page_of.values()
                         for w in page.findChildren(QWidget)
                         if isinstance(w, (QAbstractSpinBox, QComboBox, QCheckBox))]
        self._editors.append(self.network_page.name)
        self._connect()
        document.specChanged.connect(self._on_spec_changed)
        document.selectionChanged.connect(self._on_selection_changed)
        self.refresh()

    def _style_title(self) -> None:
        # An explicit font stops inheriting, so derive it again whenever ours changes (presenter mode).
        font = QFont(self.font())
        font.setBold(True)
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)

    def changeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._style_title()

    # -- wiring ---------------------------------------------------------------
    def _connect(self) -> None:
        b, s, st, h, n = self.block_page, self.stage_page, self.stem_page, self.head_page, self.network_page
        b.kind.currentIndexChanged.connect(lambda: self._set_block_kind(b.kind.value()))
        b.width_box.valueChanged.connect(lambda v: self._set_block("width", v, "width"))
        b.stride.valueChanged.connect(lambda v: self._set_block("stride", v, "stride"))
        b.shortcut.currentIndexChanged.connect(lambda: self._set_block("shortcut", b.shortcut.value()))
        b.skip.toggled.connect(lambda on: self._set_block("skip", on))
        b.placement.currentIndexChanged.connect(
            lambda: self._set_block("stride_placement", b.placement.value()))
        b.pad_placement.currentIndexChanged.connect(
            lambda: self._set_block("pad_placement", b.pad_placement.value()))
        b.zero_init.currentIndexChanged.connect(lambda: self._set_block("zero_init", b.zero_init.value()))
        s.count.valueChanged.connect(self._set_stage_count)
        s.width_box.valueChanged.connect(self._set_stage_width)
        s.stride.valueChanged.connect(self._set_stage_stride)
        st.kind.currentIndexChanged.connect(lambda: self._set_stem("kind", st.kind.value()))
        st.width_box.valueChanged.connect(lambda v: self._set_stem("width", v, "width"))
        st.activate.toggled.connect(lambda on: self._set_stem("activate", on))
        h.classes.valueChanged.connect(lambda v: self._set_head("num_classes", v, "classes"))
        h.pre_norm.toggled.connect(lambda on: self._set_head("pre_norm", on))
        n.name.editingFinished.connect(self._set_name)
        for box in (n.input_channels, n.input_height, n.input_width):
            box.valueChanged.connect(self._set_input_shape)
        n.norm.currentIndexChanged.connect(lambda: self._set_network("norm", n.norm.value()))
        n.init.currentIndexChanged.connect(self._set_init_kind)
        n.std.valueChanged.connect(self._set_init_std)
        n.zero_init.toggled.connect(lambda on: self._set_network("zero_init_residual", on))
        for box in self.findChildren(QAbstractSpinBox):
            box.editingFinished.connect(self._end_run)

    @Slot()
    def _end_run(self) -> None:
        self._session += 1

    # -- applying edits --------------------------------------------------------
    def _edit(self, spec: NetworkSpec, text: str, field: str | None = None) -> None:
        key = None
        if field is not None:
            sel = self.document.selection
            key = f"inspector:{field}:{sel.part}:{sel.stage}:{sel.block}:{self._session}"
        self._editing = True
        try:
            self.document.edit(spec, text, merge_key=key)
        finally:
            self._editing = False

    def _selected_block(self):
        sel = self.document.selection
        return sel.stage, sel.block

    def _set_block(self, name: str, value, merge: str | None = None) -> None:
        if self.document.selection.part != "block":
            return
        self._edit(*edits.set_block_field(self.document.spec, *self._selected_block(), name, value), merge)

    def _set_block_kind(self, kind: BlockKind) -> None:
        if self.document.selection.part != "block" or kind is None:
            return
        self._edit(*edits.set_block_kind(self.document.spec, *self._selected_block(), kind))

    def _set_stage_count(self, count: int) -> None:
        if self.document.selection.part != "stage":
            return
        self._edit(*edits.set_stage_count(self.document.spec, self.document.selection.stage, count), "count")

    def _set_stage_width(self, width: int) -> None:
        if self.document.selection.part != "stage":
            return
        self._edit(*edits.set_stage_width(self.document.spec, self.document.selection.stage, width), "width")

    def _set_stage_stride(self, stride: int) -> None:
        if self.document.selection.part != "stage":
            return
        self._edit(*edits.set_stage_stride(self.document.spec, self.document.selection.stage, stride), "stride")

    def _set_stem(self, name: str, value, merge: str | None = None) -> None:
        self._edit(*edits.set_stem_field(self.document.spec, name, value), merge)

    def _set_head(self, name: str, value, merge: str | None = None) -> None:
        self._edit(*edits.set_head_field(self.document.spec, name, value), merge)

    def _set_network(self, name: str, value, merge: str | None = None) -> None:
        self._edit(*edits.set_network_field(self.document.spec, name, value), merge)

    def _set_name(self) -> None:
        # control characters (a pasted tab or escape) and unpaired surrogates are dropped: the
        # network file reader refuses them, and a saved file must always open again
        text = "".join(ch for ch in self.network_page.name.text() if not unprintable(ch)).strip()
        if not text:  # an empty name is not a name: show the current one again
            self.refresh()
            return
        self._set_network("name", text)

    def _set_input_shape(self) -> None:
        n = self.network_page
        shape = (n.input_channels.value(), n.input_height.value(), n.input_width.value())
        self._set_network("input_shape", shape, "input")

    def _set_init_kind(self) -> None:
        self._edit(*edits.set_init(self.document.spec, kind=self.network_page.init.value()))

    def _set_init_std(self, std: float) -> None:
        self._edit(*edits.set_init(self.document.spec, std=std), "std")

    # -- refreshing -----------------------------------------------------------
    @Slot(object, object)
    def _on_spec_changed(self, new, old) -> None:
        if not self._editing:
            self._session += 1  # undo or a canvas edit: never merge across it
        self.refresh()

    @Slot(object)
    def _on_selection_changed(self, selection: Selection) -> None:
        self._session += 1
        self.refresh()

    @contextmanager
    def _quiet(self):
        blocked = [(w, w.blockSignals(True)) for w in self._editors]
        try:
            yield
        finally:
            for w, was in blocked:
                w.blockSignals(was)

    def refresh(self) -> None:
        """Show the current selection's values, shapes, counts and explanation."""
        sel = self.document.selection
        page = self._page_of.get(sel.part, self.network_page)
        self.pages.setCurrentWidget(page)
        with self._quiet():
            fill = {None: self._fill_network, "stem": self._fill_stem, "stage": self._fill_stage,
                    "block": self._fill_block, "head": self._fill_head,
                    "network": self._fill_network}[sel.part]
            fill(sel)

    def _fill_block(self, sel: Selection) -> None:
        spec, info = self.document.spec, self.document.info
        block = spec.block(sel.stage, sel.block)
        p = self.block_page
        self.title.setText(f"Stage {sel.stage + 1}, block {sel.block + 1}: {block.kind.label}")
        p.kind.set_value(block.kind)
        p.width_box.setValue(block.width)
        p.stride.setValue(block.stride)
        p.shortcut.set_value(block.shortcut)
        p.shortcut.setEnabled(block.kind is not BlockKind.PLAIN)
        p.skip.setChecked(block.skip)
        p.skip.setEnabled(block.kind is not BlockKind.PLAIN and block.shortcut is not ShortcutKind.NONE)
        p.placement.set_value(block.stride_placement)
        p.show_placement(block.kind.bottleneck)
        p.pad_placement.set_value(block.pad_placement)
        p.zero_init.set_value(block.zero_init)
        rows, shortcut = [], block.shortcut
        if info is not None:
            position = sum(len(s.blocks) for s in spec.stages[:sel.stage]) + sel.block
            b = info.blocks[position]
            shortcut = b.shortcut
            state = "on" if b.skip_active else ("off" if b.has_shortcut else "none")
            rows = [("Input", fmt_shape(b.in_shape)), ("Output", fmt_shape(b.out_shape)),
                    ("Shortcut", f"{b.shortcut.value.replace('_', '-')} ({state})"),
                    ("Parameters", params_text(b.params)), ("MACs", macs_text(b.macs)),
                    ("Position", f"block {b.position + 1} of {len(info.blocks)}")]
        self._show_details(rows, lambda e: e.stage == sel.stage and e.block == sel.block)
        # only a zero-pad shortcut that really adds channels has zeros to place (one that keeps
        # the shape is an identity)
        pads = shortcut is ShortcutKind.ZERO_PAD and block.kind is not BlockKind.PLAIN
        p.show_pad_placement(pads)
        parts = [("What it is", ex.block_text(block.kind))]
        if block.kind is not BlockKind.PLAIN:
            parts.append((f"Shortcut: {shortcut.value.replace('_', '-')}", ex.shortcut_text(shortcut)))
        if block.kind.bottleneck:
            parts.append(("Stride placement", ex.STRIDE_PLACEMENTS[block.stride_placement]))
        if pads:
            parts.append(("Zero channels", ex.PAD_PLACEMENTS[block.pad_placement]))
        self._show_explanation(parts)

    def _fill_stage(self, sel: Selection) -> None:
        spec, info = self.document.spec, self.document.info
        stage = spec.stages[sel.stage]
        p = self.stage_page
        name = f" ({stage.name})" if stage.name else ""
        self.title.setText(f"Stage {sel.stage + 1}{name}")
        p.count.setValue(len(stage.blocks))
        p.width_box.setValue(stage.width or 1)
        p.stride.setValue(stage.stride)
        p.width_box.setEnabled(bool(stage.blocks))
        p.stride.setEnabled(bool(stage.blocks))
        rows = []
        if info is not None:
            mine = [b for b in info.blocks if b.stage == sel.stage]
            if mine:
                rows = [("Input", fmt_shape(mine[0].in_shape)), ("Output", fmt_shape(mine[-1].out_shape)),
                        ("Blocks", str(len(mine))),
                        ("Parameters", params_text(sum(b.params for b in mine))),
                        ("MACs", macs_text(sum(b.macs for b in mine)))]
        self._show_details(rows, lambda e: e.stage == sel.stage)
        self._show_explanation([("Stages", ex.OPTIONS["stage"])])

    def _fill_stem(self, sel: Selection) -> None:
        spec, info = self.document.spec, self.document.info
        p = self.stem_page
        self.title.setText("Stem")
        p.kind.set_value(spec.stem.kind)
        p.width_box.setValue(spec.stem.width)
        p.width_box.setEnabled(spec.stem.kind is not StemKind.NONE)
        p.activate.setChecked(spec.stem.activate)
        rows = []
        if info is not None:
            rows = [("Input", fmt_shape(info.input_shape)), ("Output", fmt_shape(info.stem_shape)),
                    ("Parameters", params_text(info.stem_params)), ("MACs", macs_text(info.stem_macs))]
        self._show_details(rows, lambda e: e.where in ("stem", "input shape"))
        self._show_explanation([(STEM_TITLES[spec.stem.kind], ex.STEMS[spec.stem.kind])])

    def _fill_head(self, sel: Selection) -> None:
        spec, info = self.document.spec, self.document.info
        p = self.head_page
        self.title.setText("Head")
        p.classes.setValue(spec.head.num_classes)
        p.pre_norm.setChecked(spec.head.pre_norm)
        rows = []
        if info is not None:
            rows = [("Input", fmt_shape(info.feature_shape)), ("Output", fmt_shape(info.output_shape)),
                    ("Parameters", params_text(info.head_params)), ("MACs", macs_text(info.head_macs))]
        self._show_details(rows, lambda e: e.where == "head")
        self._show_explanation([("Head", ex.OPTIONS["head"]), ("Pre-norm", ex.OPTIONS["pre_norm"])])

    def _fill_network(self, sel: Selection) -> None:
        spec, info = self.document.spec, self.document.info
        p = self.network_page
        self.title.setText(f"Network: {spec.name}")
        if not p.name.hasFocus():
            p.name.setText(spec.name)
        c, h, w = spec.input_shape
        p.input_channels.setValue(c)
        p.input_height.setValue(h)
        p.input_width.setValue(w)
        p.norm.set_value(spec.norm)
        p.init.set_value(spec.init.kind)
        p.std.setValue(spec.init.std)
        p.show_std(spec.init.kind is InitKind.GAUSSIAN)
        p.zero_init.setChecked(spec.zero_init_residual)
        rows = []
        if info is not None:
            rows = [("Input", fmt_shape(info.input_shape)), ("Output", fmt_shape(info.output_shape)),
                    ("Depth", f"{info.depth} weighted layers"), ("Blocks", str(len(info.blocks))),
                    ("Parameters", params_text(info.params)), ("MACs", macs_text(info.macs))]
        self._show_details(rows, lambda e: True)
        self._show_explanation([("Network", ex.OPTIONS["network"]),
                                ("Normalisation", ex.NORMS[spec.norm]),
                                ("Initialisation", ex.INITS[spec.init.kind])])

    def _show_details(self, rows, concerns) -> None:
        """A small table of shapes and counts, or the problems that stop them being known."""
        out = []
        if rows:
            cells = "".join(f"<tr><td style='padding-right:10px'>{html.escape(k)}</td>"
                            f"<td><b>{html.escape(v)}</b></td></tr>" for k, v in rows)
            out.append(f"<table cellspacing='2'>{cells}</table>")
        elif not self.document.valid:
            out.append("<i>Shapes and counts appear once the design is valid.</i>")
        errors = [e for e in self.document.errors if concerns(e)]
        sel = self.document.selection
        for err in errors[:6]:
            # The selected block's own problems need no location; others say where they are.
            here = sel.part == "block" and (err.stage, err.block) == (sel.stage, sel.block)
            text = err.detail[:1].upper() + err.detail[1:] if here else f"{location_text(err)}: {err.detail}"
            out.append(f"<div style='color:{COLOUR.invalid_design}'>&#9888; {html.escape(text)}</div>")
        if len(errors) > 6:
            out.append(f"<div style='color:{COLOUR.invalid_design}'>and {len(errors) - 6} more in the "
                       "Problems panel</div>")
        self.details.setText("".join(out))

    def _show_explanation(self, parts) -> None:
        self.explanation.setText("".join(f"<p><b>{html.escape(t)}</b><br>{html.escape(body)}</p>"
                                         for t, body in parts))


class PageSwitcher(QWidget):
    """Shows one page at a time and, unlike QStackedWidget, is only as tall as that page."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._current: QWidget | None = None

    def addWidget(self, page: QWidget) -> None:  # noqa: N802 - mirrors QStackedWidget
        self._layout.addWidget(page)
        page.setVisible(self._current is None)
        if self._current is None:
            self._current = page

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        if page is self._current:
            return
        if self._current is not None:
            self._current.hide()
        page.show()
        self._current = page

    def currentWidget(self) -> QWidget | None:  # noqa: N802
        return self._current


STEM_TITLES = {StemKind.CIFAR: "CIFAR stem", StemKind.IMAGENET: "ImageNet stem", StemKind.NONE: "No stem"}


def _rich_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    return label
