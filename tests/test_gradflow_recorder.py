"""The training-time recorder: same numbers as the probe, only every k steps, one transfer."""
import gc
import socket

import numpy as np
import pytest
import torch
from torch import nn

from explorer.analysis.gradflow import probe, residual_sizes, seeded_batch
from explorer.analysis.gradflow_recorder import GradientRecorder
from explorer.nn import build
from explorer.spec import BlockKind, NetworkSpec, StemKind, StemSpec, uniform_stage
from explorer.train.api import GradColumn


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py: tiny CPU passes, one thread


def tiny_spec(stem=StemKind.CIFAR, kind=BlockKind.BASIC):
    return NetworkSpec(name="tiny", input_shape=(3, 8, 8), stem=StemSpec(kind=stem, width=4 if stem is not StemKind.NONE else 3),
                       stages=(uniform_stage(kind, 2, 4, 1), uniform_stage(kind, 1, 8, 2)))


def _train(model, rec, steps, batch=6, lr=0.05, forward=None):
    """A bare SGD loop driving the recorder as the trainer does; returns the probe of each recorded step."""
    forward = forward or model
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    expected = {}
    for step in range(1, steps + 1):
        x, t = seeded_batch((3, 8, 8), 10, batch, seed=step)
        if rec.arm(step):
            expected[step] = probe(model, x, t, weights=False).block_norms
        opt.zero_grad()
        nn.functional.cross_entropy(forward(x), t).backward()
        rec.collect(step)
        opt.step()
    return expected


def test_recorded_columns_equal_the_probe_at_the_same_weights():
    model = build(tiny_spec(), seed=0)
    rec = GradientRecorder(model, every=3)
    expected = _train(model, rec, steps=10)
    assert sorted(expected) == [3, 6, 9]
    assert rec.pending == 3
    columns = rec.drain()
    assert [c.step for c in columns] == [3, 6, 9]
    assert all(isinstance(c, GradColumn) and c.norms.dtype == np.float64 and c.norms.shape == (3,)
               for c in columns)
    for c in columns:
        np.testing.assert_allclose(c.norms, expected[c.step], rtol=1e-5)
    assert rec.drain() == []  # drained once
    rec.close()


def test_non_recording_steps_install_no_gradient_hooks():
    model = build(tiny_spec(), seed=0)
    rec = GradientRecorder(model, every=5)
    x, t = seeded_batch((3, 8, 8), 10, 4, seed=0)
    assert rec.arm(4) is False
    model(x)
    assert rec._tensor_hooks == []
    assert rec.arm(5) is True
    nn.functional.cross_entropy(model(x), t).backward()
    assert len(rec._tensor_hooks) == 3
    rec.collect(5)
    assert rec._tensor_hooks == [] and rec.pending == 1
    rec.close()


def test_an_armed_step_without_backward_leaves_no_column_and_does_not_leak_into_the_next():
    model = build(tiny_spec(), seed=0)
    rec = GradientRecorder(model, every=1)
    x, t = seeded_batch((3, 8, 8), 10, 4, seed=0)
    rec.arm(1)
    model(x)  # the step failed before backward (a NaN check, say)
    rec.arm(2)
    with torch.no_grad():
        model(x)  # an evaluation pass while armed records nothing
    nn.functional.cross_entropy(model(x), t).backward()
    rec.collect(2)
    assert [c.step for c in rec.drain()] == [2]
    rec.close()


def test_close_removes_every_hook():
    model = build(tiny_spec(), seed=0)
    rec = GradientRecorder(model, every=1)
    assert all(len(b._forward_pre_hooks) == 1 for b in model.blocks())
    rec.close()
    assert all(len(b._forward_pre_hooks) == 0 for b in model.blocks())
    assert rec.arm(1) is False


def test_a_network_without_stem_records_the_first_block_from_the_raw_batch():
    model = build(tiny_spec(stem=StemKind.NONE, kind=BlockKind.PREACT_BASIC), seed=0)
    rec = GradientRecorder(model, every=1)
    expected = _train(model, rec, steps=2)
    for c in rec.drain():
        assert np.all(c.norms > 0)
        np.testing.assert_allclose(c.norms, expected[c.step], rtol=1e-5)
    rec.close()


def test_every_must_be_positive():
    with pytest.raises(ValueError, match="k >= 1"):
        GradientRecorder(build(tiny_spec(), seed=0), every=0)


# dynamo itself touches ``.grad`` of the non-leaf block inputs while tracing the hook
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf:UserWarning")
@pytest.mark.slow  # dynamo tracing: about 10 s on two cores
def test_recorder_sees_through_torch_compile():
    model = build(tiny_spec(), seed=0)
    compiled = torch.compile(model, backend="eager")
    try:
        rec = GradientRecorder(compiled, every=2)
        expected = _train(model, rec, steps=4, forward=compiled)
        columns = rec.drain()
        assert [c.step for c in columns] == [2, 4]
        for c in columns:
            np.testing.assert_allclose(c.norms, expected[c.step], rtol=1e-5)
        rec.close()
    finally:
        # dynamo keeps weak proxies to the traced objects; drop them before the thread check scans gc
        del compiled
        torch._dynamo.reset()
        gc.collect()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_recorder_sees_through_distributed_data_parallel():
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0, world_size=1)
    try:
        model = build(tiny_spec(), seed=0)
        ddp = nn.parallel.DistributedDataParallel(model)
        rec = GradientRecorder(ddp, every=1)
        expected = _train(model, rec, steps=2, forward=ddp)
        columns = rec.drain()
        assert [c.step for c in columns] == [1, 2]
        for c in columns:
            np.testing.assert_allclose(c.norms, expected[c.step], rtol=1e-5)
        rec.close()
    finally:
        dist.destroy_process_group()


def test_recorded_steps_carry_each_blocks_residual_size_nan_where_no_shortcut_is_added():
    spec = tiny_spec()
    model = build(spec, seed=0)
    model.blocks()[1].set_skip(False)
    x, y = seeded_batch(spec.input_shape, 10, 8)
    expected = residual_sizes(model, x)
    with GradientRecorder(model, every=1) as rec:
        assert rec.arm(0)
        nn.functional.cross_entropy(model(x), y).backward()
        rec.collect(0)
        (column,) = rec.drain()
    assert np.isnan(column.residual[1]) and np.isnan(expected.ratio[1])
    np.testing.assert_allclose(column.residual[[0, 2]], expected.ratio[[0, 2]], rtol=1e-5)
