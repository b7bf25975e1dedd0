"""Train several networks side by side, one step each in turn, on one thread.

An experiment compares "arms" (plain-20, plain-56, ResNet-20, ResNet-56, ...). Each arm
is an ordinary ``Trainer``. ``ArmRunner.run`` prepares every arm, then advances the arms'
``Trainer.steps`` generators round-robin, one step each (with the metrics read or test
evaluation that follows it), in the thread that calls it. So

- the curves grow together: every arm is at the same step at any moment, whatever
  its depth (at any event the arms' step counts differ by at most one), and the epoch
  points of all arms appear at the same time;
- only one arm computes at a time, so the arms do not fight over the CPU's cores
  (four trainers at once on a two-core laptop run slower than one after another);
- ``stop`` (from any thread, or from a SIGINT handler on this one) sets one flag; before
  each arm's next step the runner hands it to that arm's ``TrainControl``, so the arm
  in its step ends after it and every other arm at its next turn, all within one step
  of the deepest net, each with a "stopped" record;
- an arm that fails leaves the rotation with its error; the others go on.

``ArmRunner`` is Qt-free: the CLI calls ``run`` on its main thread, the GUI on a
background thread of its own. Events reach ``on_event(arm_index, event)`` on that thread.
"""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable

from ..train.api import RunRecord, TrainControl, TrainingError
from .jobs import Job


@dataclass
class ArmOutcome:
    """How one arm ended: its record (finished, stopped or failed), or why it never ran."""

    label: str
    record: RunRecord | None = None
    error: str = ""

    @property
    def status(self) -> str:
        if self.record is not None:
            return self.record.status
        return "failed" if self.error else "not started"


# make_trainer(arm_index, control, shared) -> Trainer (or anything with prepare() and steps(on_event));
# setup() -> shared (the data set, say)
TrainerFactory = Callable[[int, TrainControl, Any], Any]
EventSink = Callable[[int, Any], None]


class ArmRunner(Job):
    """Runs the arms in turns on the calling thread; see the module docstring."""

    def __init__(self, labels: list[str], make_trainer: TrainerFactory,
                 setup: Callable[[], Any] | None = None,
                 thread_init: Callable[[], None] | None = None):
        super().__init__(thread_init)
        self.labels = list(labels)
        self._make_trainer = make_trainer
        self._setup = setup or (lambda: None)
        self.controls = [TrainControl() for _ in self.labels]
        self.outcomes = [ArmOutcome(label) for label in self.labels]
        self.trainers: list = []

    def run(self, on_event: EventSink | None = None) -> list[ArmOutcome]:
        """Prepare every arm, then train them in turns until each has ended; the outcomes."""
        return super().run(on_event)

    def _result(self) -> list[ArmOutcome]:
        return self.outcomes

    def _work(self, sink: EventSink) -> None:
        if self._prepare_arms():
            self._take_turns(sink)

    def _prepare_arms(self) -> bool:
        """Make and prepare every arm: bad settings or data end here, before any arm trains."""
        try:
            self._thread_init()
            shared = self._setup()
            for i in range(len(self.labels)):
                if self.stopped:
                    return False
                trainer = self._make_trainer(i, self.controls[i], shared)
                trainer.prepare()
                self.trainers.append(trainer)
            return True
        except (TrainingError, ValueError) as exc:  # SpecError is a ValueError; both name the problem
            self.error = str(exc)
        except Exception as exc:  # a bug: say so, keep the caller alive
            traceback.print_exc()
            self.error = f"the experiment could not start: {type(exc).__name__}: {exc}"
        return False

    def _take_turns(self, sink: EventSink) -> None:
        rotation = [(i, trainer.steps(lambda event, i=i: sink(i, event))) for i, trainer in enumerate(self.trainers)]
        try:
            while rotation:
                rotation = [(i, steps) for i, steps in rotation if self._advance(i, steps)]
        finally:  # left early (an interrupt): end the arms still in the rotation, releasing their loaders
            for _, steps in rotation:
                steps.close()

    def _advance(self, i: int, steps) -> bool:
        """One step of arm ``i``; False when the arm has ended (its outcome is then set)."""
        if self.stopped:
            self.controls[i].stop()  # here, not in stop(): a signal handler must not take the control's locks
        try:
            next(steps)
            return True
        except StopIteration as end:
            self.outcomes[i] = ArmOutcome(self.labels[i], record=end.value)
        except (TrainingError, ValueError) as exc:
            self.outcomes[i] = ArmOutcome(self.labels[i], error=str(exc))
        except Exception as exc:
            traceback.print_exc()
            self.outcomes[i] = ArmOutcome(self.labels[i], error=f"{type(exc).__name__}: {exc}")
        return False
