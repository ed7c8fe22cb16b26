#!/usr/bin/env python3
"""Runs a command and prints its wall time, peak resident memory and CPU time (from wait4's rusage),
as `wall_s=... max_rss_kib=... cpu_s=...` on stderr after the command's own output.

Usage: measure.py CMD [ARGS...]
"""

import os
import subprocess
import sys
import time


def main():
    start = time.monotonic()
    proc = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"measure: wall_s={wall:.2f} max_rss_kib={usage.ru_maxrss} cpu_s={cpu:.2f}",
        file=sys.stderr,
    )
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code)


if __name__ == "__main__":
    main()
