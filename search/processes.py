"""Child processes that must not outlive the process that started them.

A build's index writers (forked) and its related-articles process (spawned), and the admin
API beside `gupshup serve`, work for one parent. Killed with it (kill -9, the out-of-memory
killer), they would otherwise run on: a forked writer holds the build's lock file, so every
new build was refused until it had written its whole share (the review of 2026-11-29 found
it). Linux ends them with the parent; elsewhere nothing is asked.
"""

from __future__ import annotations

import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies; exit at once if
    `parent_pid` (the parent as the parent saw itself) is already gone."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != parent_pid:  # the parent went before the signal was asked for
        os._exit(1)
