"""`make stress`: the kernel under storm, flood and misuse (docs/reliability.md).

    python3 tests/harness/stress.py --build build [--short]

1. DPC storm at -smp 1, 2, 4 and 8 (test=storm.*, storm=<operations per CPU>): every CPU inserts,
   retargets and removes DPCs at random while a periodic timer queues DPCs; the kernel checks
   exactly-once accounting, empty queues and DpcCount totals; >= 1,000,000 accepted inserts at -smp 4.
2. Thread storm at the same -smp values (test=thread.a_storm*, threads=<rounds of 64>): threads
   created, blocked on a semaphore, released together and reaped; none lost, no stack leaked.
3. Key flood: keys typed through QMP; sent = decoded + counted lost (tests/harness/keyboard.py).
4. Misuse matrix: each IRQL rule broken on purpose (!labcrash <kind>) ends in its named bugcheck,
   with no hang and no reboot (and dpc_spin's STACK_TEXT shows the spinning routine).
5. Breakpoint storm at -smp 1, 2, 4 and 8: !labstorm's DPCs under `bp KiRetireDpcList "g"` and
   `bp KdStormDpcRoutine "g"`: the debugger stops and lets go the machine at every retire and every
   DPC; each accepted insert runs once, each run is one stop, every queue ends empty.
6. Boot soak: consecutive boots at -smp 4, each must reach the prompt.
--short is the small version `make test` runs, so this code never rots: it leaves out the misuse
kinds whose bugcheck a kernel test of make test already raises (MISUSE_TWINS).
"""
import argparse
import concurrent.futures
import itertools
import os
import re
import sys
import time
from dataclasses import dataclass, field
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keyboard  # noqa: E402
import qemu  # noqa: E402
import verdict  # noqa: E402

STORM_RE = re.compile(r"# storm: (\d+) inserts accepted of (\d+) operations on (\d+) CPUs in (\d+) rounds, "
                      r"(\d+) timer DPCs")
THREADS_RE = re.compile(r"# thread storm: (\d+) threads created, woken and reaped in (\d+) rounds on (\d+) CPUs")
IRPS_RE = re.compile(r"# irp storm: (\d+) IRPs sent and completed once to their threads by (\d+) threads on (\d+) CPUs")
APCS_RE = re.compile(r"# apc storm: (\d+) APCs accepted and delivered once of (\d+) inserts on (\d+) CPUs")
LABSTORM_RE = re.compile(r"^# labstorm: (\d+) inserts accepted of (\d+) on (\d+) processors, (\d+) ran, "
                         r"(\d+) still queued(?:: LOST OR STUCK)?$")
# Breakpoint storm: inserts in all (about half are accepted: the rest find their DPC still queued).
# A stop costs ~2 ms at -smp 1-2 and ~10 ms at -smp 4 under TCG (an NMI to each processor and back).
FULL = dict(storm_smp=(1, 2, 4, 8), storm_ops={1: 400000, 2: 400000, 4: 850000, 8: 200000},
            thread_rounds=40, apc_ops=30000, irps=5000, flood=10000, soak=50, bp_inserts=6000, twins=True)
# make test's short form: its test=all boots already run the APC and IRP storms at their default sizes.
SHORT = dict(storm_smp=(2,), storm_ops={2: 20000}, thread_rounds=8, apc_ops=None, irps=None, flood=300, soak=1,
             bp_inserts=600, twins=False)

# kind -> (bugcheck code, P1 or None): what !labcrash <kind> must end in.
MISUSE = {
    "raise_down": (0x9, None),
    "lower_up": (0xA, None),
    "spinlock_twice": (0xF, None),
    "dpc_irql": (0x9, 0xC),
    "dpc_spin": (0x133, 0),
    "dispatch_stay": (0x133, 1),
    "wait_dispatch": (0xA, None),
    "wait_in_dpc": (0xB8, None),  # P1: the thread the DPC borrowed
    "interrupts_off": (0x101, 0x100),  # P1: the limit in ticks, 4000 ms at 64 Hz
    "null_read": (0x1E, None),
    "mutex_not_owned": (0x1E, 0xFFFFFFFFC0000046),  # STATUS_MUTANT_NOT_OWNED
    "mutex_held_at_exit": (0x4000008A, None),
    "thread_spinlock": (0xA, None),  # P1: the thread's routine
    "thread_stack": (0x7F, 8),  # a double fault: the #PF frame could not be pushed either
    "apc_irql": (0xC8, 0x20100),  # DISPATCH_LEVEL << 16 | APC_LEVEL << 8 | 0 (after the KernelRoutine)
    "apc_exit": (0x20, 0),  # no APC queued: the region's count is the cause
    "irp_twice": (0x44, None),  # P1: the IRP
    "irp_irql": (0xA, None),  # P1: the IRP, P2: 11
    "fastmutex_unowned": (0x1E, 0xFFFFFFFFC0000046),  # STATUS_MUTANT_NOT_OWNED
}
# kind -> the kernel test (tests/kernel/) that raises the same bugcheck in make test's own boots.
MISUSE_TWINS = {
    "raise_down": "irql.raise_below_current", "lower_up": "irql.lower_above_current",
    "spinlock_twice": "spinlock.acquired_twice_on_one_cpu", "dispatch_stay": "watchdog.staying_at_dispatch_level",
    "wait_dispatch": "wait.blocking_at_dispatch_level", "wait_in_dpc": "wait.waiting_in_a_dpc_routine",
    "interrupts_off": "watchdog.a_cpu_with_interrupts_off", "null_read": "bugcheck.page_fault_read",
    "mutex_not_owned": "mutex.released_by_a_thread_that_does_not_own_it",
    "mutex_held_at_exit": "mutex.a_thread_that_ends_holding_a_mutex",
    "apc_exit": "apc.a_thread_ending_in_a_critical_region", "irp_twice": "irp.completed_twice",
    "irp_irql": "irp.completed_at_dirql", "fastmutex_unowned": "fastmutex.released_when_not_held",
}
# kind -> the routine the report's STACK_TEXT must show: the one running when the bugcheck came,
# found below the interrupt's trap frame (kernel/ke/stack.c).
MISUSE_FRAMES = {"dpc_spin": "irqlab!spins_forever+"}
PARAMS_RE = re.compile(r"^\s*\((0x[0-9A-F]{16}),")


@dataclass
class Result:
    name: str
    passed: bool
    notes: List[str] = field(default_factory=list)
    figure: str = ""  # what it measured, for docs/reliability.md


def transcript_note(boot) -> str:
    return f"transcript: {os.path.relpath(os.path.join(boot.rundir, 'serial.log'))}"


def counted_boot(build: str, name: str, cmdline: str, smp: int, figure_re, describe) -> Result:
    """A test boot that must pass and print the line figure_re matches; describe(match) is its figure."""
    boot = qemu.boot(build, name, cmdline, smp=smp, wall=1200, idle=300)
    v = verdict.judge_tests(boot.transcript, boot.status, boot.reason)
    m = next((m for m in map(figure_re.search, verdict.clean_lines(boot.transcript)) if m), None)
    if v.passed:
        qemu.tidy(boot.rundir)
    return Result(name, v.passed and m is not None, v.failures + ([] if v.passed else [transcript_note(boot)]),
                  describe(m) if m else "")


def storm(build: str, smp: int, ops: int) -> Result:
    return counted_boot(build, f"stress.storm@smp{smp}", f"test=storm.* storm={ops}", smp, STORM_RE,
                        lambda m: f"{m.group(1)} inserts accepted of {m.group(2)} operations, {m.group(5)} timer DPCs")


def thread_storm(build: str, smp: int, rounds: int) -> Result:
    return counted_boot(build, f"stress.threads@smp{smp}", f"test=thread.a_storm* threads={rounds}", smp,
                        THREADS_RE, lambda m: f"{m.group(1)} threads in {m.group(2)} rounds")


# NT's own DPC watchdog limits (20 s for one DPC, 120 s at DISPATCH_LEVEL; irqlab's lab defaults are
# 500 ms and 5 s): with 8 vCPUs on 2 host cores the APC storm's timer DPC can spin over 500 ms on the
# test-and-set dispatcher lock (docs/reliability.md), which is the host's unfairness, not a lost APC.
NT_WATCHDOG = "dpctimelimit=20000 dpcwatchdogperiod=120000"


def apc_storm(build: str, smp: int, ops: int) -> Result:
    return counted_boot(build, f"stress.apcs@smp{smp}", f"test=apcstorm.* apcs={ops} {NT_WATCHDOG}", smp, APCS_RE,
                        lambda m: f"{m.group(1)} APCs delivered once of {m.group(2)} inserts")


def irp_storm(build: str, smp: int, irps: int) -> Result:
    return counted_boot(build, f"stress.irps@smp{smp}", f"test=irpstorm.* irps={irps}", smp, IRPS_RE,
                        lambda m: f"{m.group(1)} IRPs completed once by {m.group(2)} threads")


def flood(build: str, keys: int, slow_ms: int = 0) -> Result:
    """Letters typed at the console; with slow_ms the reader takes a byte per read and rests, so the
    class driver's buffer fills: every key must still be decoded or counted lost, every byte read,
    held or counted lost."""
    name = f"stress.flood{keys}" + (f"_slow_reader{slow_ms}ms" if slow_ms else "")
    letters = [[chr(ord("a") + i % 26)] for i in range(keys)]
    script = [qemu.Step(keyboard.PROMPT, keys=letters), qemu.Step("", call=keyboard.settle),
              qemu.Step("", serial="\x15!kbd\r"), qemu.Step(r"ISR -> DPC", serial="quit\r")]
    cmdline = f"kbdreaderslow={slow_ms}" if slow_ms else ""
    boot = qemu.boot(build, name, cmdline, smp=4, script=script, wall=max(150, keys / 50))
    v = keyboard.judge_console(boot.transcript, boot.status, boot.reason, keys, [])
    lines = verdict.clean_lines(boot.transcript)
    decoded = keyboard.last_match(lines, keyboard.KBD_KEYS_RE)
    if decoded:
        keyboard.check_class(lines, v, int(decoded.group(2)))
    if v.passed:
        qemu.tidy(boot.rundir)
    c = keyboard.last_match(lines, keyboard.KBD_CLASS_RE)
    return Result(name, v.passed, v.failures + ([] if v.passed else [transcript_note(boot)]),
                  f"{keys} keys sent, {decoded.group(1) if decoded else '?'} decoded"
                  + (f", {c.group(6)} bytes read, {c.group(8)} held, {c.group(7)} lost" if c and slow_ms else ""))


def stack_text(lines: List[str]) -> List[str]:
    """The report's STACK_TEXT rows (after its header, up to the first line that is not a frame)."""
    start = next((i for i, line in enumerate(lines) if line == "STACK_TEXT:"), None)
    if start is None:
        return []
    return list(itertools.takewhile(lambda line: re.match(r"^[0-9a-f]{2} ", line), lines[start + 2:]))


def judge_misuse(transcript: str, status: Optional[int], reason: str, code: int,
                 p1: Optional[int], frame: Optional[str] = None) -> verdict.Verdict:
    v = verdict.Verdict()
    lines = verdict.boot_lines(transcript, v)
    found = verdict.bugchecks(lines)
    if [c for _, c in found] != [code]:
        v.failures.append(f"bugchecks {[hex(c) for _, c in found]}, expected one 0x{code:X}")
    elif p1 is not None:
        params = PARAMS_RE.match(lines[found[0][0] + 1]) if found[0][0] + 1 < len(lines) else None
        if params is None or int(params.group(1), 16) != p1:
            v.failures.append(f"P1 is not 0x{p1:X}")
    if frame and not any(frame in row for row in stack_text(lines)):
        v.failures.append(f"STACK_TEXT does not show {frame}")
    if not any(verdict.HALT_RE.match(line) for line in lines):
        v.failures.append("no '# irqlab: system halted after bugcheck' line")
    verdict.check_exit(v, status, reason, verdict.EXIT_BUGCHECK)
    return v


def misuse(build: str, kind: str) -> Result:
    code, p1 = MISUSE[kind]
    name = f"stress.misuse.{kind}"
    boot = qemu.boot(build, name, "", smp=2, script=[qemu.Step(keyboard.PROMPT, serial=f"!labcrash {kind}\r")])
    v = judge_misuse(boot.transcript, boot.status, boot.reason, code, p1, MISUSE_FRAMES.get(kind))
    if v.passed:
        qemu.tidy(boot.rundir)
    return Result(name, v.passed, v.failures + ([] if v.passed else [transcript_note(boot)]),
                  f"bugcheck 0x{code:X}" + (f" P1={p1}" if p1 is not None else ""))


def bp_storm(build: str, smp: int, inserts: int) -> Result:
    """!labstorm under two breakpoints whose command is g: no DPC lost, one stop per DPC run."""
    name = f"stress.bpstorm@smp{smp}"
    prompt = r"^\d: kd> $"
    commands = ['bp KiRetireDpcList "g"', 'bp KdStormDpcRoutine "g"', f"!labstorm 0n{max(1, inserts // smp)}",
                "bc *", "!dpcs", "quit"]
    script = [qemu.Step(keyboard.PROMPT if n == 0 else prompt, serial=c + "\r") for n, c in enumerate(commands)]
    boot = qemu.boot(build, name, "", smp=smp, script=script, wall=600, idle=120)
    v = verdict.Verdict()
    lines = verdict.boot_lines(boot.transcript, v)
    m = next((m for m in map(LABSTORM_RE.match, lines) if m), None)
    text = "\n".join(lines)
    routine_stops = text.count("Breakpoint 1 hit\nirqlab!KdStormDpcRoutine:")
    retire_stops = text.count("Breakpoint 0 hit\nirqlab!KiRetireDpcList:")
    if m is None:
        v.failures.append("no '# labstorm:' line")
    elif m.group(1) != m.group(4) or m.group(5) != "0":
        v.failures.append(f"{m.group(1)} accepted, {m.group(4)} ran, {m.group(5)} still queued")
    elif routine_stops != int(m.group(4)) or retire_stops == 0:
        v.failures.append(f"{routine_stops} stops in KdStormDpcRoutine for {m.group(4)} runs, {retire_stops} in the retire")
    if "No DPCs queued" not in text:
        v.failures.append("!dpcs after the storm does not say 'No DPCs queued'")
    verdict.check_exit(v, boot.status, boot.reason, verdict.EXIT_SUCCESS)
    if v.passed:
        qemu.tidy(boot.rundir)
    return Result(name, v.passed, v.failures + ([] if v.passed else [transcript_note(boot)]),
                  f"{routine_stops} stops in the DPC routine and {retire_stops} in KiRetireDpcList, "
                  f"{m.group(4) if m else '?'} DPCs ran once" if m else "")


def soak(build: str, number: int) -> Result:
    name = f"stress.soak.{number}"
    boot = qemu.boot(build, name, "", smp=4, stop_on=verdict.PROMPT_RE.pattern, stop_partial=True)
    v = verdict.judge_prompt(boot.transcript, boot.reason, 4)
    if v.passed:
        qemu.tidy(boot.rundir)
    return Result(name, v.passed, v.failures + ([] if v.passed else [transcript_note(boot)]))


def jobs(build: str, plan: dict):
    """Every stress boot as (callable, args); two run at a time."""
    work = [(storm, (build, n, plan["storm_ops"][n])) for n in plan["storm_smp"]]
    work += [(thread_storm, (build, n, plan["thread_rounds"])) for n in plan["storm_smp"]]
    if plan["apc_ops"]:
        work += [(apc_storm, (build, n, plan["apc_ops"])) for n in plan["storm_smp"]]
    if plan["irps"]:
        work += [(irp_storm, (build, n, plan["irps"])) for n in plan["storm_smp"]]
    work.append((flood, (build, plan["flood"])))
    work.append((flood, (build, plan["flood"], 20)))
    work += [(bp_storm, (build, n, plan["bp_inserts"])) for n in plan["storm_smp"]]
    work += [(misuse, (build, kind)) for kind in MISUSE if plan["twins"] or kind not in MISUSE_TWINS]
    work += [(soak, (build, i + 1)) for i in range(plan["soak"])]
    return work


def run(build: str, short: bool, pool) -> List[Result]:
    futures = [pool.submit(fn, *args) for fn, args in jobs(build, SHORT if short else FULL)]
    return [f.result() for f in futures]


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args(argv)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        results = run(args.build, args.short, pool)
    for number, r in enumerate(results, 1):
        print(f"{'ok' if r.passed else 'not ok'} {number} - {r.name}" + (f" # {r.figure}" if r.figure else ""))
        for note in r.notes if not r.passed else []:
            print(f"    # {note}")
    failed = sum(not r.passed for r in results)
    print(f"# stress: {time.monotonic() - start:.0f} s")
    print(f"{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
