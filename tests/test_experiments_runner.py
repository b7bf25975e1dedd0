"""``ArmRunner``: the arms' trainers advance in turns, one step each, on the thread that calls ``run``.

The arms stay in lockstep whatever their depth; an arm that fails leaves the others
training; ``stop`` (from another thread, or from inside the run like a signal handler)
ends every arm within a step with a "stopped" record; an interrupt still releases every
arm's recorder and loader.
"""
from __future__ import annotations

import os
import threading
import time

import pytest

from explorer.experiments.runner import ArmRunner
from explorer.spec import BlockKind, HeadSpec, NetworkSpec, StemSpec, uniform_stage
from explorer.train.api import RunFinished, StepMetrics, TrainSettings
from explorer.train.datasets import load_dataset
from explorer.train.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DEPTHS = (1, 4, 2)  # blocks per stage of each arm: the arms take different times per step


def spec(blocks: int) -> NetworkSpec:
    return NetworkSpec(name=f"net-{blocks}", input_shape=(3, 16, 16), stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, blocks, 8, 1), uniform_stage(BlockKind.BASIC, 1, 16, 2)),
                       head=HeadSpec(num_classes=4))


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", train_size=128, test_size=32, image_size=(16, 16))


def runner_of(shapes, epochs=2, wrap=None, **settings) -> ArmRunner:
    train = TrainSettings(batch_size=32, lr=0.05, metrics_every=1, epochs=epochs, device="cpu", **settings)

    def make(i, control, data):
        trainer = Trainer(spec(DEPTHS[i]), train, control=control, data=data)
        return wrap(i, trainer) if wrap else trainer

    return ArmRunner([f"arm {i}" for i in range(len(DEPTHS))], make, setup=lambda: shapes)


def test_the_arms_advance_in_lockstep_on_the_calling_thread(shapes):
    runner = runner_of(shapes)
    threads, gaps, order = set(), [], []

    def on_event(arm, event):
        threads.add(threading.current_thread())
        gaps.append(max(t.step for t in runner.trainers) - min(t.step for t in runner.trainers))
        if isinstance(event, StepMetrics):
            order.append((arm, int(event.steps[-1])))

    outcomes = runner.run(on_event)
    assert threads == {threading.current_thread()}
    assert [o.status for o in outcomes] == ["finished"] * 3 and not runner.error
    assert max(gaps) == 1  # at any event the arms' step counts differ by at most one
    assert order == [(arm, step) for step in range(1, 9) for arm in range(3)]  # 4 steps an epoch, 2 epochs


def test_thread_init_runs_first_on_the_thread_that_calls_run(shapes):
    calls = []
    runner = ArmRunner(["a"], lambda i, control, data: Trainer(spec(1), TrainSettings(batch_size=32, epochs=1),
                                                               control=control, data=data),
                       setup=lambda: calls.append(("setup", threading.current_thread())) or shapes,
                       thread_init=lambda: calls.append(("init", threading.current_thread())))
    runner.run()
    assert calls == [("init", threading.current_thread()), ("setup", threading.current_thread())]
    with pytest.raises(RuntimeError, match="already been run"):
        runner.run()


class Breaks:
    """A trainer that raises after ``after`` steps."""

    def __init__(self, trainer, after: int):
        self.trainer, self.after = trainer, after

    def prepare(self):
        self.trainer.prepare()

    def steps(self, on_event):
        gen = self.trainer.steps(on_event)
        for _ in range(self.after):
            yield next(gen)
        gen.close()
        raise RuntimeError("the arm broke")


def test_a_failing_arm_leaves_the_others_training(shapes, capsys):
    runner = runner_of(shapes, wrap=lambda i, t: Breaks(t, 3) if i == 1 else t)
    ended = []
    outcomes = runner.run(lambda arm, event: ended.append(arm) if isinstance(event, RunFinished) else None)
    assert [o.status for o in outcomes] == ["finished", "failed", "finished"]
    assert outcomes[1].error == "RuntimeError: the arm broke" and outcomes[1].record is None
    assert [runner.trainers[i].step for i in (0, 2)] == [8, 8] and runner.trainers[1].trainer.step == 3
    assert sorted(ended) == [0, 2] and not runner.error
    assert "the arm broke" in capsys.readouterr().err  # a bug's traceback is printed


def test_a_stop_asked_during_a_step_ends_every_arm_within_that_step(shapes):
    runner = runner_of(shapes, epochs=50)

    def on_event(arm, event):
        if arm == 1 and isinstance(event, StepMetrics) and event.steps[-1] == 3:
            runner.stop()  # as a SIGINT handler would, on the same thread, in the middle of arm 1's step 3

    outcomes = runner.run(on_event)
    assert [o.status for o in outcomes] == ["stopped"] * 3
    assert [t.step for t in runner.trainers] == [3, 3, 2]  # arm 2 had not begun step 3
    assert [o.record.message for o in outcomes] == [f"stopped at step {s} of 200" for s in (3, 3, 2)]


def test_stop_from_another_thread_ends_the_run_within_a_step(shapes, stop_from_another_thread):
    runner = runner_of(shapes, epochs=500)
    seen = []
    assert stop_from_another_thread(runner, lambda arm, event: seen.append(arm) or len(seen) >= 9) <= 1
    assert [o.status for o in runner.outcomes] == ["stopped"] * 3
    steps = [t.step for t in runner.trainers]
    assert max(steps) - min(steps) <= 1 and max(steps) < 100


def test_a_stop_during_preparation_trains_no_arm(shapes):
    runner = None

    def make(i, control, data):
        if i == 1:
            runner.stop()
        return Trainer(spec(1), TrainSettings(batch_size=32), control=control, data=data)

    runner = ArmRunner(["a", "b", "c"], make, setup=lambda: shapes)
    outcomes = runner.run()
    assert [o.status for o in outcomes] == ["not started"] * 3 and len(runner.trainers) == 2  # the third never made
    assert runner.stopped and not runner.error


def test_an_interrupt_releases_every_arm(shapes):
    runner = runner_of(shapes, grad_every=1)
    closed = []

    def on_event(arm, event):
        if arm == 1 and isinstance(event, StepMetrics) and event.steps[-1] == 2:
            for i, trainer in enumerate(runner.trainers):
                trainer.source.close = lambda i=i: closed.append(i)
            raise KeyboardInterrupt  # the second Ctrl+C

    with pytest.raises(KeyboardInterrupt):
        runner.run(on_event)
    assert sorted(closed) == [0, 1, 2]
    assert all(t.recorder._handles == [] for t in runner.trainers)


def test_the_cli_shortens_openmps_spin_for_experiments_only_before_torch_loads(monkeypatch):
    import sys

    from explorer.cli import make_parser
    from explorer.cli.common import short_openmp_spin

    parse = make_parser().parse_args
    assert parse(["experiment", "degradation"]).short_openmp_spin
    assert parse(["experiment", "prepost"]).short_openmp_spin
    assert not getattr(parse(["train", "resnet20"]), "short_openmp_spin", False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    short_openmp_spin()  # torch is loaded in this process: too late to matter, so nothing is set
    assert "GOMP_SPINCOUNT" not in os.environ
    monkeypatch.delitem(sys.modules, "torch")
    short_openmp_spin()
    assert os.environ["GOMP_SPINCOUNT"] == "1000"
    monkeypatch.setenv("GOMP_SPINCOUNT", "5")
    short_openmp_spin()
    assert os.environ["GOMP_SPINCOUNT"] == "5"  # the user's own setting is kept
