"""What a class would see wrong on a projector, measured from the widgets: ``problems(window, screen)``.

Each check compares what a widget must show (its text at its font, its plot's parts) with
the room its geometry gives it, and returns one line per defect, naming the widget and
the numbers, so a failing test lists everything cut off at once:

- the window fits the screen (its size after a resize to the screen, its minimum size);
- no widget lies outside its parent (a scroll area's viewport excepted: that part scrolls);
- no label, button, check box or combo box text is cut (wrapped labels included: the
  height their text needs at their width);
- no plot is smaller than ``PLOT_MIN`` (a plot made narrow on purpose, a colour bar, excepted);
- every plot title, axis label, legend entry and text in the plot area is whole;
- a legend never lies over a data point of its plot.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (QAbstractButton, QAbstractScrollArea, QApplication, QCheckBox, QComboBox, QLabel,
                               QPushButton, QRadioButton, QScrollArea, QTabBar, QToolButton, QWidget)

PLOT_MIN = (160, 100)  # the least plot (pixels) that still shows its axes and a curve legibly
SLACK = 1  # rounding between font metrics and geometry


def _name(w: QWidget) -> str:
    text = ""
    if isinstance(w, (QLabel, QAbstractButton)):
        text = " " + repr(_plain(w.text())[:40])
    path = []
    node = w
    while node is not None and len(path) < 3:
        path.append(node.objectName() or type(node).__name__)
        node = node.parentWidget()
    return "/".join(reversed(path)) + text


def _plain(text: str) -> str:
    if "<" in text:
        from PySide6.QtGui import QTextDocument
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


def _shown(w: QWidget) -> bool:
    """Visible and some of it on screen: not behind a tab, not parked out of sight (a dock tabbed
    behind another), not scrolled wholly out of a scroll area's view."""
    if not w.isVisible():
        return False
    rect = w.rect()
    node = w
    while not node.isWindow():
        parent = node.parentWidget()
        rect = rect.translated(node.pos()).intersected(parent.rect())
        if rect.isEmpty():
            return False
        node = parent
    return True


def _in_scroll_area(w: QWidget) -> bool:
    node = w.parentWidget()
    while node is not None:
        if isinstance(node, QAbstractScrollArea):
            return True
        node = node.parentWidget()
    return False


def window_problems(window: QWidget, screen: tuple[int, int]) -> list[str]:
    sw, sh = screen
    out = []
    if window.width() > sw or window.height() > sh:
        out.append(f"{_name(window)}: window {window.width()}x{window.height()} does not fit the screen {sw}x{sh}")
    least = window.minimumSizeHint().expandedTo(window.minimumSize())
    if least.width() > sw or least.height() > sh:
        out.append(f"{_name(window)}: minimum size {least.width()}x{least.height()} is larger than the screen "
                   f"{sw}x{sh}")
    return out


def outside_problems(window: QWidget) -> list[str]:
    out = []
    for w in window.findChildren(QWidget):
        if not w.isVisible() or w.isWindow():
            continue
        parent = w.parentWidget()
        if parent is None or (isinstance(parent.parentWidget(), QAbstractScrollArea)
                              and parent is parent.parentWidget().viewport()):
            continue  # a scroll area's content: it scrolls
        if parent.isWindow() and parent is not window:
            continue
        if not parent.rect().adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(w.geometry()):
            if w.geometry().intersected(parent.rect()).isEmpty() and not _shown(w):
                continue  # parked out of sight (a hidden tab's page, a collapsed splitter side)
            out.append(f"{_name(w)}: at {_rect(w.geometry())}, outside its parent "
                       f"{_name(parent)} ({parent.width()}x{parent.height()})")
    return out


def _rect(r) -> str:
    return f"{r.x():.0f},{r.y():.0f} {r.width():.0f}x{r.height():.0f}"


def text_problems(window: QWidget) -> list[str]:
    out = []
    for w in window.findChildren(QWidget):
        if not _shown(w):
            continue
        if isinstance(w, QLabel):
            out += _label_problems(w)
        elif isinstance(w, (QPushButton, QCheckBox, QRadioButton)) or (
                isinstance(w, QToolButton) and w.toolButtonStyle() != Qt.ToolButtonStyle.ToolButtonIconOnly):
            if not w.text():
                continue
            need = _button_text_width(w)
            if w.width() + SLACK < need or w.height() + SLACK < _text_height(w):
                out.append(f"{_name(w)}: {w.width()}x{w.height()}, its text needs {need}x{_text_height(w)}")
        elif isinstance(w, QComboBox):
            fm = QFontMetrics(w.font())
            need = fm.horizontalAdvance(w.currentText()) + 2 * fm.averageCharWidth()  # frame and arrow
            room = w.style().subControlRect(w.style().ComplexControl.CC_ComboBox, _combo_option(w),
                                            w.style().SubControl.SC_ComboBoxEditField, w).width()
            if fm.horizontalAdvance(w.currentText()) > room + SLACK or w.height() < fm.height():
                out.append(f"{_name(w)} {w.currentText()!r}: text {need} px in {room} px")
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                fm = QFontMetrics(w.font())
                if w.tabRect(i).width() + SLACK < fm.horizontalAdvance(w.tabText(i).replace("&", "")) \
                        + fm.averageCharWidth():
                    out.append(f"{_name(w)}: tab {w.tabText(i)!r} {w.tabRect(i).width()} px, "
                               f"its text needs {fm.horizontalAdvance(w.tabText(i))}")
    return out


def _combo_option(w: QComboBox):
    from PySide6.QtWidgets import QStyleOptionComboBox
    option = QStyleOptionComboBox()
    option.initFrom(w)
    option.editable = w.isEditable()
    return option


def _button_text_width(w: QAbstractButton) -> int:
    """The text, its icon or indicator and the style's margins (not the style's least width for a
    button, which a small "…" button is allowed to be under)."""
    style = w.style()
    pm = style.PixelMetric
    text = QFontMetrics(w.font()).horizontalAdvance(w.text().replace("&&", "\0").replace("&", ""))
    icon = w.iconSize().width() + 4 if not w.icon().isNull() else 0
    if isinstance(w, (QCheckBox, QRadioButton)):
        indicator = style.pixelMetric(pm.PM_IndicatorWidth if isinstance(w, QCheckBox)
                                      else pm.PM_ExclusiveIndicatorWidth, None, w)
        return text + icon + indicator + style.pixelMetric(pm.PM_CheckBoxLabelSpacing, None, w)
    return text + icon + 2 * style.pixelMetric(pm.PM_ButtonMargin, None, w) \
        + 2 * style.pixelMetric(pm.PM_DefaultFrameWidth, None, w)


def _text_height(w: QWidget) -> int:
    return QFontMetrics(w.font()).height()


def _label_problems(label: QLabel) -> list[str]:
    text = label.text()
    if not text or label.pixmap() is not None and not label.pixmap().isNull():
        return []
    room = label.contentsRect()
    if label.wordWrap():
        need_h = label.heightForWidth(label.width())
        if need_h > label.height() + SLACK:
            return [f"{_name(label)}: wrapped text needs {need_h} px high, has {label.height()}"]
        # a word longer than the line runs past the edge
        need_w = label.minimumSizeHint().width()
        if need_w > label.width() + SLACK:
            return [f"{_name(label)}: its longest word needs {need_w} px, has {label.width()}"]
        return []
    hint = label.sizeHint()
    margin = 2 * label.margin() + label.contentsMargins().left() + label.contentsMargins().right()
    if hint.width() > room.width() + margin + SLACK or min(hint.height(), _text_height(label)) > label.height() + SLACK:
        return [f"{_name(label)}: {label.width()}x{label.height()}, its text needs {hint.width()}x{hint.height()}"]
    return []


# -- plots --------------------------------------------------------------------------------------
def plot_problems(window: QWidget, scale: float) -> list[str]:
    out = []
    for widget in window.findChildren(pg.GraphicsView):
        if not _shown(widget):
            continue
        for plot in _plot_items(widget):
            out += _one_plot(widget, plot, scale)
    return out


def _plot_items(view: pg.GraphicsView) -> list[pg.PlotItem]:
    return [item for item in view.scene().items() if isinstance(item, pg.PlotItem) and item.isVisible()
            and not isinstance(item, pg.ColorBarItem)]  # a colour bar is narrow on purpose


def _one_plot(view: pg.GraphicsView, plot: pg.PlotItem, scale: float) -> list[str]:
    out = []
    name = f"{_name(view)} plot {plot.titleLabel.text[:30]!r}" if plot.titleLabel.text else f"{_name(view)} plot"
    vb = plot.getViewBox()
    box = vb.sceneBoundingRect()
    least_w, least_h = PLOT_MIN[0], PLOT_MIN[1]
    if view.maximumWidth() < least_w:
        least_w = 0  # made narrow on purpose (a colour bar)
    if box.width() < least_w * 0.6 or box.height() < least_h * 0.6 \
            or plot.sceneBoundingRect().height() < least_h or plot.sceneBoundingRect().width() < least_w:
        out.append(f"{name}: {plot.sceneBoundingRect().width():.0f}x{plot.sceneBoundingRect().height():.0f} px "
                   f"(data area {box.width():.0f}x{box.height():.0f}), less than {least_w:.0f}x{least_h:.0f}")
    visible = QRectF(view.rect())
    title = plot.titleLabel
    if title.isVisible() and title.text:
        need = title.item.boundingRect().width()
        if need > title.width() + SLACK:
            out.append(f"{name}: title {need:.0f} px wide in {title.width():.0f}")
        if not visible.contains(title.item.sceneBoundingRect().adjusted(4, 4, -4, -4)):
            out.append(f"{name}: title outside the view")
    for side in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(side)
        if not axis.isVisible() or not axis.label.isVisible() or not axis.labelText:
            continue
        text = axis.label.boundingRect().width() - 2 * axis.label.document().documentMargin()
        length = axis.height() if side in ("left", "right") else axis.width()
        if text > length + SLACK:
            out.append(f"{name}: {side} axis label {axis.labelText!r} {text:.0f} px along a {length:.0f} px axis")
        m = axis.label.document().documentMargin() + SLACK  # the text item's own blank margin
        if not visible.contains(axis.label.sceneBoundingRect().adjusted(m, m, -m, -m)):
            out.append(f"{name}: {side} axis label {axis.labelText!r} at {_rect(axis.label.sceneBoundingRect())} "
                       f"outside the view {_rect(visible)}")
    out += _tick_problems(name, plot)
    legend = plot.legend
    if legend is not None and legend.isVisible() and legend.items:
        lrect = legend.sceneBoundingRect()
        if not visible.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(lrect):
            out.append(f"{name}: legend {_rect(lrect)} runs out of the view {_rect(visible)}")
        for _sample, label in legend.items:
            if label.isVisible() and label.item.boundingRect().width() > label.width() + SLACK:
                out.append(f"{name}: legend entry {label.text!r} cut")
        covered = _points_under(plot, lrect)
        if covered:
            out.append(f"{name}: legend covers {covered} data points")
    for item in vb.addedItems:
        if isinstance(item, pg.TextItem) and item.isVisible() and item.toPlainText().strip():
            r = item.sceneBoundingRect()
            if not box.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(r):
                out.append(f"{name}: text {item.toPlainText()[:40]!r} at {_rect(r)} runs out of the data area "
                           f"{_rect(box)}")
    return out


def _tick_problems(name: str, plot: pg.PlotItem) -> list[str]:
    """An axis that shows numbers shows at least two (one "0" says nothing), in the unit its label
    names (a "%" axis of an empty plot reads 0 to 100, not 0.2 to 0.8)."""
    out = []
    has_data = any(item.getData()[0] is not None and len(item.getData()[0]) for item in plot.listDataItems())
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        if not axis.isVisible() or not axis.style.get("showValues", True):
            continue
        low, high = axis.range
        length = axis.height() if side == "left" else axis.width()
        if length <= 0 or high == low:
            continue
        values = {round(v, 12) for _spacing, level in axis.tickValues(low, high, length) for v in level
                  if min(low, high) <= v <= max(low, high)}
        if has_data and len(values) < 2:
            out.append(f"{name}: the {side} axis shows {len(values)} tick number(s) over {low:.3g}..{high:.3g}")
        if "%" in (axis.labelText or "") and not has_data and max(abs(low), abs(high)) <= 1.5:
            out.append(f"{name}: the {side} axis says {axis.labelText!r} but reads {low:.2g}..{high:.2g}")
    return out


def _points_under(plot: pg.PlotItem, rect: QRectF) -> int:
    vb = plot.getViewBox()
    count = 0
    for item in plot.listDataItems():
        if not item.isVisible():
            continue
        x, y = item.getData()
        if x is None or len(x) == 0:
            continue
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        keep = np.isfinite(x) & np.isfinite(y)
        for xi, yi in zip(x[keep], y[keep]):
            if rect.contains(vb.mapViewToScene(pg.Point(xi, yi))):
                count += 1
    return count


def problems(window: QWidget, screen: tuple[int, int], scale: float = 1.0, where: str = "") -> list[str]:
    """Every defect of ``window`` on a ``screen``-sized display, each line prefixed with ``where``."""
    QApplication.processEvents()
    found = window_problems(window, screen) + outside_problems(window) + text_problems(window) \
        + plot_problems(window, scale)
    return [f"{where}: {line}" for line in found]
