"""The Qt-free trainer: learning, events, stop/pause from another thread, exact resume,
NaN and out-of-memory endings, conversions between data and network, gradient columns."""
import threading

import numpy as np
import pytest
import torch

from explorer.spec import BlockKind, HeadSpec, NetworkSpec, SpecError, StemSpec, uniform_stage
from explorer.spec.fileformat import from_dict
from explorer.train.api import (DeviceOutOfMemory, EpochMetrics, GradColumn, RunFinished, StepMetrics, TrainControl,
                                TrainingError, TrainSettings)
from explorer.train.checkpoint import read_checkpoint
from explorer.train.datasets import load_dataset
from explorer.train.optim import lr_factor
from explorer.train.trainer import Trainer


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_spec(num_classes=10, input_shape=(3, 32, 32)):
    return NetworkSpec(name="tiny", input_shape=input_shape, stem=StemSpec(width=8),
                       stages=(uniform_stage(BlockKind.BASIC, 1, 8, 1),
                               uniform_stage(BlockKind.BASIC, 1, 16, 2)),
                       head=HeadSpec(num_classes=num_classes))


def small(**kw):
    base = dict(train_size=320, test_size=64, batch_size=32, lr=0.05, metrics_every=5, epochs=1)
    base.update(kw)
    return TrainSettings(**base)


@pytest.fixture(scope="module")
def shapes():
    return load_dataset("shapes", train_size=640, test_size=128)


def test_short_run_on_shapes_lowers_the_loss_and_reports_in_order(shapes):
    events = []
    settings = small(epochs=6, batch_size=32, lr=0.1, metrics_every=10, augment=False, train_size=None)
    trainer = Trainer(tiny_spec(), settings, data=shapes)
    record = trainer.run(events.append)
    assert record.status == "finished" and "finished 120 steps (6 epochs)" in record.message
    kinds = [type(e) for e in events]
    assert kinds[-1] is RunFinished and kinds.count(EpochMetrics) == 6
    assert kinds.count(StepMetrics) == 12  # coalesced: every 10 steps, not every step
    first_epoch = kinds.index(EpochMetrics)
    assert all(k is StepMetrics for k in kinds[:first_epoch])
    losses = np.asarray(record.losses)
    assert record.steps == list(range(1, 121)) and len(losses) == 120
    assert losses[-20:].mean() < losses[:20].mean() - 0.05  # per-step noise of a 20-step mean is ~0.01
    epochs = record.epochs
    assert epochs[-1].train_loss < epochs[0].train_loss - 0.05
    assert all(0 <= e.test_error <= 1 and np.isfinite(e.test_loss) for e in epochs)
    assert 0 < epochs[-1].images_per_s and epochs[-1].lr == pytest.approx(0.0, abs=1e-9)  # cosine to zero
    step_events = [e for e in events if isinstance(e, StepMetrics)]
    assert step_events[0].total_steps == 120 and step_events[-1].eta_s >= 0
    assert np.concatenate([e.loss for e in step_events]).tolist() == record.losses
    assert all(v.device.type == "cpu" for v in record.model_state.values())
    assert record.model_state["fc.weight"].shape == (10, 16)


def test_stop_and_pause_from_another_thread(shapes):
    control = TrainControl()
    seen = threading.Event()
    steps = []

    def on_event(event):
        if isinstance(event, StepMetrics):
            steps.append(int(event.steps[-1]))
            seen.set()

    def driver():
        seen.wait(30)
        control.pause()
        paused_at = len(steps)
        threading.Event().wait(0.15)  # the step in flight when pause() came may still finish
        settled = len(steps)
        threading.Event().wait(0.3)
        driver.frozen = len(steps) == settled <= paused_at + 1  # nothing trains while paused
        control.call_between_steps(lambda model: model.set_skips([False, False]))
        control.resume()
        control.stop()

    thread = threading.Thread(target=driver)
    trainer = Trainer(tiny_spec(), small(epochs=50, metrics_every=1), control=control, data=shapes)
    thread.start()
    record = trainer.run(on_event)
    thread.join(5)
    assert not thread.is_alive()
    assert driver.frozen
    assert record.status == "stopped" and "stopped at step" in record.message
    assert record.steps[-1] < 50 * 10  # far from the end: the stop took effect at once
    assert trainer.model.skips() == [False, False]  # the queued toggle ran between steps


def test_resume_from_a_checkpoint_continues_the_same_loss_curve(shapes, tmp_path):
    settings = small(max_steps=14, batch_size=32, metrics_every=1, augment=True, train_size=None)
    straight = Trainer(tiny_spec(), settings, data=shapes).run()

    control = TrainControl()

    def stop_at_9(event):  # mid-epoch (20 steps per epoch), so the epoch's sums are resumed too
        if isinstance(event, StepMetrics) and event.steps[-1] == 9:
            control.stop()

    first = Trainer(tiny_spec(), settings, control=control, data=shapes)
    assert first.run(stop_at_9).status == "stopped"
    path = tmp_path / "run.ckpt"
    first.save_checkpoint(path)
    ckpt = read_checkpoint(path)
    assert ckpt["step"] == 9 and from_dict(ckpt["spec"]).name == "tiny"

    resumed = Trainer(tiny_spec(), settings, resume=str(path), data=shapes).run()
    assert resumed.steps == list(range(1, 15))
    np.testing.assert_allclose(resumed.losses, straight.losses, rtol=0, atol=1e-6)
    for key, value in straight.model_state.items():
        torch.testing.assert_close(resumed.model_state[key], value, rtol=1e-5, atol=1e-6)


def test_nan_loss_ends_the_run_with_advice(shapes):
    events = []
    record = Trainer(tiny_spec(), small(lr=1e6, epochs=3, metrics_every=4), data=shapes).run(events.append)
    assert record.status == "failed"
    assert "became NaN at step" in record.message or "became infinite at step" in record.message
    assert "lower learning rate" in record.message
    final = events[-1]
    assert isinstance(final, RunFinished) and final.status == "failed" and final.message == record.message
    assert all(np.isfinite(record.losses))


def test_out_of_memory_ends_the_run_naming_the_batch_size(shapes, monkeypatch):
    original = Trainer._train_step

    def step(self, x, y):
        if self.step == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        original(self, x, y)

    monkeypatch.setattr(Trainer, "_train_step", step)
    record = Trainer(tiny_spec(), small(batch_size=32, metrics_every=2), data=shapes).run()
    assert record.status == "failed"
    assert "out of memory at batch size 32" in record.message and "smaller batch size" in record.message
    assert record.steps == [1, 2]  # the steps before the failure are kept


def test_out_of_memory_while_setting_up_is_a_message_not_a_traceback(shapes, monkeypatch):
    # the device fills up as the model moves there, before any step
    def full_device(module, *args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 98.00 MiB")

    monkeypatch.setattr(torch.nn.Module, "to", full_device)
    trainer = Trainer(tiny_spec(), small(), data=shapes)
    with pytest.raises(DeviceOutOfMemory, match=r"cpu ran out of memory while setting up the run \(tiny, "
                                                r"[\d,]+ parameters, before the first step\)"):
        trainer.run()
    assert trainer.model is None  # nothing half-built is left for a caller to use


def test_data_and_network_mismatches_are_converted_and_reported():
    # grey 1x32x32 digits into a 3-channel 48x48 network with a 1000-way head
    trainer = Trainer(tiny_spec(num_classes=1000, input_shape=(3, 48, 48)),
                      small(dataset="digits", max_steps=3, train_size=96, test_size=32))
    record = trainer.run()
    assert record.status == "finished"
    notes = " ".join(record.notes)
    assert "replicating grey" in notes and "resized to the network's 48x48" in notes
    assert "10 classes but the network's head has 1000 outputs" in notes
    assert "Note" not in record.message  # the notes travel in record.notes, shown once by each front end
    assert trainer.model.fc.out_features == 10 and record.spec_json["head"]["num_classes"] == 10


def test_problems_before_the_first_step_raise():
    with pytest.raises(TrainingError, match="expected a folder at .*missing"):
        Trainer(tiny_spec(), small(dataset="cifar10:/definitely/missing")).run()
    with pytest.raises(TrainingError, match="batch size must be at least 1"):
        Trainer(tiny_spec(), small(batch_size=0)).run()
    with pytest.raises(TrainingError, match="CUDA"):
        if torch.cuda.is_available():
            raise TrainingError("CUDA present: nothing to check")
        Trainer(tiny_spec(), small(device="cuda")).prepare()
    bad = tiny_spec().with_block(1, 0, uniform_stage(BlockKind.BASIC, 1, 16, 2, shortcut="identity").blocks[0])
    with pytest.raises(SpecError, match="stage 2, block 1"):
        Trainer(bad, small()).run()


def test_schedules_warm_up_and_step_down():
    kw = dict(total=100, warmup=10, milestones=(0.5, 0.75))
    assert lr_factor(0, schedule="cosine", **kw) == pytest.approx(0.1)
    assert lr_factor(9, schedule="cosine", **kw) == pytest.approx(1.0)
    assert lr_factor(99, schedule="cosine", **kw) < 0.01
    assert [lr_factor(s, schedule="multistep", **kw) for s in (20, 49, 50, 74, 75)] == pytest.approx(
        [1, 1, 0.1, 0.1, 0.01])
    assert lr_factor(60, schedule="constant", **kw) == 1.0
    record = Trainer(tiny_spec(), small(schedule="onecycle", max_steps=10, train_size=64, test_size=32)).run()
    lrs = record.lrs
    assert lrs[0] < 0.05 / 10 and max(lrs) == pytest.approx(0.05, rel=0.05) and lrs[-1] < lrs[0]


def test_adamw_nesterov_label_smoothing_and_bf16_run(shapes):
    for settings in (small(optimizer="adamw", lr=1e-3, max_steps=4),
                     small(nesterov=True, label_smoothing=0.1, amp="bf16", max_steps=4)):
        record = Trainer(tiny_spec(), settings, data=shapes).run()
        assert record.status == "finished" and len(record.losses) == 4


def test_gradient_columns_are_recorded_every_k_steps(shapes):
    pytest.importorskip("explorer.analysis.gradflow_recorder")
    events = []
    record = Trainer(tiny_spec(), small(max_steps=6, grad_every=2, metrics_every=3), data=shapes).run(events.append)
    columns = [e for e in events if isinstance(e, GradColumn)]
    assert [c.step for c in columns] == [2, 4, 6]
    assert all(c.norms.shape == (2,) and np.all(c.norms > 0) for c in columns)
    assert [c.step for c in record.grad_columns] == [2, 4, 6]


def test_resuming_with_more_steps_follows_the_new_length(shapes, tmp_path):
    path = tmp_path / "short.ckpt"
    first = Trainer(tiny_spec(), small(max_steps=4, lr=0.05), data=shapes)
    assert first.run().status == "finished"
    first.save_checkpoint(path)
    longer = Trainer(tiny_spec(), small(max_steps=8, lr=0.05), resume=str(path), data=shapes).run()
    assert longer.steps == list(range(1, 9))
    # cosine over 8 steps from step 5 on: lr(4) = 0.05 * 0.5 * (1 + cos(pi * 4 / 8)) = 0.025
    assert longer.lrs[4] == pytest.approx(0.025)
    with pytest.raises(TrainingError, match="already at step 4 of 4"):
        Trainer(tiny_spec(), small(max_steps=4), resume=str(path), data=shapes).run()
    cycle = Trainer(tiny_spec(), small(max_steps=4, schedule="onecycle"), data=shapes)
    cycle.run()
    cycle.save_checkpoint(path)
    with pytest.raises(TrainingError, match="one-cycle run of 4 steps"):
        Trainer(tiny_spec(), small(max_steps=8, schedule="onecycle"), resume=str(path), data=shapes).run()


def test_bad_checkpoints_are_refused_with_the_reason(shapes, tmp_path):
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"this is not a checkpoint")
    with pytest.raises(TrainingError, match="cannot read checkpoint .*junk.ckpt"):
        Trainer(tiny_spec(), small(max_steps=2), resume=str(junk), data=shapes).run()
    path = tmp_path / "tiny.ckpt"
    trainer = Trainer(tiny_spec(), small(max_steps=2), data=shapes)
    trainer.run()
    trainer.save_checkpoint(path)
    wider = tiny_spec().with_stage(1, uniform_stage(BlockKind.BASIC, 1, 32, 2))
    with pytest.raises(TrainingError, match="holds weights for a different network"):
        Trainer(wider, small(max_steps=4), resume=str(path), data=shapes).run()


def test_a_version_1_checkpoint_resumes_exactly_with_its_optimizer_state_renumbered(shapes, tmp_path):
    """Version 1 registered each block's shortcut before its branch, so its SGD momentum buffers are
    numbered in that order; tiny_spec's second block has a projection, whose buffers would land on
    the wrong parameters (and fail on their shapes) if they were read as they are."""
    from explorer.train.checkpoint import v1_parameter_order

    settings = small(max_steps=14, batch_size=32, metrics_every=1, train_size=None)
    straight = Trainer(tiny_spec(), settings, data=shapes).run()
    control = TrainControl()
    first = Trainer(tiny_spec(), settings, control=control, data=shapes)
    first.run(lambda e: control.stop() if isinstance(e, StepMetrics) and e.steps[-1] == 9 else None)
    data = first.checkpoint_dict()
    names = [n for n, _ in first.model.named_parameters()]
    old = v1_parameter_order(first.model)
    assert old != names and sorted(old) == sorted(names)
    assert old.index("layer2.0.downsample.0.weight") < old.index("layer2.0.conv1.weight")
    data["optimizer"]["state"] = {old.index(names[i]): v for i, v in data["optimizer"]["state"].items()}
    data["version"] = 1
    path = tmp_path / "v1.ckpt"
    torch.save(data, path)

    resumed = Trainer(tiny_spec(), settings, resume=str(path), data=shapes).run()
    np.testing.assert_allclose(resumed.losses, straight.losses, rtol=0, atol=1e-6)
