"""Colours, pens and fonts: every colour the application shows, and the diagram's look.

``COLOUR`` names every colour by what it means (``COLOUR.verdict_good``,
``COLOUR.arm_plain``); no other module spells a colour value (tests/ui/test_theme_colours.py).
One place decides how a block kind, a shortcut kind or a disabled skip looks, so the
canvas, the palette swatches and the legend can never disagree. The kinds' colours are a
colour-blind-safe set (blue, orange, teal, purple, grey) with a light fill for the box and
a strong tone for its border and swatch. Presenter mode multiplies text sizes by
``Theme.scale`` and line widths by ``Theme.line`` (the diagram's box lengths are
``canvas.layout.Geometry``'s); the app-wide presenter switch is in
``presenter.py`` and the plots' styling in ``plot_style.py``.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen

from ..spec import BlockKind, ShortcutKind


@dataclass(frozen=True)
class ColourRoles:
    """Every colour the application shows, named for what it means (``#rrggbb``).

    Code outside the theme names a role (``COLOUR.verdict_good``), never a hex value:
    one hex under two names means two things that happen to look alike today.
    """

    # -- widgets: the application palette (Fusion style)
    ink: str = "#1d232b"  # text everywhere, the diagram's main data path
    window: str = "#eef0f3"
    field: str = "#ffffff"  # text fields, lists
    field_alternate: str = "#f5f7fa"  # every other row of a list
    button: str = "#e6e9ee"
    bright_text: str = "#c62828"  # Qt's BrightText: text on a dark or pressed surface
    selection: str = "#2f6fb5"
    selection_text: str = "#ffffff"
    link: str = "#1e63b0"
    placeholder_text: str = "#7b8490"
    disabled_text: str = "#9aa1a9"
    bevel_light: str = "#ffffff"  # the Fusion style's 3D edges, lightest to darkest
    bevel_midlight: str = "#f3f5f8"
    bevel_mid: str = "#b7bec7"
    bevel_dark: str = "#8d96a1"
    bevel_shadow: str = "#5b6470"
    note_fill: str = "#fffbe6"  # a tooltip, the tour's panel
    # the tour's panel border and its outline round the part explained: magenta, never the amber of a
    # selected block or stage (a selected stage looked highlighted by the tour)
    tour_accent: str = "#c2187a"

    # -- the diagram: each block kind's strong tone (border, swatch) and light fill
    kind_basic: str = "#2f6fb5"
    kind_bottleneck: str = "#d2761c"
    kind_preact_basic: str = "#16876b"
    kind_preact_bottleneck: str = "#7a4bb3"
    kind_plain: str = "#6b6b6b"
    fill_basic: str = "#dbeafb"
    fill_bottleneck: str = "#fde6cc"
    fill_preact_basic: str = "#d3f0e7"
    fill_preact_bottleneck: str = "#e9ddf7"
    fill_plain: str = "#e6e6e6"
    muted: str = "#5b6470"  # secondary text in the diagram
    shortcut: str = "#1d232b"  # a skip arc that is on
    skip_off: str = "#9aa1a9"  # a skip arc switched off
    diagram_error: str = "#d0312d"
    selection_accent: str = "#f0a800"  # amber reads on every kind's fill
    hover: str = "#0b74de"
    hover_fill: str = "#e3f0fd"  # the skip switch under the mouse
    stage_fill: str = "#f6f7f9"
    stage_border: str = "#b7bec7"
    node_fill: str = "#eef0f3"  # input, stem, head
    node_border: str = "#4a5360"
    diagram_background: str = "#ffffff"

    # -- the design's problems and the state of a long task
    invalid_design: str = "#c62828"  # "the design is invalid" (status bar, problems, inspector)
    error_text: str = "#7a0014"  # an error in words: a status line, a message, "No result"
    failed: str = "#b00020"  # a run or an export that failed
    caution_text: str = "#9a5b00"  # an export that is possible but not checked or not advised
    verified_text: str = "#1d6b2f"  # an export checked against the live model
    last_valid_note: str = "#8a6d00"  # "(last valid version)": training uses an older design
    run_running: str = "#0b6e2e"
    run_paused: str = "#1f3a5f"
    run_stopped: str = "#8a6d00"
    run_status: str = "#222222"  # a run's status with no colour of its own (finished)
    message_info_text: str = "#1f3a5f"  # the training panel's message box, by level
    message_info_fill: str = "#eaf1fb"
    message_info_border: str = "#b9cce8"
    message_warning_text: str = "#5c4400"
    message_warning_fill: str = "#fff6d6"
    message_warning_border: str = "#e8d48a"
    message_error_fill: str = "#fdecee"
    message_error_border: str = "#f0b3bc"

    # -- plots
    plot_background: str = "#ffffff"
    plot_text: str = "#222222"  # titles, legends
    plot_label: str = "#333333"  # axis labels and tick numbers
    plot_axis: str = "#777777"  # the axis lines of the training and experiment plots
    plot_message: str = "#333333"  # words inside an empty plot
    legend_fill: str = "#ffffff"  # behind a legend inside a plot (drawn translucent)
    legend_sample: str = "#555555"  # a legend's line and marker samples where the colour names no run
    caption: str = "#333333"  # a line under a plot: what the mouse points at, what the pictures show
    hollow_marker: str = "#ffffff"  # the inside of an open marker (test error in the depth sweep)
    sweep_marker: str = "#888888"  # the depth chosen in the depth sweep
    # the runs' curves, cycled by run number: Okabe & Ito's palette (its yellow darkened),
    # eight colours apart on white and for common colour blindness
    run_cycle: tuple[str, ...] = ("#0072b2", "#d55e00", "#009e73", "#cc79a7",
                                  "#e69f00", "#56b4e9", "#000000", "#b8a000")

    # -- the experiments: each kind of network, light (shallowest) to strong (deepest)
    arm_plain_light: str = "#f4a259"
    arm_plain: str = "#d2761c"
    arm_plain_strong: str = "#9c4a00"
    arm_resnet_light: str = "#7fb2e5"
    arm_resnet: str = "#2f6fb5"
    arm_resnet_strong: str = "#123f7a"
    arm_preact_light: str = "#7fcf9f"  # pre-activation ResNets
    arm_preact: str = "#2e8b57"
    arm_preact_strong: str = "#0f5132"
    not_removable: str = "#555555"  # a block that Drop a Block cannot take out
    landscape_mark: str = "#ffffff"  # the contour and the trained point on the loss landscape
    verdict_good: str = "#1b5e20"  # the experiment showed what the paper reports
    verdict_partial: str = "#7a4a00"  # it showed part of it, or the run was too short to tell
    verdict_bad: str = "#7a0014"  # it did not show it
    verdict_none: str = "#333333"  # no verdict, or no difference to report
    verdict_detail: str = "#333333"  # the numbers and the why under a verdict
    waiting_words: str = "#555555"  # where the verdict will appear, before and while it runs

    # -- gradient flow
    gradient_now: str = "#1f5fa8"  # the profile at the current weights
    gradient_before: str = "#8a8a8a"  # the profile before the last change
    stage_boundary: str = "#b0b0b0"  # a dotted line where a stage begins
    stage_boundary_label: str = "#666666"
    residual_ratio: str = "#b35c00"  # ||F(x)|| / ||x||
    residual_cosine: str = "#5b3fa0"  # cos(F, x)
    reference_line: str = "#9a9a9a"  # ratio 1, cosine 0
    probe_column: str = "#ffffff"  # the frame round a probe's column in the heatmap
    gradient_carried: str = "#1b7f3b"  # first / last block ratio, by verdict
    gradient_grows: str = "#8a6d00"
    gradient_explodes: str = "#b3261e"
    gradient_fades: str = "#6a3fb0"  # fades, vanishes, or dead
    gradient_none: str = "#444444"  # nothing measured
    gradient_unknown: str = "#222222"  # a verdict with no colour of its own
    explanation: str = "#222222"  # the sentences beside the gradient and residual plots
    help_text: str = "#444444"
    status_text: str = "#555555"  # what the probe is doing; the ratio's "before"


COLOUR = ColourRoles()


# The strong tone of each kind: box border, palette swatch, legend entry.
KIND_COLORS: dict[BlockKind, QColor] = {
    BlockKind.BASIC: QColor(COLOUR.kind_basic),
    BlockKind.BOTTLENECK: QColor(COLOUR.kind_bottleneck),
    BlockKind.PREACT_BASIC: QColor(COLOUR.kind_preact_basic),
    BlockKind.PREACT_BOTTLENECK: QColor(COLOUR.kind_preact_bottleneck),
    BlockKind.PLAIN: QColor(COLOUR.kind_plain),
}

# The light tone of each kind: the box's fill, dark text stays readable on it.
KIND_FILLS: dict[BlockKind, QColor] = {
    BlockKind.BASIC: QColor(COLOUR.fill_basic),
    BlockKind.BOTTLENECK: QColor(COLOUR.fill_bottleneck),
    BlockKind.PREACT_BASIC: QColor(COLOUR.fill_preact_basic),
    BlockKind.PREACT_BOTTLENECK: QColor(COLOUR.fill_preact_bottleneck),
    BlockKind.PLAIN: QColor(COLOUR.fill_plain),
}

# Names a person reads in the legend and the palette.
KIND_NAMES: dict[BlockKind, str] = {
    BlockKind.BASIC: "Basic (post-activation)",
    BlockKind.BOTTLENECK: "Bottleneck (post-activation)",
    BlockKind.PREACT_BASIC: "Pre-activation basic",
    BlockKind.PREACT_BOTTLENECK: "Pre-activation bottleneck",
    BlockKind.PLAIN: "Plain (no shortcut)",
}

# Legend rows: (kind, colour name for people who cannot rely on the hue alone).
KIND_COLOR_NAMES: dict[BlockKind, str] = {
    BlockKind.BASIC: "blue",
    BlockKind.BOTTLENECK: "orange",
    BlockKind.PREACT_BASIC: "teal",
    BlockKind.PREACT_BOTTLENECK: "purple",
    BlockKind.PLAIN: "grey",
}

LEGEND_KINDS: tuple[tuple[BlockKind, str, str], ...] = tuple(
    (kind, KIND_NAMES[kind], KIND_COLOR_NAMES[kind]) for kind in BlockKind)

# How each shortcut style is told apart (shown in the legend next to a drawn sample).
SHORTCUT_STYLES: tuple[tuple[str, str], ...] = (
    ("identity", "Identity shortcut: solid line"),
    ("projection", "Projection: line with a 1x1 conv box"),
    ("zero_pad", "Zero-pad: dotted line, \"0-pad\" mark"),
    ("off", "Skip switched off: dashed grey, \"off\""),
)

# The diagram's colours as QColors (the canvas paints with them).
INK = QColor(COLOUR.ink)  # text and the main data path
MUTED = QColor(COLOUR.muted)  # secondary text
SHORTCUT_INK = QColor(COLOUR.shortcut)
SKIP_OFF_INK = QColor(COLOUR.skip_off)
ERROR = QColor(COLOUR.diagram_error)
ACCENT = QColor(COLOUR.selection_accent)
HOVER = QColor(COLOUR.hover)
HOVER_FILL = QColor(COLOUR.hover_fill)
STAGE_FILL = QColor(COLOUR.stage_fill)
STAGE_BORDER = QColor(COLOUR.stage_border)
NODE_FILL = QColor(COLOUR.node_fill)
NODE_BORDER = QColor(COLOUR.node_border)
BACKGROUND = QColor(COLOUR.diagram_background)

PRESENTER_SCALE = 1.45  # text size on a projector relative to a laptop screen
TICK_POINTS = 9.0  # the plots' tick labels at normal size (points)


def presenter_tick_pixels(dpi: float) -> float:
    """Pixel size of a plot's tick label in presenter mode on a screen of ``dpi`` (logical)."""
    return TICK_POINTS * PRESENTER_SCALE * dpi / 72.0


@dataclass(frozen=True)
class Theme:
    """Sizes for normal use or for a projector (``presenter``)."""

    presenter: bool = False

    @property
    def scale(self) -> float:
        return PRESENTER_SCALE if self.presenter else 1.0

    def font(self, size: float = 12.0, bold: bool = False, italic: bool = False) -> QFont:
        """A font sized in pixels, so it scales with the diagram when zooming."""
        return scaled_font(size * self.scale, bold=bold, italic=italic)

    def line(self, width: float = 1.5) -> float:
        # Lines grow a little faster than text so they survive a projector's blur.
        return width * (1.7 if self.presenter else 1.0)

    def shortcut_pen(self, style: str, hovered: bool = False) -> QPen:
        """The pen of a skip arc: ``style`` is identity, projection, zero_pad or off."""
        width = self.line(2.6 if hovered else 1.8)
        colour = HOVER if hovered else (SKIP_OFF_INK if style == "off" else SHORTCUT_INK)
        pen = QPen(colour, width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        if style == "zero_pad":
            pen.setStyle(Qt.PenStyle.DotLine)
        elif style == "off":
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen


def scaled_font(pixel_size: float, bold: bool = False, italic: bool = False) -> QFont:
    font = QFont()
    font.setFamilies(["DejaVu Sans", "Noto Sans", "Liberation Sans", "Arial", "Sans Serif"])
    font.setPixelSize(max(1, round(pixel_size)))
    font.setBold(bold)
    font.setItalic(italic)
    return font


def shortcut_style(shortcut: ShortcutKind, skip: bool) -> str:
    """Which drawn style a resolved shortcut gets (``none`` for plain blocks)."""
    if shortcut is ShortcutKind.NONE:
        return "none"
    if not skip:
        return "off"
    if shortcut is ShortcutKind.PROJECTION:
        return "projection"
    if shortcut is ShortcutKind.ZERO_PAD:
        return "zero_pad"
    return "identity"


def point_font(points: float) -> QFont:
    """The application's font family at ``points`` (a tick label, a plot legend)."""
    font = QFont()
    font.setPointSizeF(points)
    return font


def css_points(points: float) -> str:
    return f"{points:.1f}pt"
