"""Drop a layer of a plain ImageNet network (VGG-16): the lessons' twin of dropping a residual block.

VGG-16 has no shortcuts, so a layer can only be taken out where its input and output shapes
match: a 3x3 convolution (stride 1, padding 1) whose input and output channel counts are
equal (9 of its 13: conv1_2, conv2_2, conv3_2, conv3_3, conv4_2, conv4_3, conv5_1, conv5_2,
conv5_3). Removing one removes the convolution with its BatchNorm (VGG-16 with BN) and its
ReLU: the next layer receives what the one before produced. Each removal is measured on the
same test images as the whole network, and the result is a ``DropResult`` like a ResNet's,
so the two distributions of damage are set side by side by the same words (``dropblock_words``).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import torch
from torch import nn

from ..nn.vgg import VGG_NETS, build_vgg, conv_layers
from ..train.api import TrainingError
from .dropblock import BlockDrop, DropResult, accuracies, eval_source, read_weights_named


@dataclass
class TrainedVgg:
    name: str  # vgg16 | vgg16_bn
    state: dict
    normalisation: object  # torchvision's weights expect ImageNet's mean and std
    input_size: int = 224  # the side the test images are resized to (the weights were trained at 224)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (3, self.input_size, self.input_size)

    @property
    def num_classes(self) -> int:
        return VGG_NETS[self.name].num_classes


def load_vgg(path: str, name: str) -> TrainedVgg:
    """torchvision's ImageNet weights for ``name`` (a file, or a name fetched by ``get``); every key and
    shape must fit (TrainingError names the first that does not; the reader names non-finite values)."""
    import os

    from ..train.finetune import Normalisation

    path, weights = read_weights_named(path)
    state = weights.state_dict
    expected = {k: tuple(v.shape) for k, v in _shapes(name).items()}
    missing = [k for k in expected if k not in state]
    extra = [k for k in state if k not in expected]
    if missing or extra:
        first = f"'{missing[0]}' is missing" if missing else f"'{extra[0]}' is not one of {name}'s"
        raise TrainingError(f"{os.path.basename(path)} is not {name}'s weights: {first} "
                            f"({len(missing)} missing, {len(extra)} unexpected)")
    for k, shape in expected.items():
        got = tuple(state[k].shape)
        if got != shape:
            raise TrainingError(f"{os.path.basename(path)}: '{k}' has shape {got}, {name} needs {shape}")
    return TrainedVgg(name, state, Normalisation.imagenet())


_SHAPES: dict = {}


def _shapes(name: str) -> dict:
    """The state_dict's names and shapes for ``name`` (from a model on the meta device: no memory)."""
    if name not in _SHAPES:
        with torch.device("meta"):
            _SHAPES[name] = {k: v for k, v in build_vgg(name).state_dict().items()}
    return _SHAPES[name]


@contextmanager
def removed(model, indices: tuple[int, ...]):
    """``model`` with the modules at ``indices`` of ``features`` replaced by nothing; restored afterwards."""
    saved = {i: model.features[i] for i in indices}
    for i in indices:
        model.features[i] = nn.Identity()
    try:
        yield model
    finally:
        for i, m in saved.items():
            model.features[i] = m


def drop_each_layer(trained: TrainedVgg, data, device: str | torch.device = "cpu", on_block=None,
                    should_stop=None) -> DropResult:
    """Test accuracy of the trained VGG with each shape-keeping convolution removed in turn (the others
    are listed as not removable, with why); ``on_block(drop, result)`` after each."""
    if data.num_classes != trained.num_classes and not getattr(data, "subset", None):
        raise TrainingError(f"{data.name} has {data.num_classes} classes but {trained.name}'s head has "
                            f"{trained.num_classes} outputs: these weights were not trained on it")
    device = torch.device(device)
    with torch.device("meta"):  # no initialisation of 138M weights that the trained ones replace at once
        model = build_vgg(trained.name)
    model = model.to_empty(device=device)
    model.load_state_dict(trained.state)
    model.eval()
    source = eval_source(SimpleNamespace(input_shape=trained.input_shape), data, device,
                         normalisation=trained.normalisation)
    subset = getattr(data, "subset", None)
    if subset and trained.num_classes <= max(subset):
        subset = None
    measured = accuracies(model, source, subset)
    layers = conv_layers(model)
    result = DropResult(trained.name, measured[0], baseline_top5=measured[1], total_blocks=len(layers),
                        images=source.test_size, baseline_subset=measured[2] if subset else None,
                        subset_size=len(subset) if subset else None, classes=data.num_classes)
    for position, layer in enumerate(layers):
        if should_stop is not None and should_stop():
            result.stopped = True
            break
        acc = acc5 = sub = None
        reason = ""
        if layer.keeps_shape:
            with removed(model, layer.indices):
                acc, acc5, *rest = accuracies(model, source, subset)
                sub = rest[0] if rest else None
        else:
            reason = (f"no shortcut, and it changes the channels from {layer.in_channels} to {layer.out_channels}: "
                      "the layer after it would get an input of the wrong shape")
        drop = BlockDrop(position, layer.label, False, acc, reason, not layer.keeps_shape, acc5, sub)
        result.drops.append(drop)
        if on_block is not None:
            on_block(drop, result)
    return result


@dataclass
class VggDropJob:
    """A VGG to measure on the drop-a-block page's runner (``DropRunner`` calls ``measure``)."""
    trained: TrainedVgg
    dataset: str
    test_size: int | None = None

    def load_data(self):
        from ..train.datasets import load_dataset

        h, w = self.trained.input_shape[1:]
        return load_dataset(self.dataset, test_size=self.test_size, image_size=(h, w),
                            head_classes=self.trained.num_classes)

    def measure(self, device, on_block=None, should_stop=None) -> DropResult:
        return drop_each_layer(self.trained, self.load_data(), device, on_block, should_stop)
