"""Run a command, and stop it when an owner process dies: `python supervise.py OWNER_PID -- COMMAND...`.

The fake `minikube start` leaves the API server double running after it exits, as real minikube leaves its
cluster. Inside pytest the fixture stops the doubles at teardown, but a test run that is killed (a hard timeout,
a crashed worker) skips teardown; this watchdog then stops the double once pytest (FAKE_TOOLS_OWNER_PID) is gone,
so no test run leaves servers behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    owner = int(argv[0])
    command = argv[argv.index("--") + 1 :]
    child = subprocess.Popen(command)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while child.poll() is None:
        if stopping or not alive(owner):
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
            break
        time.sleep(0.2)
    return child.wait()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
