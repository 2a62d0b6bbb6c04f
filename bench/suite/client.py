"""The parent's side of a worker process: start it, send commands, read replies, stop it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

from .systems import SystemInfo

WORKER = Path(__file__).resolve().parent / "worker.py"
REPLY_TIMEOUT_S = 3600  # one command (a 1M build at 1 thread is the longest)


class WorkerError(RuntimeError):
    """A command failed in the worker, or the worker died; the message carries its traceback or
    the end of its log."""


def worker_env() -> dict:
    """The environment of every worker: nothing may reach the network (telemetry off)."""
    env = dict(os.environ)
    env.update({"ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
                "CHROMA_TELEMETRY": "False"})
    return env


class Worker:
    """One worker process for one system; use as a context manager."""

    def __init__(self, system: SystemInfo, python: str, log: Path) -> None:
        """Starts ``python worker.py <adapter module>``; stderr goes to ``log`` (appended)."""
        self.system = system
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = open(log, "a", encoding="utf-8")
        self.proc = subprocess.Popen([python, str(WORKER), system.module], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log_file, text=True,
                                     cwd=str(WORKER.parent), env=worker_env())

    def call(self, cmd: str, **args) -> dict:
        """Sends one command and waits for its reply; raises WorkerError when it failed."""
        try:
            self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"{self.system.name}: the worker had exited\n{self.log_tail()}") from None
        ready, _, _ = select.select([self.proc.stdout], [], [], REPLY_TIMEOUT_S)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()
            raise WorkerError(f"{self.system.name}: no reply to {cmd!r} (exit status {self.proc.poll()})\n"
                              f"{self.log_tail()}")
        reply = json.loads(line)
        if not reply.pop("ok"):
            raise WorkerError(f"{self.system.name}: {cmd} failed\n{reply['error']}")
        return reply

    def log_tail(self, lines: int = 30) -> str:
        """The last lines the worker wrote to stderr."""
        self._log_file.flush()
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def close(self) -> None:
        """Asks the worker to release its system and exit; kills it when it does not."""
        if self.proc.poll() is None:
            try:
                self.call("close")
            except (WorkerError, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log_file.close()

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def python_for(system: SystemInfo, pypi_python: str | None) -> str:
    """The interpreter a system's worker runs on: this one, or the earlier OmenDB's venv."""
    return pypi_python if system.separate_python else sys.executable
