"""Every classroom experiment, named once: its command, its title in the app, and one line on what it shows.

The CLI's help, the app's Experiments menu and the help tour read this list, and a test
fails when a command or a page exists that is not in it (tests/test_catalogue.py).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Experiment:
    command: str  # `python main.py experiment COMMAND`
    title: str  # the page's title and its menu entry (without the "…")
    summary: str  # one line: what it shows


EXPERIMENTS = (
    Experiment("degradation", "Degradation", "plain nets and ResNets of two depths: deeper plain nets train worse"),
    Experiment("drop-block", "Drop a Block", "remove one block at a time from a trained net and measure what is left"),
    Experiment("depth-sweep", "Depth Sweep", "a plain net and a ResNet at every depth: final error against depth"),
    Experiment("landscape", "Loss Landscape", "the loss around trained weights along random directions"),
    Experiment("prepost", "Pre- vs Post-activation", "a post-activation ResNet against its pre-activation twin"),
    Experiment("identity", "Identity", "can a block output exactly its input? plain against residual, then stacks"),
)


# commands under ``experiment`` that are not experiments: (command, what it does)
TOOLS = (("report", "print the words of a saved --json result again"),)


def tools() -> list[str]:
    return [command for command, _ in TOOLS]


def commands() -> list[str]:
    return [e.command for e in EXPERIMENTS]


def titles() -> list[str]:
    return [e.title for e in EXPERIMENTS]
