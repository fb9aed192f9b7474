"""The debugger that stops the machine (issue 18), driven at the console: breakpoints set, refused,
hit by a key in the keyboard's ISR and DPC, inspected there (IRQL, registers on the DPC stack,
ActiveDpc), stepped (t, p, gu), other processors looked at (~1), a breakpoint whose command is `g`,
ba's debug registers (refused where they cannot watch, a write caught at HIGH_LEVEL, an execute
breakpoint in a DPC), pc/tc, a SysRq break-in from the keyboard's ISR, a Ctrl-C break-in at the
prompt and during a spin at DISPATCH_LEVEL, and a bugcheck that stops at the prompt (kdbreak=bugcheck). Each boot is a script; the judge searches the transcript for each
expectation in order, so a kernel that skips a step fails at the first one missing.
"""
import os
import re
import time
from typing import List, Optional, Tuple

import qemu
import verdict

ANY_PROMPT = r"^\d: kd> $"  # a prompt waiting for input, not a breakpoint command echoed after one

# (what to do, expectations that must follow in order). A str is typed on COM1 with Enter; ("keys",
# text) is typed on the PS/2 keyboard, ("chord", [qcodes]) pressed there at once; ("ctrl-c", ms)
# sends a Ctrl-C byte that many ms after the prompt, ("ctrl-c-now", ms) that many ms after the
# command above was sent; ("raw", text) sends bytes without waiting for a prompt; ("after", regex,
# text) sends them once a line matches; ("found", regex, template) types the template filled with
# the regex's first group, found in what the boot printed so far.
# uf KfRaiseIrql from its first instruction to the one that writes CR8: group 1 holds the lines before it.
RAISE_RE = r"^irqlab!KfRaiseIrql:\n((?:ffffffff`[0-9a-f]{8} [0-9a-f]+ +.*\n)*?)ffffffff`[0-9a-f]{8} [0-9a-f]+ +mov     cr8,"


def stops(other: int) -> List[Tuple[object, List[str]]]:
    """Breakpoints refused and set, hit in the keyboard's ISR and DPC, stepped, a `g` command."""
    return [
        ("bp KeInsertQueueDpc+2", [r"is not the start of an instruction"]),
        ("bp 0", [r"it is not in the kernel's code"]),
        ("bp KiDispatchTrap", [r"it is on the debugger's own stop path"]),
        ("bp KeStallExecutionProcessor", [r"it is on the debugger's own stop path"]),  # the freeze calls it
        ("g", [r"g: the machine is running"]),
        ("!devobj \\Device\\KeyboardPort0", [r"^DpcForIsr (?P<isrdpc>[0-9a-f]{16}): irqlab!I8042KeyboardIsrDpc"]),
        ("bp nt!KeInsertQueueDpc", []),
        ("bl", [r"     0 e Disable Clear  ffffffff`[0-9a-f]{8}     0001 \(0001\) irqlab!KeInsertQueueDpc"]),
        (("keys", "x"), [r"Breakpoint 0 hit$", r"^irqlab!KeInsertQueueDpc:$"]),
        ("!irql", [r"-- 11 \(DIRQL 11\)"]),
        ("k", [r"irqlab!KeInsertQueueDpc\s*$", r"irqlab!I8042KeyboardInterruptService\+0x", r"irqlab!KiInterruptDispatch\+0x"]),
        ("!ready", [r"!ready needs the running machine"]),
        ("bogus", [r"^Unknown command 'bogus'"]),  # a typo on the stopped machine: still stopped, g goes on
        ("bp I8042KeyboardIsrDpc", []),
        ("bd 0", []),
        ("g", [r"Breakpoint 1 hit$", r"^irqlab!I8042KeyboardIsrDpc:$"]),
        ("!irql", [r"-- 2 \(DISPATCH_LEVEL\)"]),
        ("? @rsp", [r"^Evaluate expression: -?\d+ = (?P<rsp>[0-9a-f]{8}`[0-9a-f]{8})$"]),
        ("dt _KPRCB @$prcb DpcStack", [r"DpcStack +: 0x(?P<dpcstack>[0-9a-f`]{17})"]),
        ("dt _KDPC_DATA @$prcb+30c0 ActiveDpc", [r"ActiveDpc +: 0x(?P<active>[0-9a-f`]{17})"]),
        ("!prcb", [r"^TrapFrame: [0-9a-f]{16} \(.trap it: stopped at irqlab!I8042KeyboardIsrDpc\)$"]),
        (".thread poi(KdKeyboardReaderThread)", [r"^Implicit thread is now ffff"]),
        ("k", [r"irqlab!KeWaitForSingleObject\+0x", r"irqlab!KdKeyboardReader\+0x"]),  # its saved stack
        (".thread @$thread", [r"is running: its stack is its processor's"]),
        (".thread 0", [r"is not a thread"]),
        (".thread", [r"^Implicit thread is now the processor's own"]),
        ("uf nt!KeInsertQueueDpc", [r"mov     \w+,cr8$", r"mov     \w+,0Fh$", r"mov     cr8,\w+$"]),
        ("t", [r"^irqlab!I8042KeyboardIsrDpc\+0x1:$"]),
        ("p", [r"^irqlab!I8042KeyboardIsrDpc\+0x[2-9a-f]:$"]),
        ("pc", [r"^irqlab!I8042KeyboardIsrDpc\+0x[0-9a-f]+:$", r" call    irqlab!\w+"]),
        ("tc", [r"^irqlab![\w.]+(\+0x[0-9a-f]+)?:$", r" call    "]),
        ("gu", [r"^irqlab![\w.]+\+0x[0-9a-f]+:$"]),
        (f"~{other}", [r"^irqlab![\w.]+(\+0x[0-9a-f]+)?:$"]),
        ("r", [rf"processor {other}$"]),
        ("~0", []),
        ("bc *", []),
        ("bl", [r"^No breakpoints$"]),
        ("g", []),
        (("after", r"^x$", "\x15\r"), []),  # the key typed before the stop reaches the line: clear it
        ("bp KdLabDpcRoutine \"g\"", []),
        (f"!labdpc 0n16 {other} medium", [rf"^Queued 16 medium DPCs for processor {other}$",
                                          r"DPC 15 \(medium\) ran as number 16"]),
        ("bc *", []),
    ]


def watches() -> List[Tuple[object, List[str]]]:
    """ba: refused where a debug register cannot watch, then a write at HIGH_LEVEL and an execute."""
    return [
        ("ba w3 KiProcessorBlock", [r"^ba: the size is 1, 2, 4 or 8 bytes, not 3$"]),
        ("ba e4 KeInsertQueueDpc", [r"^ba e: an execute breakpoint's size is 1"]),
        ("ba w4 KiProcessorBlock+1", [r"is not aligned to the size 4"]),
        ("ba r4 0", [r"^ba: 00000000`00000000 is not mapped"]),
        ("ba e1 KiDispatchTrap", [r"it is on the debugger's own stop path"]),
        (("found", r"^DpcForIsr ([0-9a-f]{16}): ", "ba w8 {}+38"), []),  # the KDPC's DpcData
        ("ba e1 I8042KeyboardIsrDpc", []),
        ("ba w4 KdStorm", []),
        ("ba w4 KdStorm+4", []),
        ("ba w4 KdStorm+8", [r"^ba: all four debug registers \(DR0-DR3\) hold a breakpoint"]),
        ("bl", [r"     0 e Disable Clear  [0-9a-f`]{17} w 8 0001 \(0001\) $",
                r"     1 e Disable Clear  [0-9a-f`]{17} e 1 0001 \(0001\) irqlab!I8042KeyboardIsrDpc$"]),
        (("keys", "y"), [r"Breakpoint 0 hit$", r"^irqlab!KeInsertQueueDpc\+0x[0-9a-f]+:$"]),
        ("!irql", [r"-- 15 \(HIGH_LEVEL\)"]),  # KeInsertQueueDpc writes DpcData at HIGH_LEVEL
        ("bc 0", []),  # the key's break code inserts again (a failed lock cmpxchg writes too), the retire clears it
        ("g", [r"Breakpoint 1 hit$", r"^irqlab!I8042KeyboardIsrDpc:$"]),
        ("!irql", [r"-- 2 \(DISPATCH_LEVEL\)"]),
        ("bc *", []),
        ("g", []),
        (("after", r"^y$", "\x15\r"), []),
    ]


def steps() -> List[Tuple[object, List[str]]]:
    """Stepping through KfRaiseIrql's mov cr8 (t with a count), and across a context switch."""
    return [
        # Stepping through the raise: t with a count up to and past KfRaiseIrql's `mov cr8`; r shows it.
        ("bp KfRaiseIrql", []),
        ("!labirql 2 0n10", [r"Breakpoint 0 hit$", r"^irqlab!KfRaiseIrql:$"]),  # the console's own raise
        ("r", [r" rdi=(?P<rdi>[0-9a-f]{16})$", r"cr8=(?P<cr8before>\d+) "]),
        ("bc 0", []),
        ("uf KfRaiseIrql", [r"mov     cr8,\w+$"]),
        (("found", RAISE_RE, lambda m: f"t 0n{m.group(1).count(chr(10)) + 1}"), [r"mov     cr8,\w+$"]),
        ("r", [r"cr8=(?P<cr8after>\d+) "]),
        ("g", []),
        (("raw", "\r"), []),  # back at the prompt it stopped behind: an empty line, a new prompt
        # Stepping across a context switch: the step after `mov rsp,rsi` runs on the other thread's stack.
        ("bp arch_switch_context", []),
        (".sleep 0n20", [r"Breakpoint 0 hit$", r"^irqlab!arch_switch_context:$"]),  # the console's thread waits
        *[("t", []) for _ in range(7)],
        ("t", [r"^irqlab!arch_switch_context\+0x10:$"]),
        ("t", [r"^irqlab!arch_switch_context\+0x13:$"]),
        ("bc *", []),
        ("g", []),
    ]


def break_ins() -> List[Tuple[object, List[str]]]:
    """SysRq on the keyboard (from its ISR), Ctrl-C at the prompt and during a spin at DISPATCH_LEVEL."""
    return [
        (("chord", ["alt", "sysrq"]), [r"Break instruction exception - code 80000003 \(first chance\)$",
                                      r"^irqlab!DbgBreakPoint:$"]),
        ("k", [r"irqlab!I8042KeyboardInterruptService\+0x"]),
        ("g", []),
        (("raw", "\r"), []),
        (("ctrl-c", 0), [r"Break instruction exception - code 80000003 \(first chance\)$", r"^irqlab!DbgBreakPoint:$"]),
        ("g", []),
        (("raw", "\r"), []),  # back in the line editor it broke in from: an empty line, a prompt
        ("!labirql 2 0n2000", []),
        (("ctrl-c-now", 600), [r"Break instruction exception - code 80000003 \(first chance\)$"]),
        ("!irql", [r"-- 13 \(CLOCK_LEVEL\)"]),
        ("k", [r"irqlab!KiClockService\+0x", r"irqlab!KdCmd_labirql\+0x"]),
        ("g", [r"^Held IRQL 2 \(DISPATCH_LEVEL\) for 2000 ms"]),
    ]


BUGCHECK_SESSION: List[Tuple[object, List[str]]] = [
    (".crash", [r"^\*\*\* Fatal System Error: 0x000000e2$",
                r"^Bugcheck 0x000000e2: the machine stays stopped"]),
    ("!analyze -v", [r"^MANUALLY_INITIATED_CRASH \(e2\)$", r"^Arg1: "]),
    ("bp KeInsertQueueDpc", []),  # the table changes; nothing is sent to the frozen processors
    ("ba w8 KiProcessorBlock", []),
    ("bl", [r"^     0 e Disable Clear ", r"^     1 e Disable Clear .* w 8 "]),
    ("bc *", []),
    ("g", [r"g: the machine has bugchecked and cannot go on"]),
    ("!irql", [r"-- 15 \(HIGH_LEVEL\)"]),
    ("q", []),
]


def session(smp: int) -> List[Tuple[object, List[str]]]:
    """Lab 09's session and the debugger's misuse, for a machine with smp processors."""
    return stops(1 if smp > 1 else 0) + watches() + steps() + break_ins()


# A step into an exception: from a stop in a DPC, rip set to 0 and one t. The fetch faults, and with
# kdbreak=bugcheck the bugcheck stops at the prompt: the machine is not lost.
FAULT_SESSION: List[Tuple[object, List[str]]] = [
    ("bp KdLabDpcRoutine", []),
    ("!labdpc 1 0", [r"Breakpoint 0 hit$", r"^irqlab!KdLabDpcRoutine:$"]),
    ("r rip=0", []),
    ("t", [r"^\*\*\* Fatal System Error: 0x0000001e$", r"^Bugcheck 0x0000001e: the machine stays stopped"]),
    ("!analyze -v", [r"^KMODE_EXCEPTION_NOT_HANDLED \(1e\)$", r"^Arg1: ffffffffc0000005$", r"^Arg2: 0000000000000000$"]),
    ("q", []),
]


def ends_running(session) -> bool:
    """Lab 09's session ends on the running machine (quit); the bugcheck sessions end stopped (q)."""
    return session is not BUGCHECK_SESSION and session is not FAULT_SESSION


def typed_from_log(log: str, regex: str, template):
    """A call step: the template filled from what the boot printed so far (or made by it, from the
    match), typed on COM1."""
    def act(qmp, proc):
        deadline = time.monotonic() + 10  # the output it reads may still be arriving
        while True:
            with open(log, encoding="latin-1") as f:
                found = re.search(regex, "\n".join(verdict.clean_lines(f.read())), re.M)
            if found is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if found is None:
            raise RuntimeError(f"no line matching {regex!r} to fill {template!r}")
        command = template(found) if callable(template) else template.format(found.group(1))
        proc.stdin.write((command + "\r").encode("latin-1"))
        proc.stdin.flush()
    return act


def script(session, log: str = "") -> List[qemu.Step]:
    steps = []
    for n, (action, _) in enumerate(session):
        expect = verdict.PROMPT_RE.pattern if n == 0 else ANY_PROMPT
        if isinstance(action, str):
            steps.append(qemu.Step(expect, serial=action + "\r"))
        elif action[0] == "raw":
            steps.append(qemu.Step("", serial=action[1]))
        elif action[0] == "after":
            steps.append(qemu.Step(action[1], serial=action[2]))
        elif action[0] == "keys":
            steps.append(qemu.Step(expect, keys=qemu.text_to_qcodes(action[1])))
        elif action[0] == "chord":
            steps.append(qemu.Step(expect, keys=[action[1]]))
        elif action[0] == "found":
            steps.append(qemu.Step(expect, call=typed_from_log(log, action[1], action[2])))
        else:  # ctrl-c at the prompt, or ctrl-c-now: while the command above still runs
            delay = action[1] / 1000
            steps.append(qemu.Step(expect if action[0] == "ctrl-c" else "", call=lambda q, p, d=delay: time.sleep(d)))
            steps.append(qemu.Step("", serial="\x03"))
    if ends_running(session):
        steps.append(qemu.Step(ANY_PROMPT, serial="quit\r"))
    return steps


def judge_session(session, transcript: str, status: Optional[int], reason: str, want_status: int) -> verdict.Verdict:
    v = verdict.Verdict()
    lines = verdict.clean_lines(transcript)
    text = "\n".join(lines)
    at, found = 0, {}
    for action, expectations in session:
        for pattern in expectations:
            m = re.compile(pattern, re.M).search(text, at)
            if m is None:
                v.failures.append(f"after {action!r}: no line matching {pattern!r}")
                return v
            found.update(m.groupdict())
            at = m.end()
    check_dpc_stack(found, v)
    check_raise(found, v)
    hits = text.count("Breakpoint 0 hit\nirqlab!KdLabDpcRoutine:")
    if ends_running(session) and hits != 16:
        v.failures.append(f"bp KdLabDpcRoutine \"g\" stopped {hits} times for 16 DPCs")
    verdict.check_exit(v, status, reason, want_status)
    return v


def check_dpc_stack(found, v: verdict.Verdict) -> None:
    """In the keyboard's DPC, rsp is on the DPC stack and ActiveDpc is the DpcForIsr."""
    if "rsp" not in found:
        return
    rsp = int(found["rsp"].replace("`", ""), 16)
    top = int(found["dpcstack"].replace("`", ""), 16)
    if not top - 0x6000 <= rsp <= top:
        v.failures.append(f"rsp {rsp:x} in the DPC is not on the DPC stack (top {top:x})")
    if found["active"].replace("`", "") != found["isrdpc"]:
        v.failures.append(f"ActiveDpc {found['active']} is not the keyboard's DpcForIsr {found['isrdpc']}")


def check_raise(found, v: verdict.Verdict) -> None:
    """Stepped past KfRaiseIrql's mov cr8, the stopped processor's CR8 is the level it was asked for."""
    if "cr8after" not in found:
        return
    if int(found["cr8after"]) != int(found["rdi"], 16) & 0xff:
        v.failures.append(f"after the mov cr8 CR8 is {found['cr8after']}, not the requested {int(found['rdi'], 16)}"
                          f" (it was {found['cr8before']})")


def boots(build: str, configurations):
    """(run name, script, command line, machine, smp, judge(boot)) for each debugger boot: lab 09's
    session on each (machine, smp) configuration, and the bugcheck that stops at the prompt once."""
    runs = []
    for machine, smp in configurations:
        name = f"kd.debugger@{machine}+smp{smp}"
        steps = session(smp)
        log = os.path.join(build, "runs", qemu.run_name(name), "serial.log")
        runs.append((name, script(steps, log), "", machine, smp,
                     lambda b, s=steps: judge_session(s, b.transcript, b.status, b.reason, verdict.EXIT_SUCCESS)))
    runs.append(("kd.bugcheck_stop", script(BUGCHECK_SESSION), "kdbreak=bugcheck", "q35", 2,
                 lambda b: judge_session(BUGCHECK_SESSION, b.transcript, b.status, b.reason, verdict.EXIT_BUGCHECK)))
    runs.append(("kd.step_into_fault", script(FAULT_SESSION), "kdbreak=bugcheck", "q35", 2,
                 lambda b: judge_session(FAULT_SESSION, b.transcript, b.status, b.reason, verdict.EXIT_BUGCHECK)))
    return runs
