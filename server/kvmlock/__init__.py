"""kvmlock: locking checks for Linux KVM C code, with rules read from locking.rst."""

__version__ = "0.1.0"
