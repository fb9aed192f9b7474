"""`make bench`: boots the benchmark suite and prints its table; writes bench.json beside its kernel.

    python3 tests/harness/bench.py --build build [--smp 4]

Four boots, one at a time (a quiet host gives steadier figures):
  1. bench=all at --smp CPUs, with 220 keys typed through QMP when the keyboard benchmark asks
     (and 80 more twice, trace off then on, for the trace's cost);
  2. bench=timer.* tick=1000: timer lateness at the finest tick irqlab supports;
  3-4. console boots at -smp 1 and 4: kernel entry -> processors up -> console, in ms.
Benchmarks are never pass/fail: the exit status is 0 unless a boot failed to produce its table.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
import verdict  # noqa: E402

JSON_RE = re.compile(r"^# bench-json: (\{.*\})\s*$")
BOOT_RE = re.compile(r"^boot: kernel entry -> (\d+) processors up in (\d+) ms -> console in (\d+) ms")
KEYS = 220
TRACE_KEYS = 80  # each key is a make and a break byte: two ISR -> DPC samples


def table_lines(transcript: str):
    """The kernel's table: from the `# bench:` header to the done line, JSON lines left out."""
    lines = verdict.clean_lines(transcript)
    start = next((i for i, line in enumerate(lines) if line.startswith("# bench: TSC")), None)
    if start is None:
        return []
    return [line for line in lines[start:] if not line.startswith("# bench-json:")]


def rows(transcript: str):
    return [json.loads(m.group(1)) for m in map(JSON_RE.match, verdict.clean_lines(transcript)) if m]


def bench_boot(build: str, name: str, cmdline: str, smp: int, script=None):
    boot = qemu.boot(build, name, cmdline, smp=smp, script=script)
    table = table_lines(boot.transcript)
    for line in table:
        print(line)
    ok = boot.reason == "exited" and boot.status == verdict.EXIT_SUCCESS and table
    if not ok:
        print(f"# bench boot {name}: {boot.reason}, status {boot.status}; transcript in "
              f"{os.path.relpath(os.path.join(boot.rundir, 'serial.log'))}")
    return ok, rows(boot.transcript)


def boot_time(build: str, smp: int):
    boot = qemu.boot(build, f"bench.boot@smp{smp}", "", smp=smp, stop_on=verdict.PROMPT_RE.pattern,
                     stop_partial=True)
    m = next((m for m in map(BOOT_RE.match, verdict.clean_lines(boot.transcript)) if m), None)
    if m is None:
        print(f"# boot time at -smp {smp}: no 'boot:' line ({boot.reason})")
        return None
    row = {"smp": smp, "cpus": int(m.group(1)), "cpus_up_ms": int(m.group(2)), "console_ms": int(m.group(3))}
    print(f"boot -smp {smp}: kernel entry -> {row['cpus']} processors up in {row['cpus_up_ms']} ms -> "
          f"console in {row['console_ms']} ms (goal: 50 ms)")
    return row


def environment():
    version = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True)
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    return {"qemu": version.stdout.split("\n")[0], "host_cpu": model, "host_cpus": os.cpu_count(),
            "accel": qemu.accel(), "date": time.strftime("%Y-%m-%d %H:%M:%S")}


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--smp", type=int, default=4)
    args = parser.parse_args(argv)
    env = environment()
    print(f"# {env['qemu']}, accel {env['accel']}, host {env['host_cpu']} x{env['host_cpus']}")
    keys = [qemu.Step(r"# bench: waiting for keys", keys=[[chr(ord("a") + i % 26)] for i in range(KEYS)])]
    # trace.keyboard_isr_to_dpc_off_vs_on: keys with the trace off, then on (tests/bench/trace_bench.c)
    keys += [qemu.Step(rf"# bench: waiting for keys \(trace {mode}\)",
                       keys=[[chr(ord("a") + i % 26)] for i in range(TRACE_KEYS)]) for mode in ("off", "on")]
    ok_all, all_rows = bench_boot(args.build, "bench.all", "bench=all", args.smp, keys)
    ok_timer, timer_rows = bench_boot(args.build, "bench.timer@1000hz", "bench=timer.* tick=1000", args.smp)
    boots = [b for b in (boot_time(args.build, 1), boot_time(args.build, 4)) if b]
    result = dict(env, smp=args.smp, rows=all_rows, timer_1000hz=timer_rows, boot=boots)
    path = os.path.join(args.build, "bench.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"# wrote {path}")
    return 0 if ok_all and ok_timer and len(boots) == 2 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
