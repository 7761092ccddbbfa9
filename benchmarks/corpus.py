"""Obtain the real KVM corpus (Debian linux-source-6.1) into a cache outside the repository.

    python benchmarks/corpus.py            # prints the corpus root, fetching it once
    python benchmarks/corpus.py --check    # prints it only if already there (exit 1 if not)
    python benchmarks/corpus.py --release 6.12   # or 7.2: other trees, for real_findings.py

Steps, each skipped when its result is present: `apt-get download linux-source-6.1` (the
Debian package of the kernel release source), `dpkg -x` of the .deb, then untar only
virt/kvm, arch/x86/kvm, arch/arm64/kvm (with its headers and include/kvm), include/linux/kvm*
and Documentation/virt/kvm. Nothing of it is
copied into the repository. The other benchmarks take `--corpus DIR` defaulting to
`default_corpus()`; `KVMLOCK_CORPUS_CACHE` moves the cache (default ~/.cache/kvmlock/corpus).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = "linux-source-6.1"
# Other releases: Debian package and the suite that has it (apt-get is pointed at that suite
# with a private sources list in the cache; the machine's apt configuration is left alone).
RELEASES = {
    "6.1": ("linux-source-6.1", None),
    "6.12": ("linux-source-6.12", "bookworm-backports"),
    "7.2": ("linux-source-7.2", "sid"),
}
MEMBERS = (
    "virt/kvm",
    "arch/x86/kvm",
    "arch/arm64/kvm",
    "arch/arm64/include/asm/kvm*",
    "include/kvm",
    "include/linux/kvm*",
    "Documentation/virt/kvm",
)
# The edits and peers of the benchmarks use these files.
KEY_FILES = (
    "arch/x86/kvm/x86.c",
    "virt/kvm/kvm_main.c",
    "arch/x86/kvm/mmu/mmu.c",
    "arch/arm64/kvm/vgic/vgic.c",
)


def cache_dir() -> Path:
    override = os.environ.get("KVMLOCK_CORPUS_CACHE")
    return Path(override) if override else Path.home() / ".cache" / "kvmlock" / "corpus"


def default_corpus(release: str = "6.1") -> Path:
    """The source root (holding virt/, arch/, include/, Documentation/)."""
    return cache_dir() / "src" / RELEASES[release][0]


def corpus_files(root: Path) -> list[Path]:
    """The C files and headers of the corpus, in a stable order."""
    out: list[Path] = []
    for top in ("virt/kvm", "arch/x86/kvm", "include/linux"):
        base = root / top
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*")):
            if path.suffix in (".c", ".h") and path.is_file():
                if top == "include/linux" and not path.name.startswith("kvm"):
                    continue
                out.append(path)
    return out


def _complete(root: Path) -> bool:
    return (
        all((root / f).is_file() for f in KEY_FILES)
        and (root / "Documentation/virt/kvm/locking.rst").is_file()
    )


def obtain(verbose: bool = True, release: str = "6.1") -> Path:
    package, suite = RELEASES[release]
    root = default_corpus(release)
    if _complete(root):
        return root
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)

    def say(msg: str) -> None:
        if verbose:
            print(f"corpus: {msg}", file=sys.stderr)

    debs = sorted(cache.glob(f"{package}_*_all.deb"))
    if not debs:
        apt = _apt_options(cache, suite) if suite else []
        if suite:
            say(f"apt-get update ({suite}, private lists in {cache})")
            subprocess.run(["apt-get", *apt, "update"], cwd=cache, check=True)
        say(f"apt-get download {package}")
        subprocess.run(["apt-get", *apt, "download", package], cwd=cache, check=True)
        debs = sorted(cache.glob(f"{package}_*_all.deb"))
    tarball = cache / "pkg" / "usr" / "src" / f"{package}.tar.xz"
    if not tarball.is_file():
        say(f"dpkg -x {debs[-1].name}")
        subprocess.run(["dpkg", "-x", str(debs[-1]), str(cache / "pkg")], check=True)
    say(f"untar {' '.join(MEMBERS)}")
    (cache / "src").mkdir(exist_ok=True)
    subprocess.run(
        ["tar", "-xJf", str(tarball), "-C", str(cache / "src"), "--wildcards"]
        + [f"{package}/{m}" for m in MEMBERS],
        check=True,
    )
    if not _complete(root):
        raise SystemExit(f"corpus: {root} is incomplete after extraction")
    return root


def _apt_options(cache: Path, suite: str) -> list[str]:
    """apt-get options for one extra Debian suite, kept under the cache."""
    base = cache / f"apt-{suite}"
    (base / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (base / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    sources = base / "sources.list"
    sources.write_text(f"deb http://deb.debian.org/debian {suite} main\n")
    return [
        "-o", f"Dir::Etc::sourcelist={sources}",
        "-o", "Dir::Etc::sourceparts=-",
        "-o", f"Dir::State::Lists={base / 'lists'}",
        "-o", f"Dir::Cache={base}",
        "-o", "APT::Get::List-Cleanup=0",
    ]


def add_corpus_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help=f"kernel source root (default: {default_corpus()}, fetched by benchmarks/corpus.py)",
    )


def resolve_corpus(value: Path | None) -> Path:
    """--corpus as given, else the cached corpus, fetched if missing."""
    return value if value is not None else obtain()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not fetch; exit 1 if missing")
    parser.add_argument("--release", choices=sorted(RELEASES), default="6.1")
    args = parser.parse_args()
    if args.check:
        root = default_corpus(args.release)
        if not _complete(root):
            raise SystemExit(1)
    else:
        root = obtain(release=args.release)
    print(root)


if __name__ == "__main__":
    main()
