"""`make trace SCENARIO=<name>`: boot, record a scenario with the trace on, dump it through COM2,
and leave build/trace/<name>.{bin,json,svg,txt} (tools/trace converts and checks it).

    python3 tests/harness/tracerun.py --build build --scenario keyboard|storm|labNN|FILE [--smp N]

Scenarios:
  keyboard  keys typed through QMP at the console (the i8042 ISR -> its DPC)
  storm     the DPC storm test (test=storm.*), traced from boot, dumped by the test runner
  labNN     the console session of docs/labs/NN-*.replay (its boot options and commands)
  FILE      a console script: one command a line, typed on serial; `keys TEXT` types TEXT
            through the keyboard, `wait MS` pauses, `#` starts a comment
`make test` runs `keyboard` at -smp 1 and 4 through the converter (trace_boots).
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from typing import List, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labs  # noqa: E402
import qemu  # noqa: E402
from qemu import Step  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PROMPT = r"^\d+: kd> "
WROTE_RE = re.compile(r"^trace: wrote (\d+) bytes to COM2 \(crc32 ([0-9a-f]{8})\)", re.M)
COM2 = "com2.bin"


@dataclass
class Scenario:
    name: str
    smp: int = 4
    cmdline: str = ""
    actions: List[tuple] = field(default_factory=list)  # ("serial"|"keys"|"wait", text)
    console: bool = True  # False: the test runner records and dumps (cmdline has test= and trace=)


def keyboard(smp: int) -> Scenario:
    return Scenario("keyboard", smp, "", [("keys", "!kbd\n"), ("keys", "version\n")])


def storm(smp: int) -> Scenario:
    return Scenario("storm", smp, "test=storm.* storm=3000 trace=default tracebuffer=1024", console=False)


def lab(number: str, smp: Optional[int]) -> Scenario:
    paths = glob.glob(os.path.join(ROOT, "docs", "labs", f"{number}-*.replay"))
    if not paths:
        raise SystemExit(f"tracerun: no docs/labs/{number}-*.replay")
    with open(paths[0], encoding="utf-8") as f:
        replay = labs.parse(f.read(), os.path.basename(paths[0]))
    actions = []
    for c in replay.commands:
        if c.wait_ms:
            actions.append(("wait", c.wait_ms))
        actions.append(("serial" if c.kind == "serial" else "keys", c.text + ("" if c.kind == "serial" else "\n")))
    return Scenario(f"lab{number}", smp or replay.smp, replay.cmdline, actions)


def script_file(path: str, smp: int) -> Scenario:
    actions = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("keys "):
                actions.append(("keys", line[5:] + "\n"))
            elif re.fullmatch(r"wait \d+", line):
                actions.append(("wait", int(line[5:])))
            else:
                actions.append(("serial", line))
    return Scenario(os.path.splitext(os.path.basename(path))[0], smp, "", actions)


def scenario(name: str, smp: Optional[int]) -> Scenario:
    if name == "keyboard":
        return keyboard(smp or 4)
    if name == "storm":
        return storm(smp or 4)
    if re.fullmatch(r"lab\d\d", name):
        return lab(name[3:], smp)
    if os.path.isfile(name):
        return script_file(name, smp or 4)
    raise SystemExit(f"tracerun: unknown scenario {name!r} (keyboard, storm, labNN, or a script file)")


def script(s: Scenario) -> List[Step]:
    """!trace start at the prompt (unless the scenario starts it), its actions, !trace dump, quit."""
    starts = any(kind == "serial" and str(value).startswith("!trace start") for kind, value in s.actions)
    steps = [] if starts else [Step(PROMPT, serial="!trace start\r"), Step(r"^trace: recording", serial="")]
    for kind, value in s.actions:
        if kind == "wait":
            steps.append(Step(PROMPT, call=lambda qmp, proc, ms=value: time.sleep(ms / 1000)))
            steps.append(Step(r"", serial="\r"))
        elif kind == "keys":
            steps.append(Step(PROMPT, keys=value))
        else:
            steps.append(Step(PROMPT, serial=value + "\r"))
    steps += [Step(PROMPT, serial="!trace dump\r"), Step(WROTE_RE.pattern, serial=""),
              Step(PROMPT, serial="quit\r")]
    return steps


def check_file(transcript: str, path: str) -> List[str]:
    """The file COM2 received must hold exactly what the kernel said it wrote."""
    m = list(WROTE_RE.finditer(transcript))
    if not m:
        return ["the kernel never said 'trace: wrote N bytes to COM2'"]
    if not os.path.exists(path):
        return [f"{path} is missing"]
    size, crc = int(m[-1].group(1)), m[-1].group(2)
    with open(path, "rb") as f:
        data = f.read()
    start = data.rfind(b"IRQLTRC1")
    body = data[start:] if start >= 0 else b""
    problems = []
    if len(body) != size:
        problems.append(f"COM2 got {len(body)} bytes of trace, the kernel wrote {size}")
    elif f"{zlib.crc32(body[:-16]) & 0xFFFFFFFF:08x}" != crc:
        problems.append(f"the CRC-32 of what COM2 got is not the kernel's {crc}")
    return problems


def convert(trace_bin: str, out: str) -> subprocess.CompletedProcess:
    base = os.path.splitext(out)[0]
    return subprocess.run([sys.executable, os.path.join(ROOT, "tools", "trace"), "convert", trace_bin,
                           "--json", base + ".json", "--svg", base + ".svg", "--summary", base + ".txt"],
                          capture_output=True, text=True, timeout=120)


def check_outputs(base: str, cpus: int) -> List[str]:
    """What make test asks of a converted trace: JSON that loads with a track per CPU and slices,
    an SVG with one lane per CPU, a summary."""
    import json
    import xml.etree.ElementTree as ET
    problems = []
    try:
        with open(base + ".json", encoding="utf-8") as f:
            events = json.load(f)["traceEvents"]
        tracks = {e["tid"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
        if tracks != set(range(cpus)):
            problems.append(f"{base}.json has tracks {sorted(tracks)}, not one per CPU (0-{cpus - 1})")
        if not any(e["ph"] == "X" and e.get("cat") == "dpc" for e in events):
            problems.append(f"{base}.json has no DPC slice")
        lanes = [g.get("id") for g in ET.parse(base + ".svg").getroot().iter("{http://www.w3.org/2000/svg}g")]
        if lanes != [f"lane-cpu{n}" for n in range(cpus)]:
            problems.append(f"{base}.svg has lanes {lanes}, not one per CPU")
        with open(base + ".txt", encoding="utf-8") as f:
            if "ISR -> DPC latency (" not in f.read():
                problems.append(f"{base}.txt gives no ISR -> DPC latency")
    except (OSError, ValueError, KeyError, ET.ParseError) as error:
        problems.append(f"{base}: {error}")
    return problems


def run(build: str, s: Scenario, out_dir: str, run_name: Optional[str] = None):
    """Boots the scenario; returns (boot, problems, the .bin path)."""
    steps = script(s) if s.console else None
    boot = qemu.boot(build, run_name or f"trace.{s.name}", s.cmdline, smp=s.smp, script=steps, serial2=COM2)
    problems = []
    if boot.status not in (33,):
        problems.append(f"the boot ended with {boot.reason}, status {boot.status} (expected 33)")
    if steps is not None and boot.steps_done != len(steps):
        problems.append(f"the scenario stopped at step {boot.steps_done + 1} of {len(steps)}: "
                        f"{boot.script_error or 'its text never came'}")
    os.makedirs(out_dir, exist_ok=True)
    trace_bin = os.path.join(out_dir, s.name + ".bin")
    if os.path.exists(os.path.join(boot.rundir, COM2)):
        shutil.copy(os.path.join(boot.rundir, COM2), trace_bin)
    problems += check_file(boot.transcript, trace_bin)
    if not problems:
        done = convert(trace_bin, trace_bin)
        if done.returncode != 0:
            problems.append(done.stderr.strip() or f"tools/trace exited {done.returncode}")
    return boot, problems, trace_bin


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default="build")
    parser.add_argument("--scenario", default="keyboard")
    parser.add_argument("--smp", type=int, default=None)
    args = parser.parse_args(argv)
    s = scenario(args.scenario, args.smp)
    out_dir = os.path.join(args.build, "trace")
    print(f"trace: scenario {s.name}, {s.smp} CPUs" + (f", command line '{s.cmdline}'" if s.cmdline else ""))
    boot, problems, trace_bin = run(args.build, s, out_dir)
    for p in problems:
        print(f"trace: {p} (transcript: {os.path.join(boot.rundir, 'serial.log')})")
    if problems:
        return 1
    base = os.path.splitext(trace_bin)[0]
    with open(base + ".txt", encoding="utf-8") as f:
        sys.stdout.write(f.read())
    print(f"trace: {base}.json (open in https://ui.perfetto.dev or chrome://tracing), {base}.svg, {base}.txt")
    qemu.tidy(boot.rundir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
