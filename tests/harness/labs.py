"""Lab replays: each lab in docs/labs/ has a NN-name.replay beside it, the console session the
lab walks through, which is booted and judged like any other boot so that a lab can never
silently go stale. The line format is defined in docs/labs/README.md; in short:

    # a comment
    boot smp=2 cmdline=dpcwatchdogperiod=0    optional, before the first command
    > !labirql d 0n200                        a command typed on COM1 at the `0: kd> ` prompt
    ~ interrupted it 0 times                  a regex that must match its output (in order)
    !~ still queued                           a regex that must match no line of its output
    keys .echo hello                          typed on the PS/2 keyboard (QMP send-key), Enter added
    slowkeys .echo hi                         the same at a person's pace, as the monitor's sendkey
    wait 200                                  pause 200 ms at the prompt before the next command
    bugcheck 0x133 0x0                        the boot must end in this bugcheck (and P1); last

    import labs, qemu
    for b in labs.boots():
        boot = qemu.boot("build", b.name, b.cmdline, smp=b.smp, script=b.script)
        print(b.name, b.judge(boot).failures)

parse() reads a replay, script() turns it into qemu.Step lists, and judge() is a pure function
of the replay and the boot's transcript, status and reason: test_labs.py checks it on canned
text, without QEMU.
"""
import glob
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, NamedTuple, Optional, Set, Tuple

import qemu
import qmp as qmp_client
import verdict

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LAB_DIR = os.path.join(ROOT, "docs", "labs")
PROMPT = r"^0: kd> "  # the console's prompt; the line then holds the echo of what was typed
PROMPT_RE = re.compile(PROMPT)
DEFAULT_SMP = 2
MAX_LINE = 150  # the console's line editor keeps 159 characters
POWER_OFF = "irqlab: powering off"
PARAMS_RE = re.compile(r"^\s*\((0x[0-9A-Fa-f]+),(0x[0-9A-Fa-f]+),(0x[0-9A-Fa-f]+),(0x[0-9A-Fa-f]+)\)")
# {name}, {name+N}, {name-0x10}: a value captured by an earlier (?P<name>...) group.
REFERENCE_RE = re.compile(r"(?<!\\)\{([A-Za-z_]\w*)(?:([+-])(0x[0-9A-Fa-f]+|\d+))?\}")
KEY_PACE_S = 0.003  # as keyboard.py: QEMU drops input events when too many wait
KEY_HOLD_MS = 1
SLOW_PACE_S = 0.3  # `slowkeys`: a person typing one `sendkey` a command ...
SLOW_HOLD_MS = 100  # ... which holds each key 100 ms, QEMU's default


class ReplayError(ValueError):
    """A replay that does not follow the format; the message starts with file:line."""


@dataclass
class Check:
    pattern: str  # as written; {name} references are filled in when judged
    negated: bool  # `!~`: must match no line of the output
    line: int
    references: List[str] = field(default_factory=list)
    captures: List[str] = field(default_factory=list)  # the (?P<name>...) groups it sets


@dataclass
class Command:
    kind: str  # "serial" (`>`), "keys" or "slowkeys"
    text: str
    line: int
    checks: List[Check] = field(default_factory=list)
    wait_ms: int = 0  # a pause at the prompt before typing it (a student would take longer)


@dataclass
class Replay:
    name: str
    smp: int = DEFAULT_SMP
    cmdline: str = ""
    commands: List[Command] = field(default_factory=list)
    bugcheck: Optional[Tuple[int, Optional[int]]] = None  # (code, P1 or None)


class LabBoot(NamedTuple):
    name: str  # run name, lab.<file name without .replay>
    script: List[qemu.Step]
    judge: Callable  # judge(boot) -> verdict.Verdict
    smp: int
    cmdline: str


# ---- parsing ------------------------------------------------------------------------------

def parse(text: str, name: str = "replay") -> Replay:
    """A replay's text -> Replay; raises ReplayError naming the file and line."""
    replay = Replay(name)
    wait: Optional[Tuple[int, int]] = None  # a `wait` for the next command: (line, milliseconds)
    defined: Set[str] = set()
    bugcheck_line = 0
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue

        def error(message: str) -> ReplayError:
            return ReplayError(f"{name}:{number}: {message}")

        if bugcheck_line:
            raise error(f"nothing may follow `bugcheck` (line {bugcheck_line})")
        word, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if wait and word not in (">", "keys", "slowkeys"):
            raise error(f"`wait` (line {wait[0]}) must be followed by a command")
        if word == "boot":
            if replay.commands:
                raise error("`boot` must come before the first command")
            parse_boot(replay, rest, error)
        elif word == "wait":
            if not re.fullmatch(r"\d+", rest) or not 1 <= int(rest) <= 10000:
                raise error("`wait <milliseconds>`, 1 to 10000")
            wait = (number, int(rest))
        elif word in (">", "keys", "slowkeys"):
            kind = "serial" if word == ">" else word
            check_command_text(rest, kind, error)
            replay.commands.append(Command(kind, rest, number, wait_ms=wait[1] if wait else 0))
            wait = None
        elif word in ("~", "!~"):
            if not replay.commands:
                raise error(f"`{word}` before any command: it checks the output of the command above")
            replay.commands[-1].checks.append(parse_check(rest, word == "!~", number, defined, error))
        elif word == "bugcheck":
            if not replay.commands:
                raise error("`bugcheck` needs a command before it")
            replay.bugcheck = parse_bugcheck(rest, error)
            bugcheck_line = number
        else:
            raise error(f"unknown directive {word!r} (boot, >, keys, slowkeys, ~, !~, wait, bugcheck)")
    if wait:
        raise ReplayError(f"{name}:{wait[0]}: `wait` must be followed by a command")
    if not replay.commands:
        raise ReplayError(f"{name}: no command (`>` or `keys`)")
    return replay


def parse_boot(replay: Replay, rest: str, error) -> None:
    while rest:
        if rest.startswith("cmdline="):
            replay.cmdline = rest[len("cmdline="):].strip()  # the rest of the line
            return
        option, _, rest = rest.partition(" ")
        rest = rest.strip()
        match = re.fullmatch(r"smp=(\d+)", option)
        if not match or not 1 <= int(match.group(1)) <= 64:
            raise error(f"bad boot option {option!r} (smp=1..64, cmdline=<the rest of the line>)")
        replay.smp = int(match.group(1))


def check_command_text(text: str, kind: str, error) -> None:
    if not text:
        raise error("an empty command")
    if len(text) > MAX_LINE:
        raise error(f"a command longer than {MAX_LINE} characters")
    if any(not " " <= c <= "~" for c in text):
        raise error("a command holds a character that is not printable ASCII")
    if text.split()[0] in ("quit", "reboot"):
        raise error("the harness ends every replay with `quit` itself (or the bugcheck ends it)")
    if kind in ("keys", "slowkeys"):
        try:
            qemu.text_to_qcodes(text)
        except ValueError as e:
            raise error(f"cannot type it on a US keyboard: {e}")


def parse_check(pattern: str, negated: bool, number: int, defined: Set[str], error) -> Check:
    if not pattern:
        raise error("an empty pattern")
    references = [m.group(1) for m in REFERENCE_RE.finditer(pattern)]
    for name in references:
        if name not in defined:
            raise error(f"{{{name}}} names no (?P<{name}>...) capture of an earlier pattern")
    try:
        compiled = re.compile(REFERENCE_RE.sub("0", pattern))
    except re.error as e:
        raise error(f"bad regex: {e}")
    captures = list(compiled.groupindex)
    if negated and captures:
        raise error("a `!~` pattern cannot capture: it never matches")
    defined.update(captures)
    return Check(pattern, negated, number, references, captures)


def parse_bugcheck(rest: str, error) -> Tuple[int, Optional[int]]:
    words = rest.split()
    try:
        if not 1 <= len(words) <= 2:
            raise ValueError
        values = [int(w, 16) for w in words]
    except ValueError:
        raise error("`bugcheck <code> [P1]`, both hex (0x133 0x0)")
    return values[0], values[1] if len(values) == 2 else None


def load(path: str) -> Replay:
    with open(path, encoding="utf-8") as f:
        return parse(f.read(), os.path.relpath(os.path.abspath(path), ROOT))


# ---- the boot -----------------------------------------------------------------------------

def typist(text: str, hold_ms: int = KEY_HOLD_MS, pace_s: float = KEY_PACE_S) -> Callable:
    """A Step call that types `text` on the PS/2 keyboard. When QMP goes away because QEMU
    exited (a bugcheck while typing, as the deadlock lab wants), it stops quietly: the judge
    decides from the transcript."""
    chords = qemu.text_to_qcodes(text)

    def type_keys(qmp, proc):
        for i, chord in enumerate(chords):
            try:
                qmp.send_key(list(chord), hold_ms)
            except (OSError, qmp_client.QmpError):
                try:
                    proc.wait(timeout=5)
                    return
                except subprocess.TimeoutExpired:
                    raise RuntimeError(f"QMP failed after {i} keys and QEMU is still running")
            time.sleep(pace_s)

    return type_keys


def pause(ms: int) -> Callable:
    def wait(qmp, proc):
        time.sleep(ms / 1000.0)

    wait.__name__ = f"wait_{ms}ms"
    return wait


def script(replay: Replay) -> List[qemu.Step]:
    """One step per command, each waiting for the prompt; then `quit`. A bugcheck replay gets
    the `quit` too: if the bugcheck never comes, the boot ends at once instead of timing out,
    and the judge fails it."""
    steps = []
    for command in replay.commands:
        expect = PROMPT
        if command.wait_ms:
            steps.append(qemu.Step(PROMPT, call=pause(command.wait_ms)))
            expect = ""  # right after the pause
        if command.kind == "serial":
            steps.append(qemu.Step(expect, serial=command.text + "\r"))
        elif command.kind == "slowkeys":
            steps.append(qemu.Step(expect, call=typist(command.text + "\n", SLOW_HOLD_MS, SLOW_PACE_S)))
        else:
            steps.append(qemu.Step(expect, call=typist(command.text + "\n")))
    steps.append(qemu.Step(PROMPT, serial="quit\r"))
    return steps


# ---- the judge ----------------------------------------------------------------------------

def judge(replay: Replay, transcript: str, status: Optional[int], reason: str) -> verdict.Verdict:
    """Each command's output (from its prompt line to the next prompt, or to the end for the
    last command of a bugcheck replay) must hold its `~` patterns in order and none of its
    `!~` ones; then the end: `quit` and status 33, or the declared bugcheck and status 37."""
    v = verdict.Verdict()
    lines = verdict.boot_lines(transcript, v)
    prompts = []  # (line index, where the echo starts)
    for i, line in enumerate(lines):
        match = PROMPT_RE.match(line)
        if match:
            prompts.append((i, match.end()))
    sent = replay.commands
    captures: Dict[str, str] = {}
    for k, command in enumerate(sent):
        where = f"{replay.name}:{command.line}"
        if k >= len(prompts):
            v.failures.append(f"{where}: no prompt came to type `{command.text}` at (the boot "
                              f"ended: {reason})" if lines else f"{where}: the kernel never started")
            break
        start, column = prompts[k]
        end = prompts[k + 1][0] if k + 1 < len(prompts) else len(lines)
        last_of_bugcheck = k == len(sent) - 1 and replay.bugcheck is not None
        rest = after_echo(lines[start][column:], command.text, last_of_bugcheck)
        if rest is None:
            v.failures.append(f"{where}: prompt {k + 1} shows {lines[start][column:]!r}, not the "
                              f"command {command.text!r}: input lost or out of step")
            break
        output = ([rest] if rest else []) + lines[start + 1:end]
        check_output(replay, command, output, captures, v)
    if replay.bugcheck is None:
        judge_quit(lines, prompts, len(sent), v)
        for _, code in verdict.bugchecks(lines):
            v.failures.append(f"unexpected bugcheck 0x{code:08X}")
        verdict.check_exit(v, status, reason, verdict.EXIT_SUCCESS)
    else:
        judge_bugcheck(replay, lines, prompts, len(sent), v)
        verdict.check_exit(v, status, reason, verdict.EXIT_BUGCHECK)
    return v


def after_echo(echo: str, text: str, partial: bool) -> Optional[str]:
    """What the prompt line holds after the typed command: "" normally. With `partial` (the
    command a bugcheck interrupts) the echo may stop early and the report go on on that line."""
    if echo.startswith(text):
        return echo[len(text):]
    if not partial:
        return None
    n = 0
    while n < min(len(echo), len(text)) and echo[n] == text[n]:
        n += 1
    return echo[n:]


def fill(pattern: str, captures: Dict[str, str]) -> str:
    """The pattern with each {name} / {name+N} replaced by the captured text (as a literal)."""
    def value(match):
        name, sign, offset = match.groups()
        if name not in captures:
            raise ValueError(f"capture {{{name}}} was not set")
        text = captures[name]
        if not sign:
            return re.escape(text)
        delta = int(offset, 0) * (1 if sign == "+" else -1)
        if re.fullmatch(r"0x[0-9A-Fa-f]+", text):
            return f"0x{int(text, 16) + delta:x}"
        if re.fullmatch(r"0n\d+", text):
            return f"0n{int(text[2:]) + delta}"
        if re.fullmatch(r"-?\d+", text):
            return str(int(text) + delta)
        raise ValueError(f"capture {{{name}}} = {text!r} is not a number (0x.., 0n.. or decimal)")

    return REFERENCE_RE.sub(value, pattern)


def excerpt(output: List[str], limit: int = 12) -> str:
    shown = [f"  | {line}" for line in output[:limit]]
    if len(output) > limit:
        shown.append(f"  | ... {len(output) - limit} more lines")
    return "\n".join(shown) if shown else "  | (no output)"


def check_output(replay: Replay, command: Command, output: List[str], captures: Dict[str, str],
                 v: verdict.Verdict) -> None:
    row, column = 0, 0  # the cursor: a `~` pattern is searched from the end of the last match
    for check in command.checks:
        where = f"{replay.name}:{check.line}: `{command.text}`"
        try:
            regex = re.compile(fill(check.pattern, captures))
        except (ValueError, re.error) as e:
            v.failures.append(f"{where}: /{check.pattern}/: {e}")
            continue
        if check.negated:
            hit = next((line for line in output if regex.search(line)), None)
            if hit is not None:
                v.failures.append(f"{where}: /{check.pattern}/ must not match, but matches {hit!r}")
            continue
        found = None
        for r in range(row, len(output)):
            match = regex.search(output[r], column if r == row else 0)
            if match:
                found = (r, match)
                break
        if found is None:
            v.failures.append(f"{where}: no match for /{regex.pattern}/"
                              f"{' after the previous pattern' if row or column else ''}; the output:\n"
                              + excerpt(output[row:]))
            continue
        row, match = found
        column = match.end()
        captures.update({k: val for k, val in match.groupdict().items() if val is not None})


def judge_quit(lines: List[str], prompts, count: int, v: verdict.Verdict) -> None:
    if len(prompts) <= count:
        return  # already reported: a command got no prompt
    start, column = prompts[count]
    if lines[start][column:] != "quit":
        v.failures.append(f"prompt {count + 1} shows {lines[start][column:]!r}, expected the "
                          f"harness's `quit`")
    elif POWER_OFF not in lines[start + 1:]:
        v.failures.append(f"no {POWER_OFF!r} line after `quit`")
    if len(prompts) > count + 1:
        v.failures.append(f"{len(prompts)} prompts, expected {count + 1}: something typed an extra line")


def judge_bugcheck(replay: Replay, lines: List[str], prompts, count: int, v: verdict.Verdict) -> None:
    code, p1 = replay.bugcheck
    found = verdict.bugchecks(lines)
    if len(prompts) > count:
        v.failures.append(f"the prompt came back after the last command: no bugcheck ended the "
                          f"boot, expected 0x{code:08X}")
    if not found:
        v.failures.append(f"no bugcheck, expected 0x{code:08X}")
        return
    if len(found) > 1:
        v.failures.append(f"{len(found)} bugcheck banners, expected one")
    index, seen = found[0]
    if count and prompts and index < prompts[min(count, len(prompts)) - 1][0]:
        v.failures.append("the bugcheck came before the last command")
    if seen != code:
        v.failures.append(f"bugcheck 0x{seen:08X}, expected 0x{code:08X}")
    params = PARAMS_RE.match(lines[index + 1]) if index + 1 < len(lines) else None
    if params is None:
        v.failures.append("no parameter line after the bugcheck banner")
    elif p1 is not None and int(params.group(1), 16) != p1:
        v.failures.append(f"bugcheck P1 = {params.group(1)}, expected 0x{p1:X}")
    halts = [m for m in map(verdict.HALT_RE.match, lines[index:]) if m]
    if not halts:
        v.failures.append("missing '# irqlab: system halted after bugcheck 0x........'")
    elif int(halts[0].group(1), 16) != seen:
        v.failures.append(f"halt line names 0x{halts[0].group(1)}, banner 0x{seen:08X}")


# ---- for the harness ----------------------------------------------------------------------

def boots(lab_dir: str = LAB_DIR) -> List[LabBoot]:
    """(run name, script, judge(boot) -> Verdict, smp, cmdline) for each docs/labs/*.replay.
    A replay that does not parse still gets a (short) boot whose judge reports why."""
    result = []
    for path in sorted(glob.glob(os.path.join(lab_dir, "*.replay"))):
        name = "lab." + os.path.basename(path)[:-len(".replay")]
        try:
            replay = load(path)
        except (OSError, ReplayError) as e:
            result.append(LabBoot(name, [qemu.Step(PROMPT, serial="quit\r")],
                                  lambda boot, why=str(e): verdict.Verdict(failures=[why]),
                                  DEFAULT_SMP, ""))
            continue
        result.append(LabBoot(name, script(replay),
                              lambda boot, r=replay: judge(r, boot.transcript, boot.status, boot.reason),
                              replay.smp, replay.cmdline))
    return result
