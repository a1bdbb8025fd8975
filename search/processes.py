"""Child processes that must not outlive the process that started them, and that send back
their answer or their error.

A build's index writers (forked) and its related-articles process (spawned), and the admin
API beside `gupshup serve`, work for one parent. Killed with it (kill -9, the out-of-memory
killer), they would otherwise run on: a forked writer holds the build's lock file, so every
new build was refused until it had written its whole share (the review of 2026-11-29 found
it). Linux ends them with the parent; elsewhere nothing is asked.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

_PR_SET_PDEATHSIG = 1
T = TypeVar("T")


def die_with_parent(parent_pid: int, sig: signal.Signals = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when its parent dies; exit at once if
    `parent_pid` (the parent as the parent saw itself) is already gone."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, int(sig))
    if os.getppid() != parent_pid:  # the parent went before the signal was asked for
        os._exit(1)


class ChildDied(Exception):
    """The child ended without sending an answer (killed, or it crashed)."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(f"exit code {exitcode}")
        self.exitcode = exitcode


class ChildRaised(Exception):
    """The child's target raised `error`, relayed here."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(f"{type(error).__name__}: {error}")
        self.error = error


class ChildProcess(Generic[T]):
    """`target(*args)` run now in a child process (`method`: "fork" shares this process's
    memory, "spawn" starts afresh and pickles the arguments) that dies with this one;
    `result()` waits for what it returns. The build's index writers and its related half."""

    def __init__(self, method: str, target: Callable[..., T], *args: Any) -> None:
        context: Any = multiprocessing.get_context(method)  # fork or spawn, same interface
        self._receive: Connection
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_run, args=(send, os.getpid(), target, args), daemon=True
        )
        self._process.start()
        send.close()  # the child holds the only writing end: EOF means it died

    def ready(self, timeout: float) -> bool:
        """Whether `result()` would answer at once (an answer, or the child's end)."""
        return self._receive.poll(timeout)

    def result(self) -> T:
        """What the target returned; ChildRaised with what it raised; ChildDied when the
        child ended without either."""
        try:
            answer = self._receive.recv()
        except EOFError:
            answer = None
        # Not joined when the wait is interrupted (a signal's handler raising): the child may
        # be stuck sending an answer nobody reads, and waiting for it would never return;
        # the caller stops it (`stop`).
        self._process.join()
        self._receive.close()
        if answer is None:
            raise ChildDied(self._process.exitcode)
        raised, outcome = answer
        if raised:
            raise ChildRaised(outcome)
        return outcome  # type: ignore[no-any-return]

    def stop(self) -> None:
        """Ends the child if it still runs (the work failed elsewhere)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()


def _run(send: Connection, parent: int, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    try:
        send.send((False, target(*args)))
    except BaseException as exc:  # relayed, and raised again in the parent (result)
        try:
            send.send((True, exc))
        except Exception:  # an exception that does not pickle: its type and message
            send.send((True, RuntimeError(f"{type(exc).__name__}: {exc}")))
    finally:
        send.close()
