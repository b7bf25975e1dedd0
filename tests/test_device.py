"""Device choice: CUDA, then Apple MPS, then the CPU; the per-device defaults; clear refusals.

This machine has neither CUDA nor MPS, so availability is patched: what is checked is the
choice and the wording a user sees, not the accelerators themselves.
"""
import pytest
import torch

from explorer.train import device as dev
from explorer.train.api import TrainingError


@pytest.fixture
def machine(monkeypatch):
    """Pretend this machine has ``gpus`` CUDA devices and/or MPS."""
    def have(gpus: int = 0, mps: bool = False):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
        monkeypatch.setattr(dev, "mps_available", lambda: mps)
    return have


@pytest.mark.parametrize("gpus, mps, expected", [
    (2, True, torch.device("cuda", 0)),
    (0, True, torch.device("mps")),
    (0, False, torch.device("cpu")),
])
def test_auto_prefers_cuda_then_mps_then_cpu(machine, gpus, mps, expected):
    machine(gpus, mps)
    assert dev.resolve_device("auto") == expected
    assert dev.resolve_device("") == expected  # an empty setting means auto too


def test_under_torchrun_a_bare_cuda_means_this_process_gpu(machine):
    machine(gpus=4)
    assert dev.resolve_device("cuda", local_rank=3) == torch.device("cuda", 3)
    assert dev.resolve_device("auto", local_rank=2) == torch.device("cuda", 2)
    assert dev.resolve_device("cuda:1", local_rank=3) == torch.device("cuda", 1)  # explicit wins


def test_the_user_can_choose_the_cpu_even_with_a_gpu(machine):
    machine(gpus=1, mps=True)
    assert dev.resolve_device("CPU ") == torch.device("cpu")


@pytest.mark.parametrize("gpus, mps, name, words", [
    (0, False, "cuda", "sees no CUDA GPU"),
    (1, False, "cuda:3", "cuda:3 asked for but only 1 GPU"),
    (0, False, "mps", "Apple MPS was asked for but is not available"),
    (0, False, "tpu", "unknown device 'tpu'"),
    (0, False, "meta", "training on meta is not supported"),
])
def test_unusable_devices_are_refused_with_the_reason(machine, gpus, mps, name, words):
    machine(gpus, mps)
    with pytest.raises(TrainingError, match=words):
        dev.resolve_device(name)


def test_bf16_and_channels_last_are_the_cuda_defaults_only():
    cuda, cpu, mps = torch.device("cuda", 0), torch.device("cpu"), torch.device("mps")
    assert dev.amp_dtype("auto", cuda) is torch.bfloat16
    assert dev.amp_dtype("auto", cpu) is None and dev.amp_dtype("auto", mps) is None
    assert dev.amp_dtype("bf16", cpu) is torch.bfloat16  # asked for explicitly
    assert dev.amp_dtype("off", cuda) is None
    assert dev.use_channels_last("auto", cuda) and not dev.use_channels_last("auto", cpu)
    assert dev.use_channels_last("on", cpu) and not dev.use_channels_last("off", cuda)


def test_out_of_memory_is_recognised_in_its_several_forms():
    assert dev.is_out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert dev.is_out_of_memory(RuntimeError("MPS backend out of memory (MPS allocated: 9 GB)"))
    assert not dev.is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not dev.is_out_of_memory(ValueError("out of memory"))  # only runtime errors mean the device
