"""Shared pieces of the command-line tests (a uniquely named module: test directories are
not packages here)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

# kvm->lock belongs outside kvm->slots_lock in every rule base kvmlock ships with.
BAD_ORDER = """\
static void kvm_bad_order(struct kvm *kvm)
{
	mutex_lock(&kvm->slots_lock);
	mutex_lock(&kvm->lock);
	mutex_unlock(&kvm->lock);
	mutex_unlock(&kvm->slots_lock);
}
"""

GOOD_ORDER = """\
static void kvm_good_order(struct kvm *kvm)
{
	mutex_lock(&kvm->lock);
	mutex_lock(&kvm->slots_lock);
	mutex_unlock(&kvm->slots_lock);
	mutex_unlock(&kvm->lock);
}
"""


@dataclass
class Run:
    code: int
    out: str
    err: str


def run_subprocess(*args: str | os.PathLike[str], cwd: Path = REPO) -> Run:
    """Run `python -m kvmlock ARGS...` as a user would, whether or not it is pip-installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "server"), env.get("PYTHONPATH", "")) if p
    )
    env.pop("NO_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "kvmlock", *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def write_c(directory: Path, name: str, code: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code), encoding="utf-8")
    return path
