"""Keeps one tritonserver running: restarts it when it exits, and kills and restarts it when it stops
answering its health probe or logs one of the fatal errors after which Triton 2.51 hangs.

Why: Triton 2.51 (the only server binary a reachable package ships, nvidia-pytriton 0.7.0) crashes
under bursts of cancelled requests (`ASSERTION FAILED: ops_`, `ASSERTION FAILED: prior > 0`,
`double free or corruption`), probably triton-inference-server/server#7368, fixed in 24.12. After a
double free it may hang instead of exiting, ignoring SIGTERM, with every request timing out. An exit
is the easy case; a hang is caught by the probe (or by the fatal line in the log) and ends in SIGKILL.

Usage (scripts/triton/start.sh runs it): supervise.py -- /path/to/tritonserver ARGS...
Settings come from the environment (defaults in scripts/triton/env.sh):
  TRITON_HTTP_PORT            the server's HTTP port, probed at /v2/health/live
  TRITON_LOG                  the server's log; the server's output and these supervisor lines are appended
  TRITON_PID_FILE             receives the current server's pid on every (re)start
  TRITON_PROBE_INTERVAL_S     seconds between probes (1)
  TRITON_PROBE_TIMEOUT_S      seconds one probe may take (2: a busy 2-core machine must not get a healthy
                              server killed)
  TRITON_PROBE_FAILURES       consecutive failed probes that count as a hang (3)
  TRITON_START_TIMEOUT        seconds a (re)started server has to answer its first probe (120)
  TRITON_KILL_GRACE_S         seconds between SIGTERM and SIGKILL (3)
  TRITON_RESTART_DELAY_S      pause before a restart, doubled (up to 30 s) while restarts come within
                              a minute of each other, so a server that cannot start does not spin (1)
SIGTERM or SIGINT to the supervisor stops the server (SIGTERM, then SIGKILL after TRITON_EXIT_TIMEOUT + 5 s)
and exits.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

# Lines after which Triton 2.51 aborts or hangs; seeing one means the process is done for.
FATAL = re.compile(r"ASSERTION FAILED|double free or corruption|corrupted size vs\. prev_size|malloc\(\): |free\(\): invalid")


def env_float(name, default):
    value = os.environ.get(name, "")
    return float(value) if value else default


HTTP_PORT = os.environ.get("TRITON_HTTP_PORT", "8100")
LOG = os.environ["TRITON_LOG"]
PID_FILE = os.environ["TRITON_PID_FILE"]
PROBE_INTERVAL = env_float("TRITON_PROBE_INTERVAL_S", 1.0)
PROBE_TIMEOUT = env_float("TRITON_PROBE_TIMEOUT_S", 2.0)
PROBE_FAILURES = int(env_float("TRITON_PROBE_FAILURES", 3))
START_TIMEOUT = env_float("TRITON_START_TIMEOUT", 120.0)
KILL_GRACE = env_float("TRITON_KILL_GRACE_S", 3.0)
STOP_GRACE = env_float("TRITON_EXIT_TIMEOUT", 5.0) + 5.0
RESTART_DELAY = env_float("TRITON_RESTART_DELAY_S", 1.0)

stopping = threading.Event()


def say(message):
    line = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} supervise.py: {message}\n"
    with open(LOG, "a") as log:
        log.write(line)


def live():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/v2/health/live", timeout=PROBE_TIMEOUT) as response:
            return response.status == 200
    except Exception:
        return False


def kill(proc, reason, grace=KILL_GRACE):
    """SIGTERM, then SIGKILL after the grace: a hung 2.51 ignores SIGTERM, and a stopped one cannot act on it.
    The server leads its own process group, so the python backend stubs it started go with it."""
    if proc.poll() is None:
        say(f"stopping tritonserver (pid {proc.pid}): {reason}; SIGTERM, SIGKILL after {grace:g} s")
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            say(f"tritonserver (pid {proc.pid}) ignored SIGTERM for {grace:g} s; SIGKILL")
            proc.kill()
            proc.wait()
    # Stubs left behind by a server that died hold shared memory and CPU; the group is the server's alone.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


class LogWatch:
    """Reads what the server appends to the log, from where it was when the server started."""

    def __init__(self):
        self.offset = os.path.getsize(LOG) if os.path.exists(LOG) else 0

    def fatal_line(self):
        try:
            with open(LOG, "rb") as log:
                log.seek(self.offset)
                chunk = log.read()
        except OSError:
            return None
        # Only whole lines: a fatal line cut in half is read whole on the next round.
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        for line in chunk[:end].decode("utf-8", "replace").splitlines():
            if FATAL.search(line):
                return line.strip()
        return None


def watch(proc):
    """Returns why the server has to go, or None once the supervisor is stopping."""
    log = LogWatch()
    started = time.monotonic()
    seen_live = False
    failures = 0
    fatal_at = None
    while not stopping.wait(PROBE_INTERVAL):
        code = proc.poll()
        if code is not None:
            return f"tritonserver exited with {'signal ' + str(-code) if code < 0 else 'status ' + str(code)}"
        line = log.fatal_line()
        if line and fatal_at is None:
            say(f"fatal line in the log: {line[:200]}")
            fatal_at = time.monotonic()
        # Give a process that logged a fatal error the kill grace to exit on its own (an abort does).
        if fatal_at is not None and time.monotonic() - fatal_at >= KILL_GRACE:
            return "it logged a fatal error and did not exit"
        if live():
            if not seen_live:
                say(f"tritonserver (pid {proc.pid}) is live; probing every {PROBE_INTERVAL:g} s")
            seen_live = True
            failures = 0
            continue
        if not seen_live:
            if time.monotonic() - started > START_TIMEOUT:
                return f"not live {START_TIMEOUT:g} s after starting"
            continue
        failures += 1
        if failures >= PROBE_FAILURES:
            return f"health probe failed {failures} times in a row (hung)"
    return None


def main():
    if len(sys.argv) < 3 or sys.argv[1] != "--":
        sys.exit("usage: supervise.py -- TRITONSERVER ARGS...")
    command = sys.argv[2:]
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    delay = RESTART_DELAY
    last_start = 0.0
    restarts = 0
    while not stopping.is_set():
        last_start = time.monotonic()
        with open(LOG, "ab") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        with open(PID_FILE, "w") as f:
            f.write(f"{proc.pid}\n")
        say(f"started tritonserver (pid {proc.pid}, restart {restarts})")
        reason = watch(proc)
        if reason is None:
            # A clean stop lets Triton finish in-flight work (its own --exit-timeout-secs) and unload.
            kill(proc, "the supervisor was asked to stop", STOP_GRACE)
            break
        say(f"restarting: {reason}")
        kill(proc, reason)
        restarts += 1
        wait = delay if time.monotonic() - last_start < 60 else RESTART_DELAY
        stopping.wait(wait)
        delay = min(wait * 2, 30.0)
    try:
        os.unlink(PID_FILE)
    except FileNotFoundError:
        pass
    say("stopped")


if __name__ == "__main__":
    main()
