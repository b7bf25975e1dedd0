"""The table of what ``python main.py get NAME`` can fetch: datasets and torchvision's ImageNet weights.

Every file is listed with its official location, its size and the hashes that were found
published for it, and where each was found (``Part.source``). Nothing here was computed by
this project: the files could not be fetched while it was written. What a download is
checked against, per file:

- ``sha256``: a full SHA-256 digest, found in a source named in ``source``;
- ``sha256_prefix``: only the first hex digits of the SHA-256, as torchvision puts them in
  its file names (``resnet152-f82ba261.pth``); torchvision itself checks just that prefix;
- ``md5``: an MD5 digest published by the dataset's authors or by torchvision.

A file is accepted only when every hash recorded for it matches. ``get --list`` and
docs/DATA.md say which of them each entry has.
"""
from __future__ import annotations

from dataclasses import dataclass

TORCHVISION_MODELS = "https://download.pytorch.org/models/"
TORONTO = "https://www.cs.toronto.edu/~kriz/"
FASTAI = "https://s3.amazonaws.com/fast-ai-imageclas/"
MNIST_MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
FASHION = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"

TFDS = "TensorFlow Datasets' url_checksums table"
TV_NAME = "the first 8 hex digits of the SHA-256 are in torchvision's file name"


@dataclass(frozen=True)
class Part:
    """One file of an entry."""

    url: str
    size: int | None  # exact bytes where a source gave them
    approx_mb: float  # MiB, for display: from ``size`` or torchvision's "_file_size" (which is in MiB)
    sha256: str | None = None
    sha256_prefix: str | None = None
    md5: str | None = None
    source: str = ""  # where the size and the hashes were found

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]

    @property
    def checks(self) -> list[str]:
        """What a download of this file is verified with, in words."""
        out = []
        if self.sha256:
            out.append("SHA-256")
        elif self.sha256_prefix:
            out.append(f"SHA-256 prefix ({len(self.sha256_prefix)} hex digits)")
        if self.md5:
            out.append("MD5")
        if self.size:
            out.append("size")
        return out


@dataclass(frozen=True)
class Entry:
    """A dataset or a weights file that ``get`` knows by name."""

    name: str
    kind: str  # "dataset" or "weights"
    title: str
    parts: tuple[Part, ...]
    unpack: bool = False  # the parts are .tar.gz archives to unpack
    folder: str = ""  # for a dataset: the folder under the entry's folder that its reader opens
    expect: tuple[str, ...] = ()  # paths (relative to the entry's folder) a complete unpack has
    network: str | None = None  # for weights: the network they fit (a preset, or a VGG of drop-a-block's)
    note: str = ""

    @property
    def checks(self) -> str:
        kinds = []
        for p in self.parts:
            for c in p.checks:
                if c not in kinds:
                    kinds.append(c)
        return " + ".join(kinds)


def _mb(size: int) -> float:
    return round(size / 1_048_576, 3)


def _tv(name: str, file: str, title: str, network: str | None, *, sha256: str | None = None,
        size: int | None = None, approx: float, source: str, note: str = "") -> Entry:
    prefix = file.rsplit("-", 1)[-1].split(".")[0]
    assert sha256 is None or sha256.startswith(prefix), file  # a full digest must agree with its name
    part = Part(TORCHVISION_MODELS + file, size, _mb(size) if size else approx, sha256=sha256,
                sha256_prefix=prefix, source=source)
    return Entry(name, "weights", title, (part,), network=network, note=note)


_RUST_TABLE = "full SHA-256 as listed in a third-party registry of torchvision's checkpoints (it agrees with the name)"
_SIZE = "size: torchvision's _file_size (MiB)"

ENTRIES: tuple[Entry, ...] = (
    Entry("cifar10", "dataset", "CIFAR-10, the python version (60,000 32x32 images, 10 classes)", (
        Part(TORONTO + "cifar-10-python.tar.gz", 170_498_071, _mb(170_498_071),
             sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
             md5="c58f30108f718f92721af3b95e74349a",
             source=f"SHA-256: {TFDS} (cifar10.csv); MD5: the authors' page (also torchvision); size: "
                    "the server's Content-Length as logged by many downloads"),),
          unpack=True, folder="cifar-10-batches-py",
          expect=("cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/test_batch")),
    Entry("cifar100", "dataset", "CIFAR-100, the python version (60,000 32x32 images, 100 classes)", (
        Part(TORONTO + "cifar-100-python.tar.gz", 169_001_437, _mb(169_001_437),
             sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
             md5="eb9058c3a382ffc7106e4002c42a8d85",
             source=f"SHA-256: {TFDS} (cifar100.csv); MD5: the authors' page (also torchvision); size: "
                    "the server's Content-Length as logged by many downloads"),),
          unpack=True, folder="cifar-100-python", expect=("cifar-100-python/train", "cifar-100-python/test")),
    Entry("mnist", "dataset", "MNIST (70,000 28x28 handwritten digits)", tuple(
        Part(MNIST_MIRROR + name, size, _mb(size), sha256=digest, source=f"SHA-256 and size: {TFDS} (mnist.txt)")
        for name, size, digest in (
            ("train-images-idx3-ubyte.gz", 9_912_422,
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            ("train-labels-idx1-ubyte.gz", 28_881,
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            ("t10k-images-idx3-ubyte.gz", 1_648_877,
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            ("t10k-labels-idx1-ubyte.gz", 4_542,
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"))),
          expect=("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
          note="from the Google-hosted copy that TensorFlow Datasets uses (the original site is often down)"),
    Entry("fashion-mnist", "dataset", "Fashion-MNIST (70,000 28x28 images of clothing, 10 classes)", tuple(
        Part(FASHION + name, size, _mb(size), sha256=digest,
             source=f"SHA-256 and size: {TFDS} (fashion_mnist.txt)")
        for name, size, digest in (
            ("train-images-idx3-ubyte.gz", 26_421_880,
             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            ("train-labels-idx1-ubyte.gz", 29_515,
             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            ("t10k-images-idx3-ubyte.gz", 4_422_102,
             "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            ("t10k-labels-idx1-ubyte.gz", 5_148,
             "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"))),
          expect=("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")),
    Entry("imagenette", "dataset", "Imagenette 320 px (10 ImageNet classes; 9,469 training, 3,925 validation images)", (
        Part(FASTAI + "imagenette2-320.tgz", 341_553_947, _mb(341_553_947),
             sha256="5020a9130cea0348272823cb12d2db7e981c6f2afa3dce71ccd5b8013005c55e",
             md5="3df6f0d01a2c9592104656642f5e78a3",
             source=f"SHA-256 and size: {TFDS} (imagenette.txt); MD5: torchvision's Imagenette dataset"),),
          unpack=True, folder="imagenette2-320",
          expect=("imagenette2-320/train/n01440764", "imagenette2-320/val/n01440764")),
    Entry("imagenette-160", "dataset", "Imagenette 160 px (the same images, shorter side 160)", (
        Part(FASTAI + "imagenette2-160.tgz", 98_948_031, _mb(98_948_031),
             sha256="88daccb09b6fce93f45e6c09ddeb269cce705549e6bff322092a2a5a11489863",
             md5="e793b78cc4c9e9a4ccc0c1155377a412",
             source=f"SHA-256 and size: {TFDS} (imagenette.txt); MD5: torchvision's Imagenette dataset"),),
          unpack=True, folder="imagenette2-160",
          expect=("imagenette2-160/train/n01440764", "imagenette2-160/val/n01440764")),
    _tv("resnet18", "resnet18-f37072fd.pth", "ResNet-18, torchvision IMAGENET1K_V1 (69.8% top-1)", "resnet18",
        sha256="f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec", approx=44.661,
        source=f"{TV_NAME}; {_RUST_TABLE}; {_SIZE}"),
    _tv("resnet34", "resnet34-b627a593.pth", "ResNet-34, torchvision IMAGENET1K_V1 (73.3% top-1)", "resnet34",
        sha256="b627a593bcbe140c234610266fe4f8ae95ea42fc881d091c9b6052e6b1d0590f", approx=83.275,
        source=f"{TV_NAME}; {_RUST_TABLE}, and in several projects' checks; {_SIZE}"),
    _tv("resnet50", "resnet50-0676ba61.pth", "ResNet-50, torchvision IMAGENET1K_V1 (76.1% top-1)", "resnet50",
        sha256="0676ba61b6795bbe1773cffd859882e5e297624d384b6993f7c9e683e722fb8a", size=102_530_333,
        approx=97.781, source=f"{TV_NAME}; full SHA-256 and size as recorded by several projects that "
                              "fetched it (they agree with each other and with the name)"),
    _tv("resnet50-v2", "resnet50-11ad3fa6.pth", "ResNet-50, torchvision IMAGENET1K_V2 (80.9% top-1)", "resnet50",
        sha256="11ad3fa62ca79e40addfd354a8ec4b7c75143b3038b8d2a807fbc68deab379ca", size=102_540_417,
        approx=97.79, source=f"{TV_NAME}; full SHA-256 and size as recorded by several projects that fetched it",
        note="V2 weights were evaluated with a resize to 232 (not 256) before the 224 crop"),
    _tv("resnet101", "resnet101-63fe2227.pth", "ResNet-101, torchvision IMAGENET1K_V1 (77.4% top-1)", "resnet101",
        sha256="63fe2227b86e8f1f2063f43a75c84d195911b6a0eace650907dd3dc62dd49a0a", approx=170.511,
        source=f"{TV_NAME}; {_RUST_TABLE}; {_SIZE}"),
    _tv("resnet101-v2", "resnet101-cd907fc2.pth", "ResNet-101, torchvision IMAGENET1K_V2 (81.9% top-1)",
        "resnet101", sha256="cd907fc2a0de2292b2ba2b27d2216bc672d84632d1cf20058d01c0c03b5e020e", approx=170.53,
        source=f"{TV_NAME}; full SHA-256 found in one project's checks (it agrees with the name); {_SIZE}",
        note="V2 weights were evaluated with a resize to 232 (not 256) before the 224 crop"),
    _tv("resnet152", "resnet152-394f9c45.pth", "ResNet-152, torchvision IMAGENET1K_V1 (78.3% top-1)", "resnet152",
        sha256="394f9c45966e3651a89bbb78a48410a6755854ce4a5ab64927cf1c7247f85e58", approx=230.434,
        source=f"{TV_NAME}; {_RUST_TABLE}; {_SIZE}"),
    _tv("resnet152-v2", "resnet152-f82ba261.pth", "ResNet-152, torchvision IMAGENET1K_V2 (82.3% top-1)",
        "resnet152", approx=230.474, source=f"{TV_NAME}; no full SHA-256 was found; {_SIZE}",
        note="V2 weights were evaluated with a resize to 232 (not 256) before the 224 crop"),
    _tv("vgg16", "vgg16-397923af.pth", "VGG-16, torchvision IMAGENET1K_V1 (71.6% top-1)", "vgg16",
        sha256="397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0", size=553_433_881,
        approx=527.796, source=f"{TV_NAME}; full SHA-256 and size as recorded by several projects that fetched it",
        note="drop-a-block's plain ImageNet twin (--twin vgg16)"),
    _tv("vgg16_bn", "vgg16_bn-6c64b313.pth", "VGG-16 with batch norm, torchvision IMAGENET1K_V1 (73.4% top-1)",
        "vgg16_bn", approx=527.866, source=f"{TV_NAME}; no full SHA-256 was found; {_SIZE}",
        note="drop-a-block's plain ImageNet twin (--twin vgg16_bn)"),
)

BY_NAME: dict[str, Entry] = {e.name: e for e in ENTRIES}
DATASETS = tuple(e.name for e in ENTRIES if e.kind == "dataset")
WEIGHTS = tuple(e.name for e in ENTRIES if e.kind == "weights")


def entry(name: str, entries: dict[str, Entry] | None = None) -> Entry | None:
    return (entries or BY_NAME).get(name.strip().lower())
