"""The identity exercise: can a block learn to output exactly its input?

The lessons ask whether a plain block ``ReLU(Wx + b)`` can reproduce every input x (no: its
output is never negative, so the negative components of x are lost whatever W and b are) and
whether a residual block ``x + ReLU(Wx + b)`` can (yes: W = 0 and b = 0 give F(x) = 0). This
experiment trains both to reproduce their input on data with negative components, and then
stacks of k blocks of each kind, all initialised as usual (PyTorch's own ``nn.Linear``
initialisation: weights and biases uniform in +-1/sqrt(features))
and trained the same way (full-batch Adam on the mean squared error against the input).

What the plain block cannot do is computed exactly from the data: its output is at least 0,
so on a negative component the best it can give is 0, and its mean squared error is at
least the mean of min(x, 0)^2 over every component (the energy of the negative part). W = I,
b = 0 reaches that floor exactly, so it is the plain block's best, not only a bound.
The run is small and fast (a few seconds on a CPU): 16 features, 1,024 samples.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace

from ..spec.errors import SpecError
from ..spec.params import check_number, check_seed

DEPTHS = (1, 2, 4, 8, 16)
KINDS = ("plain", "residual")


@dataclass(frozen=True)
class IdentitySettings:
    features: int = 16  # components of each input
    samples: int = 1024
    steps: int = 400  # full-batch steps for every model
    lr: float = 0.01  # Adam
    weight_decay: float = 1e-3  # AdamW's, on the weights (not the biases): drives unused weights to 0
    depths: tuple[int, ...] = DEPTHS  # the stacks' numbers of blocks
    seed: int = 0

    def __post_init__(self):
        for name, low, high in (("features", 1, 1024), ("samples", 2, 1_000_000), ("steps", 1, 100_000)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise SpecError(f"--{name} must be a whole number from {low} to {high:,}, got {v!r}",
                                where="experiment")
        check_number(self.lr, "--lr", hi=1e6, above=0.0, where="experiment")  # spec.params: one rule for numbers
        check_number(self.weight_decay, "--weight-decay", 0.0, 1e3, where="experiment")
        if not self.depths or any(isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 64
                                  for k in self.depths):
            raise SpecError(f"--depths must be numbers of blocks from 1 to 64, got {self.depths!r}",
                            where="experiment")
        if len(set(self.depths)) != len(self.depths):
            raise SpecError(f"--depths lists a depth twice: {self.depths!r}", where="experiment")
        check_seed(self.seed, "--seed", where="experiment")
        object.__setattr__(self, "depths", tuple(sorted(self.depths)))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["depths"] = list(self.depths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "IdentitySettings":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        if "depths" in known:
            known["depths"] = tuple(known["depths"])
        return cls(**known)

    def text(self) -> str:
        return (f"{self.features} features, {self.samples:,} samples from a standard normal, {self.steps} "
                f"full-batch Adam steps at learning rate {self.lr:g}, weight decay {self.weight_decay:g}, "
                f"seed {self.seed}")


@dataclass
class Fit:
    """One model trained to reproduce its input: the error (mean squared, per component) every
    ``every`` steps, and the weights' norm (Frobenius, over every block) at the same steps."""
    kind: str  # plain | residual
    blocks: int
    errors: list[float] = field(default_factory=list)
    weight_norms: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.kind} x{self.blocks}"

    @property
    def final_error(self) -> float:
        return self.errors[-1] if self.errors else math.nan

    def to_dict(self) -> dict:
        return {"kind": self.kind, "blocks": self.blocks, "steps": list(self.steps), "errors": list(self.errors),
                "weight_norms": list(self.weight_norms), "final_error": self.final_error}

    @classmethod
    def from_dict(cls, d: dict) -> "Fit":
        return cls(str(d["kind"]), int(d["blocks"]), [float(x) for x in d["errors"]],
                   [float(x) for x in d["weight_norms"]], [int(x) for x in d["steps"]])


@dataclass
class IdentityResult:
    settings: IdentitySettings
    floor: float  # mean of min(x, 0)^2 over every component: the plain block's best error
    initial_error_scale: float  # mean of x^2: the error of outputting 0 everywhere
    single: dict = field(default_factory=dict)  # kind -> Fit of one block
    stacks: dict = field(default_factory=dict)  # (kind, k) -> Fit
    stopped: bool = False

    @property
    def models(self) -> int:
        """How many models the whole exercise trains (a stack of one block is the single block)."""
        return 2 + 2 * len([k for k in self.settings.depths if k != 1])

    @property
    def trained(self) -> int:
        return len(self.single) + len([key for key in self.stacks if key[1] != 1])

    def stack(self, kind: str) -> list[Fit]:
        return [self.stacks[(kind, k)] for k in self.settings.depths if (kind, k) in self.stacks]

    def to_dict(self) -> dict:
        return {"settings": self.settings.to_dict(), "floor": self.floor,
                "zero_output_error": self.initial_error_scale, "stopped": self.stopped,
                "single": {k: f.to_dict() for k, f in self.single.items()},
                "stacks": [f.to_dict() for f in self.stacks.values()]}

    @classmethod
    def from_dict(cls, d: dict) -> "IdentityResult":
        r = cls(IdentitySettings.from_dict(d["settings"]), float(d["floor"]), float(d["zero_output_error"]),
                stopped=bool(d.get("stopped", False)))
        r.single = {k: Fit.from_dict(f) for k, f in d["single"].items()}
        for f in d["stacks"]:
            fit = Fit.from_dict(f)
            r.stacks[(fit.kind, fit.blocks)] = r.single[fit.kind] if fit.blocks == 1 and fit.kind in r.single else fit
        return r


def make_data(settings: IdentitySettings):
    """The inputs (samples x features, standard normal) and their floor for a plain block."""
    import torch

    g = torch.Generator().manual_seed(settings.seed)
    x = torch.randn(settings.samples, settings.features, generator=g)
    floor = float((x.clamp(max=0) ** 2).mean())
    return x, floor, float((x ** 2).mean())


def _model(kind: str, blocks: int, features: int, seed: int):
    import torch
    from torch import nn

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList(nn.Linear(features, features) for _ in range(blocks))
            g = torch.Generator().manual_seed(seed)
            bound = 1.0 / math.sqrt(features)
            with torch.no_grad():  # PyTorch's own nn.Linear initialisation, from this model's seed
                for layer in self.layers:
                    layer.weight.copy_((torch.rand(features, features, generator=g) * 2 - 1) * bound)
                    layer.bias.copy_((torch.rand(features, generator=g) * 2 - 1) * bound)

        def forward(self, x):
            for layer in self.layers:
                f = torch.relu(layer(x))
                x = x + f if kind == "residual" else f
            return x

    return Stack()


def fit(x, kind: str, blocks: int, settings: IdentitySettings, cancelled=lambda: False, points: int = 40) -> Fit:
    """Train one model of ``blocks`` blocks of ``kind`` to output ``x``; record ``points`` times."""
    import torch

    model = _model(kind, blocks, settings.features, settings.seed + 1000 * blocks + (kind == "residual"))
    weights = [layer.weight for layer in model.layers]
    biases = [layer.bias for layer in model.layers]
    opt = torch.optim.AdamW([{"params": weights, "weight_decay": settings.weight_decay},
                             {"params": biases, "weight_decay": 0.0}], lr=settings.lr)
    every = max(1, settings.steps // points)
    out = Fit(kind, blocks)

    def record(step: int, err: float) -> None:
        with torch.no_grad():
            norm = math.sqrt(sum(float((w ** 2).sum()) for w in weights))
        out.steps.append(step)
        out.errors.append(err)
        out.weight_norms.append(norm)

    for step in range(settings.steps):
        opt.zero_grad(set_to_none=True)
        loss = ((model(x) - x) ** 2).mean()
        if step % every == 0:
            record(step, float(loss.detach()))
        if cancelled():
            return out
        loss.backward()
        opt.step()
    with torch.no_grad():
        record(settings.steps, float(((model(x) - x) ** 2).mean()))
    return out


def run_identity(settings: IdentitySettings, on_fit=lambda fit, done, total: None,
                 cancelled=lambda: False) -> IdentityResult:
    """The whole exercise: one block of each kind, then the stacks; ``on_fit`` after each model.

    ``cancelled()`` is polled every step; a cancelled run returns what finished, marked ``stopped``.
    """
    import torch

    with torch.random.fork_rng(devices=[]):
        x, floor, scale = make_data(settings)
        result = IdentityResult(settings, floor, scale)
        # a stack of one block is the single block itself (same seed, same training): trained once
        jobs = [("single", kind, 1) for kind in KINDS] + [("stack", kind, k) for k in settings.depths
                                                         for kind in KINDS if k != 1]
        for i, (group, kind, k) in enumerate(jobs):
            if cancelled():
                result.stopped = True
                break
            model_fit = fit(x, kind, k, settings, cancelled)
            if cancelled():
                result.stopped = True
                break
            if group == "single":
                result.single[kind] = model_fit
                if 1 in settings.depths:
                    result.stacks[(kind, 1)] = model_fit
            else:
                result.stacks[(kind, k)] = model_fit
            on_fit(model_fit, i + 1, len(jobs))
    return result


def with_changes(settings: IdentitySettings, **changes) -> IdentitySettings:
    return replace(settings, **{k: v for k, v in changes.items() if v is not None})


class IdentityRunner:
    """The exercise as the app's worker and the CLI drive it: ``run(on_event)`` calls
    ``on_event(0, (fit, done, total))`` after each model and returns the ``IdentityResult``
    (also kept in ``result``); ``stop()`` ends it within one step; a failure (out of memory)
    is one sentence in ``error``."""

    def __init__(self, settings: IdentitySettings):
        self.settings = settings
        self.stopped = False
        self.error = ""
        self.result: IdentityResult | None = None

    def stop(self) -> None:
        self.stopped = True

    def run(self, on_event) -> IdentityResult | None:
        try:
            self.result = run_identity(self.settings, lambda f, done, total: on_event(0, (f, done, total)),
                                       lambda: self.stopped)
        except MemoryError:
            self.error = (f"Out of memory training {self.settings.samples:,} samples of {self.settings.features} "
                          "features: use fewer samples or features.")
        except RuntimeError as exc:  # torch's own out-of-memory and allocation errors
            self.error = f"The identity exercise failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return self.result
