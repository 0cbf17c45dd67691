"""`dvk run` started again and again without importing it again, for
``tests/test_kill_storm.py``.

    python -m tests.run_forker

Imports the bot once (aiogram's types take seconds), then for each line read on stdin
forks a child that runs ``dvk run`` exactly as the command does (its own event loop, the
settings from the environment) and prints the child's pid; the test kills the child with
SIGKILL or SIGTERM. A line "wait PID" prints that child's exit status once it has ended.
"""

from __future__ import annotations

import os
import sys

from bot.cli import main


def serve() -> None:
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "wait":
            _, status = os.waitpid(int(words[1]), 0)
            print(os.waitstatus_to_exitcode(status), flush=True)
            continue
        pid = os.fork()
        if pid == 0:  # the child: what it prints is not the test's business
            sys.stdin.close()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            try:
                main(["run"])
            except SystemExit as end:
                os._exit(end.code if isinstance(end.code, int) else 1)
            os._exit(0)
        print(pid, flush=True)


if __name__ == "__main__":
    serve()
