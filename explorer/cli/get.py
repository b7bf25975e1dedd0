"""``get NAME``: fetch a dataset or torchvision's ImageNet weights by name; ``get --list``.

The table, the folder and the transfer are ``explorer.downloads``'s; this module prints
(a tqdm bar on stderr: size, rate, time left); Ctrl+C (``spec/interrupt.py``) stops the
transfer between two chunks, so an interrupted download leaves only its ``.part`` file,
which the same command continues (exit status 130). Every failure ends in one ``error:``
line (exit status 2).
"""
from __future__ import annotations

import sys

from . import CliError


def register(sub) -> None:
    p = sub.add_parser("get", help="download a dataset or pretrained weights by name (get --list shows them)",
                       description="Download a dataset or torchvision's ImageNet weights by name, verified by "
                                   "hash, into the cache folder; afterwards the name works wherever a dataset or "
                                   "weights file is asked for (--dataset cifar10, --init-weights resnet50). "
                                   "RESNET_EXPLORER_MIRROR=BASE_URL fetches the same file names from another "
                                   "server; RESNET_EXPLORER_DOWNLOADS=DIR changes the folder for good.")
    p.add_argument("names", nargs="*", metavar="NAME", help="what to fetch (several may be given)")
    p.add_argument("--list", action="store_true", help="every name with its size, how it is verified and "
                                                       "whether it is here")
    p.add_argument("--dir", metavar="DIR", help="the folder to download into (default: the platform's cache "
                                                "folder, or RESNET_EXPLORER_DOWNLOADS)")
    p.add_argument("--from-file", metavar="FILE", action="append", default=[],
                   help="adopt a file fetched elsewhere (or a folder holding the files), verified by its hash, "
                        "instead of downloading; may be repeated (mnist has four files)")
    p.add_argument("--hashes", action="store_true", help="with --list: print each file's URL, hashes and sources")
    p.set_defaults(func=cmd_get)


def cmd_get(args) -> int:
    from ..downloads import BY_NAME, downloads_dir

    if args.list:
        _print_list(args.dir, args.hashes)
        return 0
    if not args.names:
        raise CliError("name what to get (get --list shows every name)")
    unknown = [n for n in args.names if n.strip().lower() not in BY_NAME]
    if unknown:
        raise CliError(f"unknown name {unknown[0]!r}; known: {', '.join(BY_NAME)}")
    if args.from_file and len(args.names) != 1:
        raise CliError("--from-file adopts the files of one name at a time")
    for name in args.names:
        _get_one(BY_NAME[name.strip().lower()], args)
    if args.dir:
        print(f"to use these names elsewhere, set RESNET_EXPLORER_DOWNLOADS={downloads_dir(args.dir)}")
    return 0


def _get_one(entry, args) -> None:
    from ..downloads import DownloadError, DownloadStopped, adopt, fetch, is_ready, local_path, size_text

    if is_ready(entry, args.dir) and not args.from_file:
        print(f"{entry.name}: already here, {local_path(entry, args.dir)}")
        return
    if args.from_file:
        try:
            adopt(entry, args.from_file, args.dir)
        except DownloadError as err:
            raise CliError(f"{entry.name}: {err}") from None
        print(f"{entry.name}: adopted, verified with {entry.checks}: {local_path(entry, args.dir)}")
        return
    from ..spec import interrupt

    stop = {"asked": False}
    bar = _Bar()
    print(f"{entry.name}: {entry.title}, {size_text(entry)}", flush=True)
    interrupt.phase("connecting")  # the test hook's names (spec/interrupt.py); nothing else
    try:  # Ctrl+C (spec/interrupt.py): the first stops after this chunk, keeping the part; a second interrupts
        with interrupt.stop_first(lambda: stop.update(asked=True), "chunk"):
            fetch(entry, args.dir, progress=bar.update, announce=bar.start,
                  cancelled=lambda: stop["asked"] or interrupt.requested())
    except DownloadStopped as err:
        bar.close()
        interrupt.check()  # a second press: "interrupted" was said, status 130
        print(f"{entry.name}: {err}", file=sys.stderr, flush=True)
        raise interrupt.Interrupted from None  # stopped, not fetched: status 130, nothing more said
    except DownloadError as err:
        bar.close()
        raise CliError(f"{entry.name}: {err}") from None
    finally:
        bar.close()
    print(f"{entry.name}: verified with {entry.checks}: {local_path(entry, args.dir)}", flush=True)


class _Bar:
    """One tqdm bar per file on stderr: bytes, rate and time left."""

    def __init__(self):
        self.bar = None
        self.label = ""

    def start(self, index: int, count: int, filename: str) -> None:
        self.close()
        self.label = filename if count == 1 else f"{filename} ({index + 1}/{count})"

    def update(self, done: int, total: int | None) -> None:
        from tqdm import tqdm

        from ..spec import interrupt

        interrupt.phase("chunk")

        if self.bar is None:
            self.bar = tqdm(total=total, initial=done, unit="B", unit_scale=True, unit_divisor=1000,
                            desc=self.label, file=sys.stderr, dynamic_ncols=True, mininterval=0.5)
        else:
            self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _print_list(folder, hashes: bool) -> None:
    from ..downloads import ENTRIES, downloads_dir, is_ready, size_text

    print(f"folder: {downloads_dir(folder)}")
    print(f"{'name':<15} {'kind':<8} {'size':>14}  {'here':<4}  {'SHA-256 (first digits)':<23} verified with")
    for e in ENTRIES:
        first = e.parts[0]
        digest = f"{first.sha256[:16]}…" if first.sha256 else f"{first.sha256_prefix} (all known)"
        if len(e.parts) > 1:
            digest = f"{len(e.parts)} files: --hashes"
        print(f"{e.name:<15} {e.kind:<8} {size_text(e):>14}  {'yes' if is_ready(e, folder) else 'no':<4}  "
              f"{digest:<23} {e.checks}")
        if hashes:
            for p in e.parts:
                print(f"    {p.url}")
                for label, value in (("sha256", p.sha256), ("sha256 prefix", None if p.sha256 else p.sha256_prefix),
                                     ("md5", p.md5), ("bytes", f"{p.size:,}" if p.size else None)):
                    if value:
                        print(f"      {label}: {value}")
                print(f"      source: {p.source}")
            if e.note:
                print(f"    note: {e.note}")
    print("torchvision publishes only the first 8 hex digits of each file's SHA-256 (in its name); the full "
          "digests here come from other projects that fetched the files, and 'SHA-256 prefix' marks the two "
          "files for which none was found (torchvision itself checks only the prefix). Every recorded hash must "
          "match. get --list --hashes shows each file's hashes and where they were found; docs/DATA.md says more.")
