"""Keyboard boots: keys typed into the guest's PS/2 keyboard through QMP `send-key`, judged on
what the console echoes and what `!kbd` / `!kbddemo` report (issue 6).

Each boot reaches the `0: kd> ` prompt with an empty command line, then runs a script (qemu.Step).
The judges here are pure functions of the transcript, so test_keyboard.py checks them on canned
transcripts without QEMU.
"""
import re
import time
from typing import List, Optional

import qemu
import qmp as qmp_client
import verdict

PROMPT = r"^0: kd> "
READY = r"i8042: keyboard ready"
FLOOD_KEYS = 2000
DEMO_KEYS = 100

# What is typed, and the echo the console must print for it: letters, digits, unshifted and
# shifted symbols, Backspace, Caps Lock.
TYPED = [
    (".echo Hello, World! 0123456789 -=[]\\;',./`\n", "Hello, World! 0123456789 -=[]\\;',./`"),
    ('.echo !@#$%^&*()_+{}|:"<>?~\n', '!@#$%^&*()_+{}|:"<>?~'),
    (".echo abcx\bd\n", "abcd"),
]
CAPS = qemu.text_to_qcodes(".echo ") + [["caps_lock"], ["a"], ["b"], ["caps_lock"], ["c"], ["shift", "d"],
                                        ["ret"]]
CAPS_ECHO = "ABcD"
# The line editor, driven from the keyboard (arrows arrive as terminal escape sequences): Left,
# Right and inserting in the middle; Up to recall the last line and add to it; Ctrl-U to drop
# a half-typed line. Each list of chords and the echo it must give.
EDITING = [
    (qemu.text_to_qcodes(".echo hlo") + [["left"], ["left"], ["e"], ["right"], ["l"], ["ret"]], "hello"),
    ([["up"], ["shift", "1"], ["ret"]], "hello!"),
    (qemu.text_to_qcodes("junk") + [["ctrl", "u"]] + qemu.text_to_qcodes(".echo clean\n"), "clean"),
]

KBD_ISR_RE = re.compile(r"^\s*ISR:\s+(\d+) runs \((\d+) not at DIRQL\), (\d+) bytes queued, (\d+) dropped "
                        r"\((\d+) keys lost\)")
KBD_DPC_RE = re.compile(r"^\s*DPC:\s+(\d+) queued, (\d+) already queued, (\d+) runs \((\d+) not at "
                        r"DISPATCH_LEVEL\)")
KBD_KEYS_RE = re.compile(r"^\s*keys: (\d+) decoded, (\d+) to the class driver")
KBD_CLASS_RE = re.compile(r"^\s*kbdclass: (\d+) reads \((\d+) pended, (\d+) completed by the DPC\), (\d+) waiting now; "
                          r"bytes (\d+) buffered, (\d+) read, (\d+) lost, (\d+) held")
DEMO_RE = re.compile(r"^kbddemo: (\w+) mode; RunQueuedItems ran (\d+) times, (\d+) key bytes came while "
                     r"it ran; jobs (\d+) queued, (\d+) processed, (\d+) dropped")
# The line may follow echoed keys on the same line: searched, not matched.
DEADLOCK_RE = re.compile(r"spin lock irqlab!DeviceJobQueue \S+ is already held by this CPU at IRQL 2 "
                         r"\(DISPATCH_LEVEL\); acquiring it again at IRQL 11 ")
# The banner's parameters: the lock, the owner's IRQL (2), the ISR's (11), not queued (0).
DEADLOCK_PARAMS_RE = re.compile(r"^\s*\(0x[0-9A-F]{16},0x0{15}2,0x0{15}B,0x0{16}\)")


def presses(chords) -> int:
    """Key presses (make codes) a list of chords sends: every key of every chord."""
    return sum(len(chord) for chord in chords)


def typed_chords():
    chords = []
    for text, _ in TYPED:
        chords += qemu.text_to_qcodes(text)
    chords += CAPS
    for keys, _ in EDITING:
        chords += keys
    return chords


def last_match(lines: List[str], pattern: re.Pattern) -> Optional[re.Match]:
    found = [m for m in map(pattern.match, lines) if m]
    return found[-1] if found else None


def check_kbd(lines: List[str], v: verdict.Verdict, keys: int) -> None:
    """The last `!kbd`: ISR always at DIRQL, DPC always at DISPATCH, keys = decoded + lost."""
    isr, dpc, decoded = (last_match(lines, p) for p in (KBD_ISR_RE, KBD_DPC_RE, KBD_KEYS_RE))
    if not (isr and dpc and decoded):
        v.failures.append("no complete !kbd output")
        return
    if int(isr.group(1)) == 0 or int(dpc.group(3)) == 0:
        v.failures.append(f"ISR ran {isr.group(1)} times, DPC {dpc.group(3)}: the keys never arrived")
    if isr.group(2) != "0" or dpc.group(4) != "0":
        v.failures.append(f"ISR off DIRQL {isr.group(2)} times, DPC off DISPATCH {dpc.group(4)} times")
    lost = int(isr.group(5))
    if int(decoded.group(1)) + lost != keys:
        v.failures.append(f"{keys} keys sent, {decoded.group(1)} decoded + {lost} counted lost")


def check_class(lines: List[str], v: verdict.Verdict, chars: int) -> None:
    """The class driver accounts for every byte the port handed it (for letters: one byte a key)."""
    c = last_match(lines, KBD_CLASS_RE)
    if c is None:
        v.failures.append("no kbdclass line in !kbd")
        return
    buffered, read, lost, held = (int(c.group(n)) for n in (5, 6, 7, 8))
    if buffered + lost != chars or buffered != read + held:
        v.failures.append(f"kbdclass: {chars} bytes handed to it, {buffered} buffered ({read} read + {held} held) "
                          f"+ {lost} lost")


def judge_console(transcript: str, status: Optional[int], reason: str, keys: int,
                  echoes: List[str]) -> verdict.Verdict:
    """A keyboard boot that must end with `quit`: no bugcheck, the echoes, the counters."""
    v = verdict.Verdict()
    lines = verdict.boot_lines(transcript, v)
    for _, code in verdict.bugchecks(lines):
        v.failures.append(f"unexpected bugcheck 0x{code:08X}")
    if not any(re.match(READY, line) for line in lines):
        v.failures.append("no 'i8042: keyboard ready' line")
    for echo in echoes:
        if echo not in lines:
            v.failures.append(f"the console did not echo {echo!r}")
    check_kbd(lines, v, keys)
    verdict.check_exit(v, status, reason, verdict.EXIT_SUCCESS)
    return v


def judge_demo_fixed(transcript: str, status: Optional[int], reason: str) -> verdict.Verdict:
    """Fixed mode: keys came while RunQueuedItems ran, and every job was processed."""
    v = judge_console(transcript, status, reason, DEMO_KEYS, [])
    fixed = [m for m in map(DEMO_RE.match, verdict.clean_lines(transcript)) if m and m.group(1) == "fixed"]
    demo = fixed[-1] if fixed else None
    if demo is None:
        v.failures.append("no '!kbddemo' line in fixed mode")
        return v
    runs, during, queued, processed, dropped = map(int, demo.groups()[1:])
    if runs == 0 or during == 0:
        v.failures.append(f"RunQueuedItems ran {runs} times with {during} key bytes during it")
    if queued != 2 * DEMO_KEYS or processed != queued or dropped:
        v.failures.append(f"jobs: {queued} queued (expected {2 * DEMO_KEYS}), {processed} processed, "
                          f"{dropped} dropped")
    return v


def judge_demo_broken(transcript: str, status: Optional[int], reason: str) -> verdict.Verdict:
    """Broken mode: the deadlock ends in 0xF, with the line naming the lock and both IRQLs."""
    v = verdict.Verdict()
    lines = verdict.boot_lines(transcript, v)
    found = verdict.bugchecks(lines)
    if [code for _, code in found] != [0xF]:
        v.failures.append(f"bugchecks {[hex(code) for _, code in found]}, expected one 0xF")
    elif not (found[0][0] + 1 < len(lines) and DEADLOCK_PARAMS_RE.match(lines[found[0][0] + 1])):
        v.failures.append("0xF's parameters are not (lock, 2, 0xB, 0)")
    if not any(DEADLOCK_RE.search(line) for line in lines):
        v.failures.append("no 'spin lock irqlab!DeviceJobQueue ... already held by this CPU at IRQL 2' line")
    if not any(verdict.HALT_RE.match(line) for line in lines):
        v.failures.append("no '# irqlab: system halted after bugcheck' line")
    verdict.check_exit(v, status, reason, verdict.EXIT_BUGCHECK)
    return v


def settle(qmp, proc) -> None:
    """Lets the last keys' interrupts and DPCs finish before the counters are read."""
    time.sleep(1.0)


def typing_script() -> List[qemu.Step]:
    steps = [qemu.Step(PROMPT, keys=TYPED[0][0])]
    for (text, _), (_, echo) in zip(TYPED[1:], TYPED):
        steps.append(qemu.Step("^" + re.escape(echo) + "$", keys=text))
    steps.append(qemu.Step("^" + re.escape(TYPED[-1][1]) + "$", keys=CAPS))
    after = CAPS_ECHO
    for keys, echo in EDITING:
        steps.append(qemu.Step("^" + re.escape(after) + "$", keys=keys))
        after = echo
    steps += [qemu.Step("^" + re.escape(after) + "$", serial="!kbd\r"),
              qemu.Step(r"ISR -> DPC", serial="quit\r")]
    return steps


def flood_script() -> List[qemu.Step]:
    letters = [[chr(ord("a") + i % 26)] for i in range(FLOOD_KEYS)]
    return [qemu.Step(PROMPT, keys=letters), qemu.Step("", call=settle),
            qemu.Step("", serial="\x15!kbd\r"),  # Ctrl-U drops the flood's half line
            qemu.Step(r"ISR -> DPC", serial="quit\r")]


def type_until_gone(qmp, proc) -> None:
    """DEMO_KEYS letters, 10 ms apart; in broken mode the kernel bugchecks and QEMU exits midway."""
    for i in range(DEMO_KEYS):
        try:
            qmp.send_key([chr(ord("a") + i % 26)], 1)
        except (OSError, qmp_client.QmpError):
            try:  # QMP went away: is QEMU exiting (the bugcheck ended the boot, as it should)?
                proc.wait(timeout=5)
                return
            except Exception:
                raise RuntimeError(f"QMP failed after {i} keys and QEMU is still running")
        time.sleep(0.01)


def demo_script(mode: str) -> List[qemu.Step]:
    steps = [qemu.Step(PROMPT, serial=f"!kbddemo {mode}\r"),
             qemu.Step(rf"^kbddemo: {mode} mode", call=type_until_gone)]
    if mode == "fixed":
        steps += [qemu.Step("", call=settle), qemu.Step("", serial="\x15!kbddemo\r"),
                  qemu.Step(r"^kbddemo: fixed mode; RunQueuedItems", serial="!kbddemo off\r"),
                  qemu.Step(r"^kbddemo: off mode", serial="!kbd\r"),
                  qemu.Step(r"ISR -> DPC", serial="quit\r")]
    return steps


def boots():
    """(run name, script, judge(boot) -> Verdict) for each keyboard boot."""
    typed = typing_script()
    return [
        ("kbd.typing", typed,
         lambda b: judge_console(b.transcript, b.status, b.reason, presses(typed_chords()),
                                 [echo for _, echo in TYPED] + [CAPS_ECHO] + [echo for _, echo in EDITING])),
        ("kbd.flood", flood_script(),
         lambda b: judge_console(b.transcript, b.status, b.reason, FLOOD_KEYS, [])),
        ("kbd.deadlock_fixed", demo_script("fixed"),
         lambda b: judge_demo_fixed(b.transcript, b.status, b.reason)),
        ("kbd.deadlock_broken", demo_script("broken"),
         lambda b: judge_demo_broken(b.transcript, b.status, b.reason)),
    ]
