"""`make test`: host unit tests, harness self-tests, then the kernel under QEMU + OVMF.

    python3 tests/harness/irqlab_test.py --build build [--smp 4] [--machine q35] [--only NAME | --labs | --gdb]

Prints every result as `ok N - name` / `not ok N - name` (reasons on `    # ` lines) and, alone
on the last line, `N passed, M failed, K skipped`; exits 1 when anything failed. See docs/testing.md.
"""
import argparse
import concurrent.futures
import glob
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest
from dataclasses import dataclass, field
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gdbrun  # noqa: E402
import keyboard  # noqa: E402
import labs  # noqa: E402
import qemu  # noqa: E402
import stress  # noqa: E402
import kdbreak  # noqa: E402
import test_verdict  # noqa: E402
import tracerun  # noqa: E402
import verdict  # noqa: E402

HOST_TIMEOUT = 120  # seconds per host test binary
SANITIZER_RE = re.compile(r"ERROR: \w+Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")
LOADER_STOP = r"irqlab loader: error:|^irqlab \S+ booting"  # the loader refused, or did not
SMP_MATRIX = (1, 2, 8)  # besides --smp: each boots test=all once
PROMPT_CPUS = 64  # a console boot must reach the prompt with this many
MAX_CPUS = 64  # the kernel's MAXIMUM_PROCESSORS
TRACE_SMP = (1, 4)  # make trace's keyboard scenario, through the converter
_print_lock = threading.Lock()


@dataclass
class Result:
    name: str
    passed: bool
    skip: Optional[str] = None  # skipped: neither passed nor failed
    notes: List[str] = field(default_factory=list)


def say(line: str) -> None:
    # Boots finish on worker threads: one whole line at a time.
    with _print_lock:
        print(line, flush=True)


def print_environment(args) -> None:
    try:
        version = subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.PIPE,
                                 universal_newlines=True).stdout.split("\n")[0]
    except OSError:
        version = "not found"
    ovmf = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "ovmf"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          universal_newlines=True)
    idle, wall = qemu.timeouts()
    say(f"# qemu: {version}")
    say(f"# ovmf: {ovmf.stdout.strip() if ovmf.returncode == 0 else 'unknown'}")
    say(f"# accel: {qemu.accel()}, machine {args.machine}, smp {args.smp}, "
        f"timeouts idle {idle:g}s wall {wall:g}s")


def host_tests(build: str) -> List[Result]:
    results = []
    for path in sorted(glob.glob(os.path.join(build, "host", "test_*"))):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            results += host_binary(path)
    return results


def layer_check() -> List[Result]:
    """tools/check_layers.py: no include runs up a floor, no file or function past its size."""
    script = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "check_layers.py")
    done = subprocess.run([sys.executable, script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, errors="replace", timeout=HOST_TIMEOUT)
    lines = done.stdout.strip().split("\n")
    say(f"# {lines[-1]}")
    return [Result("layers.check_layers", done.returncode == 0, notes=lines)]


def host_binary(path: str) -> List[Result]:
    binary = os.path.basename(path)
    try:
        done = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, errors="replace", timeout=HOST_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [Result(f"host.{binary}", False, notes=[f"timed out after {HOST_TIMEOUT}s"])]
    except OSError as error:
        return [Result(f"host.{binary}", False, notes=[f"cannot run: {error}"])]
    parsed = verdict.Verdict()
    verdict.parse_results(done.stdout.split("\n"), parsed)
    results = []
    for r in parsed.results:
        say(f"# {binary}: {'ok' if r.passed or r.skipped else 'not ok'} {r.number} - {r.name}")
        results.append(Result(f"host.{r.name}", r.passed, r.skip, r.diagnostics))
    sanitizer = [line for line in (done.stdout + done.stderr).split("\n")
                 if SANITIZER_RE.search(line)]
    if sanitizer:
        results.append(Result(f"host.{binary}", False, notes=sanitizer[:5]))
    elif done.returncode != 0 and not any(r.failed for r in parsed.results):
        tail = [line for line in done.stderr.split("\n") if line.strip()][-3:]
        results.append(Result(f"host.{binary}", False, notes=[exit_text(done.returncode)] + tail))
    elif not parsed.results:
        results.append(Result(f"host.{binary}", False, notes=["printed no KTAP result"]))
    return results


def exit_text(status: int) -> str:
    if status < 0:
        return f"killed by {signal.Signals(-status).name}"
    return f"exit status {status}"


def harness_tests() -> List[Result]:
    """test_verdict.py in-process, one result per test method."""
    results = []
    for test in flatten(unittest.defaultTestLoader.loadTestsFromModule(test_verdict)):
        outcome = unittest.TestResult()
        test.run(outcome)
        notes = [trace.strip().split("\n")[-1] for _, trace in outcome.failures + outcome.errors]
        results.append(Result(f"harness.{test._testMethodName}", outcome.wasSuccessful(),
                              notes=notes))
    return results


def flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


def run_boot(args, run: str, cmdline: str, judge, machine: Optional[str] = None,
             smp: Optional[int] = None, **boot_args):
    """Boots once and judges it; returns (Verdict, notes for a failing result)."""
    machine, smp = machine or args.machine, smp or args.smp
    say(f"# boot {run}: {cmdline or '(empty command line)'} (machine {machine}, smp {smp})")
    start = time.monotonic()
    try:
        boot = qemu.boot(args.build, run, cmdline, smp=smp, machine=machine, **boot_args)
    except Exception as error:  # a missing ESP or mtools failure is one failed boot, not a crash
        return verdict.Verdict(failures=[f"could not boot: {error}"]), []
    result = judge(boot)
    say(f"# boot {run}: {boot.reason}, status {boot.status}, "
        f"{time.monotonic() - start:.1f}s, {'passed' if result.passed else 'FAILED'}")
    if result.passed:
        qemu.tidy(boot.rundir)
        return result, []
    notes = [f"transcript: {os.path.relpath(os.path.join(boot.rundir, 'serial.log'))}"]
    if boot.stderr:
        notes.append("qemu stderr: " + boot.stderr.split("\n")[-1])
    return result, notes


def judge_suite(boot) -> verdict.Verdict:
    return verdict.judge_tests(boot.transcript, boot.status, boot.reason)


def judge_announced(boot) -> verdict.Verdict:
    """For --only: a test booted alone says when it expects a bugcheck (docs/testing.md)."""
    announced = verdict.announced_bugchecks(verdict.clean_lines(boot.transcript))
    if not announced:
        return judge_suite(boot)
    name, code = announced[0]
    return verdict.judge_bugcheck(boot.transcript, boot.status, boot.reason, code, name)


def boot_tests(args, run: str, cmdline: str, judge=judge_suite, machine: Optional[str] = None,
               smp: Optional[int] = None):
    """A boot that runs kernel tests: one result for the boot, one per KTAP line.
    Returns (results, [(name, code) of each declared bugcheck test])."""
    result, notes = run_boot(args, run, cmdline, judge, machine=machine, smp=smp)
    results = [Result(f"boot.{run}", not result.failures, notes=result.failures + notes)]
    prefix = "kernel" + (f"@{machine}" if machine else "") + (f"@smp{smp}" if smp else "")
    for r in result.results:
        results.append(Result(f"{prefix}.{r.name}", r.passed, r.skip,
                              r.diagnostics + (notes if r.failed else [])))
    return results, result.bugcheck_tests


def boot_bugcheck(args, name: str, code: int) -> List[Result]:
    def judge(boot):
        return verdict.judge_bugcheck(boot.transcript, boot.status, boot.reason, code, name)

    # At least two CPUs: the clock watchdog's tests need another CPU to notice the silent one.
    result, notes = run_boot(args, f"alone.{name}", f"test={name}", judge, smp=max(args.smp, 2))
    failed = [f"kernel test {r.name} failed" for r in result.results if r.failed]
    return [Result(f"alone.{name}", result.passed, notes=result.failures + failed + notes)]


def boot_loader(args, run: str, expect: Optional[str], kernel: Optional[bytes]) -> Result:
    def judge(boot):
        return verdict.judge_loader(boot.transcript, boot.reason, expect)

    result, notes = run_boot(args, f"loader.{run}", "test=all", judge, kernel=kernel,
                             delete_kernel=kernel is None, stop_on=LOADER_STOP)
    return Result(f"loader.{run}", result.passed, notes=result.failures + notes)


def loader_boots(args) -> List[Result]:
    """The loader must refuse a corrupt, a truncated and a missing kernel.elf."""
    try:
        elf = qemu.esp_read(os.path.join(args.build, "esp.img"), qemu.ESP_KERNEL)
    except Exception as error:
        return [Result("loader.kernel_on_esp", False, notes=[str(error)])]
    return [boot_loader(args, "bad_magic", "magic", b"\0\0\0\0" + elf[4:]),
            boot_loader(args, "truncated", None, elf[:100]),
            boot_loader(args, "missing", None, None)]


def boot_prompt(args, cpus: int) -> List[Result]:
    """A console boot on `cpus` processors must reach the prompt (its time is in the log)."""
    def judge(boot):
        return verdict.judge_prompt(boot.transcript, boot.reason, min(cpus, MAX_CPUS))

    result, notes = run_boot(args, f"prompt@smp{cpus}", "", judge, smp=cpus,
                             stop_on=verdict.PROMPT_RE.pattern, stop_partial=True)
    return [Result(f"prompt@smp{cpus}", result.passed, notes=result.failures + notes)]


def keyboard_boots(args) -> List[Result]:
    """Keys through QMP at the console (tests/harness/keyboard.py), one boot after another."""
    results = []
    for name, script, judge in keyboard.boots():
        result, notes = run_boot(args, name, "", judge, script=script)
        results.append(Result(name, result.passed, notes=result.failures + notes))
    return results


def configurations(args):
    """Every (machine, smp) make test boots test=all on: the debugger and gdb run on each too."""
    other = "pc" if args.machine == "q35" else "q35"
    return [(args.machine, args.smp), (other, args.smp)] + [(args.machine, n) for n in SMP_MATRIX if n != args.smp]


def debugger_boots(args) -> List[Result]:
    """The debugger that stops the machine, driven at the console (tests/harness/kdbreak.py): lab 09's
    session on every configuration, one after another."""
    results = []
    for name, script, cmdline, machine, smp, judge in kdbreak.boots(args.build, configurations(args)):
        result, notes = run_boot(args, name, cmdline, judge, machine=machine, smp=smp, script=script)
        results.append(Result(name, result.passed, notes=result.failures + notes))
    return results


def lab_boots(args) -> List[Result]:
    """Each lab's console session replayed and checked (docs/labs/*.replay), one after another."""
    results = []
    for lab in labs.boots():
        result, notes = run_boot(args, lab.name, lab.cmdline, lab.judge, smp=lab.smp, script=lab.script)
        results.append(Result(lab.name, result.passed, notes=result.failures + notes))
    return results


def trace_boots(args) -> List[Result]:
    """make trace's keyboard scenario at -smp 1 and 4 (tests/harness/tracerun.py): the dump reaches
    COM2 whole, tools/trace accepts it, the JSON loads with a track per CPU, the SVG has a lane each."""
    results = []
    for smp in TRACE_SMP:
        name = f"trace.keyboard@smp{smp}"
        out = os.path.join(args.build, "trace", f"make-test-smp{smp}")
        boot, problems, trace_bin = tracerun.run(args.build, tracerun.keyboard(smp), out, name)
        if not problems:
            problems = tracerun.check_outputs(os.path.splitext(trace_bin)[0], smp)
        if problems:
            problems.append(f"transcript: {os.path.join(boot.rundir, 'serial.log')}")
        else:
            qemu.tidy(boot.rundir)
        say(f"# boot {name}: {'passed' if not problems else 'failed'}")
        results.append(Result(name, not problems, notes=problems))
    return results


def gdb_boots(args) -> List[Result]:
    """QEMU halted with its gdb stub and a batch gdb with tools/gdb/irqlab.py (tests/harness/gdbrun.py):
    the NT views and a backtrace through a trap frame, on every configuration; about 6 s each."""
    results = []
    for machine, smp in configurations(args):
        name = f"gdb.batch@{machine}+smp{smp}"
        start = time.monotonic()
        problems = gdbrun.run(args.build, smp, machine)
        say(f"# boot {name}: {time.monotonic() - start:.1f}s, {'passed' if not problems else 'FAILED'}")
        results.append(Result(name, not problems, notes=problems))
    return results


def kernel_boots(args, pool) -> List[Result]:
    """test=all, then each declared bugcheck test alone; loader boots share the two workers."""
    if args.only:
        return boot_tests(args, f"only.{args.only}", f"test={args.only}", judge_announced)[0]
    suites = pool.submit(boot_tests, args, "tests", "test=all")
    # The other chipset too: q35 and the i440FX `pc` differ in their interrupt routing; and with
    # threaded DPCs off, as NT can run (they then run as normal DPCs).
    other = "pc" if args.machine == "q35" else "q35"
    other_suites = pool.submit(boot_tests, args, f"tests@{other}+threadeddpcs=0", "test=all threadeddpcs=0",
                               machine=other)
    # Other processor counts: one CPU (no APs at all), two, and eight.
    counts = [pool.submit(boot_tests, args, f"tests@smp{n}", "test=all", smp=n)
              for n in SMP_MATRIX if n != args.smp]
    prompt = pool.submit(boot_prompt, args, PROMPT_CPUS)
    loaders = pool.submit(loader_boots, args)  # one after another, beside the kernel's boots
    keys = pool.submit(keyboard_boots, args)
    debugger = pool.submit(debugger_boots, args)
    replays = pool.submit(lab_boots, args)
    traces = pool.submit(trace_boots, args)
    gdbs = pool.submit(gdb_boots, args)
    results, declared = suites.result()
    results += other_suites.result()[0]
    for job in counts:
        results += job.result()[0]
    results += prompt.result()
    # dict(): a test declared twice boots once
    bugchecks = [pool.submit(boot_bugcheck, args, name, code)
                 for name, code in dict(declared).items()]
    for job in bugchecks + [loaders, keys, debugger, replays, traces, gdbs]:
        results += job.result()
    # make stress's short mode: a small storm, flood, the misuse matrix and two soak boots.
    results += [Result(r.name, r.passed, notes=r.notes) for r in stress.run(args.build, True, pool)]
    return results


def report(results: List[Result]) -> int:
    say(f"1..{len(results)}")
    for number, r in enumerate(results, 1):
        if r.skip is not None:
            say(f"ok {number} - {r.name} # SKIP {r.skip}".rstrip())
            continue
        say(f"{'ok' if r.passed else 'not ok'} {number} - {r.name}")
        for note in r.notes if not r.passed else []:
            for line in note.split("\n"):
                say(f"    # {line}")
    failed = sum(not r.passed and r.skip is None for r in results)
    passed = sum(r.passed and r.skip is None for r in results)
    skipped = sum(r.skip is not None for r in results)
    say(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build", help="build directory (esp.img, host/)")
    parser.add_argument("--smp", type=int, default=int(os.environ.get("IRQLAB_SMP", "4")))
    parser.add_argument("--machine", choices=("q35", "pc"),
                        default=os.environ.get("IRQLAB_MACHINE", "q35"))
    parser.add_argument("--only", metavar="NAME",
                        help="boot only test=NAME (suite.name) and judge that boot")
    parser.add_argument("--labs", action="store_true", help="only replay the labs (docs/labs/*.replay)")
    parser.add_argument("--gdb", action="store_true", help="only the gdb batch run (tests/harness/gdbrun.py)")
    return parser.parse_args(argv)


def interrupted(signum, frame):
    raise KeyboardInterrupt


def main(argv) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)  # make's SIGTERM must not leave QEMU running
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)  # 2 cores: 2 QEMUs at most
    try:
        print_environment(args)
        if args.labs:
            results = lab_boots(args)
        elif args.gdb:
            results = gdb_boots(args)
        else:
            results = [] if args.only else layer_check() + host_tests(args.build) + harness_tests()
            results += kernel_boots(args, pool)
    except KeyboardInterrupt:
        # Ctrl-C reaches make and us, not QEMU (own session): kill it, then let workers reap.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        qemu.kill_all()
        say("# interrupted")
        return 130
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return report(results)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
