"""One bot per data directory, and a crashed one never blocks the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bot.runtime.lock import AlreadyRunning, InstanceLock, running_pid


def test_a_second_instance_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    first = InstanceLock.acquire(tmp_path)
    try:
        assert running_pid(tmp_path) == os.getpid()
        with pytest.raises(AlreadyRunning, match=f"process {os.getpid()}") as refused:
            InstanceLock.acquire(tmp_path)
        assert "TNL_DATA_DIR" in str(refused.value)
    finally:
        first.release()
    assert running_pid(tmp_path) is None
    InstanceLock.acquire(tmp_path).release()


def test_the_lock_of_a_killed_bot_is_free(tmp_path: Path) -> None:
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, pathlib; from bot.runtime.lock import InstanceLock; "
            "InstanceLock.acquire(pathlib.Path(sys.argv[1])); print('locked', flush=True); "
            "sys.stdin.read()",
            str(tmp_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == "locked\n"
            assert running_pid(tmp_path) == holder.pid
            with pytest.raises(AlreadyRunning):
                InstanceLock.acquire(tmp_path)
        finally:
            holder.send_signal(signal.SIGKILL)
            holder.wait()
    # The pid file is still there, with a dead pid: it no longer counts.
    assert (tmp_path / "tnl-bot.pid").exists()
    assert running_pid(tmp_path) is None
    lock = InstanceLock.acquire(tmp_path)
    assert running_pid(tmp_path) == os.getpid()
    lock.release()
