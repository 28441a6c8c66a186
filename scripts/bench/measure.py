#!/usr/bin/env python3
"""Runs one contender and measures its whole process tree.

Usage: measure.py RESULT.json -- COMMAND [ARGS...]

- wall: from spawn to the contender's exit.
- cpu: user + system CPU of the contender and every descendant. This process
  makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so descendants
  orphaned when the contender kills Chromium's process group (or exits without
  waiting for them) are reparented here and reaped here; after the contender
  exits, every remaining child is waited for, so getrusage(RUSAGE_CHILDREN)
  covers the whole tree. A descendant still alive 15 s after the contender
  exited is reported as a leftover and killed (it must be ours: it descends from
  the contender).
- tool_rss: the peak RSS (VmHWM) of the contender's main process, sampled
  every 200 ms (its ru_maxrss when reaped would count the Chromium processes
  it reaped).
- cpu_by_role: the CPU-s of each kind of process, from samples every 200 ms of
  /proc/PID/stat: "tool" (the contender's own process: insider-audit, the
  Playwright peer's node, the floor), and Chromium's "browser", "renderer",
  "gpu-process", "utility" (the network service) and others by their --type.
  A process's time after its last sample is lost, so the roles add up to a
  little less than cpu_s.
- chromium_rss: the largest sum, over samples every 200 ms, of the RSS of every
  process named chrom* that descends from the contender. RSS counts shared pages
  in each process, so the sum overstates the memory the processes use together.
Writes one JSON object to RESULT.json, with the contender's exit code.
"""

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")
INTERVAL = 0.2


def processes():
    """pid -> (ppid, comm, rss_kb) for every process readable in /proc."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        # comm may hold spaces and parentheses: split at the last ')'.
        lpar, rpar = stat.find("("), stat.rfind(")")
        comm = stat[lpar + 1:rpar]
        fields = stat[rpar + 2:].split()
        # fields[0] is state, [1] ppid, [11] utime, [12] stime (ticks), [21] rss
        # in pages (field 24 of stat).
        try:
            out[int(name)] = (int(fields[1]), comm, int(fields[21]) * PAGE_KB,
                              (int(fields[11]) + int(fields[12])) / TICKS)
        except (IndexError, ValueError):
            continue
    return out


def role(pid, comm, contender):
    """What a process of the tree is: the contender itself, or Chromium's --type."""
    if pid == contender:
        return "tool"
    if not comm.startswith("chrom"):
        return "other"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            # Forked children rename themselves: one string, spaces between.
            args = f.read().replace(b"\0", b" ").split()
    except OSError:
        return "chromium"
    for arg in args:
        if arg.startswith(b"--type="):
            return arg[7:].decode("utf-8", "replace")
    return "browser"


def descendants(root, procs):
    children = {}
    for pid, (ppid, _, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            found.append(child)
            todo.append(child)
    return found


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        sys.exit(__doc__)
    result_path, command = sys.argv[1], sys.argv[3:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
    me = os.getpid()
    start = time.monotonic()
    child = subprocess.Popen(command)
    tool_rss = 0
    chromium_rss = 0
    status = None
    last_cpu = {}  # pid -> (role, CPU-s at its last sample)
    while status is None:
        procs = processes()
        # Descendants of this process: the contender's tree, and orphans reparented here.
        tree = descendants(me, procs)
        for p in tree:
            if p in procs:
                # Asked each time: a renderer forked from the zygote shows the
                # zygote's command line until it renames itself.
                last_cpu[p] = (role(p, procs[p][1], child.pid), procs[p][3])
        total = sum(procs[p][2] for p in tree if p in procs and procs[p][1].startswith("chrom"))
        chromium_rss = max(chromium_rss, total)
        hwm = vm_hwm_kb(child.pid)
        if hwm is not None:
            tool_rss = max(tool_rss, hwm)
        deadline = time.monotonic() + INTERVAL
        while time.monotonic() < deadline:
            pid, st, _ = os.wait4(child.pid, os.WNOHANG)
            if pid == child.pid:
                status = st
                break
            time.sleep(0.02)
    wall = time.monotonic() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    # Reap the rest of the tree (orphans reparented to us).
    leftovers = []
    give_up = time.monotonic() + 15
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > give_up:
                procs = processes()
                for p in descendants(me, procs):
                    leftovers.append(f"{p} {procs[p][1]}")
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                give_up = time.monotonic() + 3600
            time.sleep(0.05)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "command": command,
        "exit": child.returncode,
        "wall_s": round(wall, 3),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "cpu_user_s": round(usage.ru_utime, 3),
        "cpu_sys_s": round(usage.ru_stime, 3),
        "cpu_by_role": {r: round(sum(c for (rr, c) in last_cpu.values() if rr == r), 2)
                        for r in sorted({r for (r, _) in last_cpu.values()})},
        "tool_peak_rss_kb": tool_rss,
        "chromium_peak_rss_kb": chromium_rss,
        "leftovers": leftovers,
    }
    with open(result_path, "w") as f:
        json.dump(result, f)
    if leftovers:
        print(f"measure.py: killed processes left running by {command[0]}: {leftovers}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
