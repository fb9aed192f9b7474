"""The gdb batch run of `make test`: QEMU halted with its gdb stub, gdb with tools/gdb/irqlab.py.

    python3 tests/harness/gdbrun.py --build build [--smp 2]

QEMU starts halted (-S) with its gdb stub on a free port; `gdb -batch` loads build/kernel.elf and
the extension, runs to the console's KdConsoleLoop, prints `nt prcb 0`, `nt irql`, `nt dpcs`,
`nt thread`, then stops in the clock interrupt (KiClockService) and prints `bt`, which must
unwind through KiTrapCommon's CFI into the interrupted code (a "<signal handler called>" frame,
then the interrupted function), with none of gdb's warnings about the assembly's DWARF.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import time
from typing import List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
EXTENSION = os.path.join(ROOT, "tools", "gdb", "irqlab.py")
GDB_TIMEOUT = 60  # seconds; the run takes about 6 under TCG
SESSION = """set pagination off
set confirm off
file {elf}
target remote 127.0.0.1:{port}
break KdConsoleLoop
continue
echo === nt prcb 0\\n
nt prcb 0
echo === nt irql\\n
nt irql
echo === nt dpcs\\n
nt dpcs
echo === nt thread\\n
nt thread
delete
break KiClockService
continue
echo === bt\\n
bt
"""
# gdb's complaints about debug information it could not use (the NASM CU problem of issue 18).
BAD_RE = re.compile(r"in read in CU, but not in symtab|in address map, but not in symtab|"
                    r"Python Exception|Backtrace stopped|Cannot access memory")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def section(output: str, name: str) -> str:
    parts = output.split(f"=== {name}\n", 1)
    return parts[1].split("=== ", 1)[0] if len(parts) == 2 else ""


def check(output: str, smp: int) -> List[str]:
    """What is wrong with the session's output (empty: it passed)."""
    problems = [f"gdb said: {line}" for line in output.split("\n") if BAD_RE.search(line)][:5]
    if not re.search(r"^PRCB for Processor 0 at [0-9a-f]{16}:$", section(output, "nt prcb 0"), re.M):
        problems.append("nt prcb 0: no 'PRCB for Processor 0 at ...' line")
    irqls = re.findall(r"^Debugger saved IRQL for processor 0x([0-9a-f]+) -- \d+ \(\S+", section(output, "nt irql"),
                       re.M)
    if [int(n, 16) for n in irqls] != list(range(smp)):
        problems.append(f"nt irql: a line for processors {irqls}, expected 0-{smp - 1}")
    if not section(output, "nt dpcs").startswith("CPU Type      KDPC               Function\n"):
        problems.append("nt dpcs: no '!dpcs' header")
    if not re.search(r"^THREAD [0-9a-f]{16}  RUNNING on processor 0$", section(output, "nt thread"), re.M):
        problems.append("nt thread: no 'THREAD ... RUNNING on processor 0' line")
    frames = re.findall(r"^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+)", section(output, "bt"), re.M)
    if not frames or frames[0] != "KiClockService":
        problems.append(f"bt: does not start in KiClockService: {frames[:3]}")
    elif "<signal" not in frames or frames.index("<signal") + 1 >= len(frames):
        problems.append(f"bt: no frame below the trap (<signal handler called>): {frames}")
    return problems


def run(build: str, smp: int = 2, machine: str = "q35") -> List[str]:
    """One halted boot and one gdb session; returns the problems (empty: passed)."""
    rundir = qemu.prepare(build, f"gdb.batch@{machine}+smp{smp}", "", None, False)
    port = free_port()
    with open(os.path.join(rundir, "session.gdb"), "w") as f:
        f.write(SESSION.format(elf=os.path.abspath(os.path.join(build, "kernel.elf")), port=port))
    command = qemu.command(machine, smp, "256M") + ["-gdb", f"tcp:127.0.0.1:{port}", "-S"]
    with open(os.path.join(rundir, "serial.log"), "wb") as log:
        proc = subprocess.Popen(["timeout", "-s", "KILL", str(GDB_TIMEOUT + 30)] + command, cwd=rundir,
                                stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with qemu._live_lock:
        qemu._live.add(proc)
    try:
        for _ in range(50):  # the stub listens once QEMU has started
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        done = subprocess.run(["gdb", "-batch", "-nx", "-x", EXTENSION, "-x", os.path.join(rundir, "session.gdb")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              errors="replace", timeout=GDB_TIMEOUT)
        output = done.stdout
    except subprocess.TimeoutExpired as e:
        output = (e.stdout or b"").decode("latin-1") + f"\n(gdb timed out after {GDB_TIMEOUT}s)"
    finally:
        qemu.signal_group(proc)  # gdb -batch detached: QEMU runs on until killed
        proc.wait()
        proc.stdin.close()
        with qemu._live_lock:
            qemu._live.discard(proc)
    with open(os.path.join(rundir, "gdb.log"), "w") as f:
        f.write(output)
    problems = check(output, smp)
    if problems:
        problems.append(f"gdb's output: {os.path.relpath(os.path.join(rundir, 'gdb.log'))}")
    else:
        qemu.tidy(rundir)
    return problems


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--smp", type=int, default=2)
    args = parser.parse_args(argv)
    start = time.monotonic()
    problems = run(args.build, args.smp)
    for problem in problems:
        print(f"    # {problem}")
    print(f"{'ok' if not problems else 'not ok'} 1 - gdb.batch@smp{args.smp} # {time.monotonic() - start:.1f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
