"""Child processes of a build: an interrupted wait for one's answer ends, and stops it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = """
import os, signal, threading, time
from search.processes import ChildProcess

def answer_bigger_than_a_pipe():
    time.sleep(1)
    return b"x" * 1_000_000  # the child blocks in send() until someone reads

class Interrupted(Exception):
    pass

def interrupt(signum, frame):
    raise Interrupted()

signal.signal(signal.SIGUSR1, interrupt)
child = ChildProcess("fork", answer_bigger_than_a_pipe)
threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1)).start()
try:
    child.result()
except Interrupted:
    child.stop()
    print("stopped", child._process.exitcode)
"""


def test_an_interrupted_wait_for_an_answer_returns_and_the_child_can_be_stopped() -> None:
    """A signal whose handler raises (as Ctrl-C sent to the build's process alone does)
    while the build waits for a child's answer: waiting for the child to end as well, as
    the first version did, never returned (the child was blocked sending an answer larger
    than the pipe holds). Run in a process of its own so a hang fails the test."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["stopped", "-15"]  # ended by stop()'s SIGTERM
