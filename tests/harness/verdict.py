"""Judges one boot's serial transcript against the output contract in docs/testing.md.

Pure functions, no I/O: the harness self-tests (test_verdict.py) feed them canned transcripts.
Every judge_* function returns a Verdict; a boot passes only when its `failures` list is empty
and none of its KTAP results failed.
"""
import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

EXIT_SUCCESS = 33  # guest wrote 0x10 to isa-debug-exit
EXIT_TESTS_FAILED = 35  # 0x11
EXIT_BUGCHECK = 37  # 0x12

# OVMF's console sends ANSI escapes (colours, cursor moves, clear screen) to serial; they can
# sit on the same line as a loader message, so they go before any matching.
ESCAPE_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
BANNER_RE = re.compile(r"^irqlab \S+ booting")
PROMPT_RE = re.compile(r"^\d+: kd> ")
SMP_RE = re.compile(r"^smp: (\d+) processors? online")
PLAN_RE = re.compile(r"^1\.\.(\d+)\s*$")
RESULT_RE = re.compile(r"^(ok|not ok) (\d+)(?: -)?(?: (.*?))?(?:\s+# SKIP\b\s*(.*))?\s*$")
SENTINEL_RE = re.compile(r"^# irqlab: tests done: (\d+) passed, (\d+) failed, (\d+) skipped\s*$")
BUGCHECK_TEST_RE = re.compile(r"^# bugcheck-test: (\S+) 0x([0-9A-Fa-f]+)\s*$")
RUNNING_RE = re.compile(r"^# irqlab: running (\S+), expecting bugcheck 0x([0-9A-Fa-f]+)\s*$")
FATAL_RE = re.compile(r"^\*\*\* Fatal System Error: 0x([0-9A-Fa-f]{8})\b")
BUGCHECK_VERDICT_RE = re.compile(r"^# bugcheck-verdict: (ok|not ok(?: - (.*))?)\s*$")
HALT_RE = re.compile(r"^# irqlab: system halted after bugcheck 0x([0-9A-Fa-f]{8})\s*$")
LOADER_ERROR_RE = re.compile(r"irqlab loader: error:.*")


@dataclass
class TestResult:
    number: int
    name: str
    passed: bool
    skip: Optional[str] = None  # the reason after '# SKIP', when skipped
    diagnostics: List[str] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return self.skip is not None

    @property
    def failed(self) -> bool:
        return not self.passed and not self.skipped


@dataclass
class Verdict:
    results: List[TestResult] = field(default_factory=list)
    bugcheck_tests: List[Tuple[str, int]] = field(default_factory=list)  # (name, code)
    failures: List[str] = field(default_factory=list)  # why the boot as a whole failed

    @property
    def passed(self) -> bool:
        return not self.failures and not any(r.failed for r in self.results)


def clean_line(line: str) -> str:
    return ESCAPE_RE.sub("", line).replace("\r", "")


def clean_lines(transcript: str) -> List[str]:
    return [clean_line(line) for line in transcript.split("\n")]


def boot_lines(transcript: str, verdict: Verdict) -> List[str]:
    """Lines from the first banner on; records a missing or repeated banner as a failure."""
    lines = clean_lines(transcript)
    starts = [i for i, line in enumerate(lines) if BANNER_RE.match(line)]
    if not transcript.strip():
        verdict.failures.append("no serial output at all")
    elif not starts:
        verdict.failures.append("no boot banner ('irqlab <version> booting')")
    elif len(starts) > 1:
        # A triple fault with -no-reboot exits, but a reset path can still boot twice.
        verdict.failures.append(f"boot banner appears {len(starts)} times (machine reset?)")
    return lines[starts[0]:] if starts else []


def check_exit(verdict: Verdict, status: Optional[int], reason: str, expected: int) -> None:
    if reason != "exited":
        verdict.failures.append(f"QEMU did not exit by itself: {reason}")
    elif status != expected:
        verdict.failures.append(f"exit status {status}, expected {expected}")


def parse_results(lines: List[str], verdict: Verdict) -> List[int]:
    """Collects KTAP results and `# bugcheck-test:` lines; returns the plans seen."""
    plans = []
    current = None
    for line in lines:
        plan = PLAN_RE.match(line)
        result = RESULT_RE.match(line)
        declared = BUGCHECK_TEST_RE.match(line)
        if plan:
            plans.append(int(plan.group(1)))
        elif result:
            ok, number, name, skip = result.groups()
            if ok != "ok":
                skip = None  # 'not ok # SKIP' is not KTAP: count it as the failure it says
            current = TestResult(int(number), name or "", ok == "ok" and skip is None, skip)
            verdict.results.append(current)
        elif declared:
            verdict.bugcheck_tests.append((declared.group(1), int(declared.group(2), 16)))
        elif current is not None and line[:1].isspace() and line.strip():
            # Diagnostics are indented and follow the result they explain; keep the text only.
            current.diagnostics.append(re.sub(r"^#\s?", "", line.strip()))
        else:
            current = None
    return plans


def check_numbering(verdict: Verdict, plans: List[int]) -> None:
    count = len(verdict.results)
    if not plans:
        verdict.failures.append("no KTAP plan line ('1..N')")
    elif len(plans) > 1:
        verdict.failures.append(f"{len(plans)} KTAP plan lines, expected one")
    elif plans[0] != count:
        verdict.failures.append(f"KTAP plan 1..{plans[0]} but {count} result lines")
    seen = set()
    previous = 0
    for result in verdict.results:
        if result.number in seen:
            verdict.failures.append(f"duplicate KTAP test number {result.number} ({result.name})")
        elif result.number != previous + 1:
            verdict.failures.append(f"KTAP test number {result.number} follows {previous}")
        seen.add(result.number)
        previous = result.number


def check_sentinel(lines: List[str], verdict: Verdict) -> None:
    """The final line must exist and agree with the results: lost serial lines show up here."""
    sentinels = [m for m in map(SENTINEL_RE.match, lines) if m]
    if not sentinels:
        verdict.failures.append("missing sentinel '# irqlab: tests done: ...'")
        return
    claimed = tuple(int(n) for n in sentinels[-1].groups())
    results = verdict.results
    counted = (sum(r.passed for r in results), sum(r.failed for r in results),
               sum(r.skipped for r in results))
    if claimed != counted:
        verdict.failures.append("sentinel says %d passed, %d failed, %d skipped but the KTAP "
                                "lines give %d, %d, %d" % (claimed + counted))


def bugchecks(lines: List[str]) -> List[Tuple[int, int]]:
    """(line index, code) of every bugcheck banner."""
    found = []
    for i, line in enumerate(lines):
        match = FATAL_RE.match(line)
        if match:
            found.append((i, int(match.group(1), 16)))
    return found


def announced_bugchecks(lines: List[str]) -> List[Tuple[str, int]]:
    """(name, code) of every '# irqlab: running NAME, expecting bugcheck 0xCODE' line."""
    return [(m.group(1), int(m.group(2), 16)) for m in map(RUNNING_RE.match, lines) if m]


def judge_tests(transcript: str, status: Optional[int], reason: str) -> Verdict:
    """A `test=...` boot that must run its tests to the sentinel without a bugcheck."""
    verdict = Verdict()
    lines = boot_lines(transcript, verdict)
    for _, code in bugchecks(lines):
        verdict.failures.append(f"unexpected bugcheck 0x{code:08X}")
    plans = parse_results(lines, verdict)
    if lines:  # without a banner there is nothing more worth saying
        check_numbering(verdict, plans)
        check_sentinel(lines, verdict)
    failed = sum(r.failed for r in verdict.results)
    if status == EXIT_SUCCESS and failed:
        # The kernel forgot its failure code: the mistake that turns other kernels' CI green.
        verdict.failures.append(f"exit status {status} (success) although {failed} tests failed")
    check_exit(verdict, status, reason, EXIT_TESTS_FAILED if failed else EXIT_SUCCESS)
    return verdict


def judge_bugcheck(transcript: str, status: Optional[int], reason: str, code: int,
                   name: Optional[str] = None) -> Verdict:
    """A test booted alone (`test=name`) that must end in bugcheck `code`."""
    verdict = Verdict()
    lines = boot_lines(transcript, verdict)
    parse_results(lines, verdict)
    if name is not None and (name, code) not in announced_bugchecks(lines):
        # Proves that test=<name> ran the test, not something else that bugchecks alike.
        verdict.failures.append(f"missing line '# irqlab: running {name}, expecting bugcheck "
                                f"0x{code:08X}'")
    found = bugchecks(lines)
    if not found:
        verdict.failures.append(f"no bugcheck, expected 0x{code:08X}")
    else:
        check_bugcheck_report(lines[found[0][0]:], found, code, verdict)
    check_exit(verdict, status, reason, EXIT_BUGCHECK)
    return verdict


def check_bugcheck_report(report: List[str], found: List[Tuple[int, int]], code: int,
                          verdict: Verdict) -> None:
    """`report` starts at the first bugcheck banner."""
    if len(found) > 1:
        verdict.failures.append(f"{len(found)} bugcheck banners, expected one")
    if found[0][1] != code:
        verdict.failures.append(f"bugcheck 0x{found[0][1]:08X}, expected 0x{code:08X}")
    verdicts = [m for m in map(BUGCHECK_VERDICT_RE.match, report) if m]
    if not verdicts:
        verdict.failures.append("missing '# bugcheck-verdict: ok'")
    elif verdicts[0].group(1) != "ok":
        verdict.failures.append(f"kernel says bugcheck-verdict: {verdicts[0].group(1)}")
    halts = [m for m in map(HALT_RE.match, report) if m]
    if not halts:
        verdict.failures.append("missing '# irqlab: system halted after bugcheck 0x........'")
    elif int(halts[0].group(1), 16) != found[0][1]:
        verdict.failures.append(f"halt line names 0x{halts[0].group(1)}, "
                                f"banner 0x{found[0][1]:08X}")


def judge_prompt(transcript: str, reason: str, cpus: int) -> Verdict:
    """A console boot: it must reach the `0: kd> ` prompt with `cpus` processors online."""
    verdict = Verdict()
    lines = boot_lines(transcript, verdict)
    for _, code in bugchecks(lines):
        verdict.failures.append(f"unexpected bugcheck 0x{code:08X}")
    online = [int(m.group(1)) for m in map(SMP_RE.match, lines) if m]
    if not online:
        verdict.failures.append("no 'smp: N processors online' line")
    elif online[0] != cpus:
        verdict.failures.append(f"{online[0]} processors online, expected {cpus}")
    if reason != "stopped-on-match" or not any(PROMPT_RE.match(line) for line in lines):
        verdict.failures.append(f"no '0: kd> ' prompt ({reason})")
    return verdict


def judge_loader(transcript: str, reason: str, expect: Optional[str] = None) -> Verdict:
    """A boot the loader must refuse: its error line appears and the kernel never starts."""
    verdict = Verdict()
    lines = clean_lines(transcript)
    if any(BANNER_RE.match(line) for line in lines):
        verdict.failures.append("the kernel booted; the loader should have refused it")
    errors = [m.group(0) for m in map(LOADER_ERROR_RE.search, lines) if m]
    if not errors:
        verdict.failures.append("no 'irqlab loader: error:' line")
    elif expect and not any(expect.lower() in e.lower() for e in errors):
        verdict.failures.append(f"loader error does not mention '{expect}': {errors[0]}")
    if reason not in ("stopped-on-match", "exited"):
        verdict.failures.append(f"QEMU did not reach the loader's error: {reason}")
    return verdict
