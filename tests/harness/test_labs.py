"""Self-tests of labs.py (the lab replays of docs/labs/): the parser, the judge on canned
transcripts and the steps a replay becomes. No QEMU.
Run alone with `python3 tests/harness/test_labs.py`; test_verdict.py imports these classes.
"""
import glob
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labs  # noqa: E402
import qemu  # noqa: E402

BANNER = "irqlab 0.1.0-1-gabcdef0 booting on AuthenticAMD, 249 MiB\nsmp: 2 processors online\n"

REPLAY = r"""# a comment
boot smp=2 cmdline=dpcwatchdogperiod=0 tick=64

> !labirql d 0n200
~ ^Held IRQL 13 \(CLOCK_LEVEL\) .* interrupted it 0 times
> !cpus
~ ^  1 .* (?P<ipi>\d+)$
!~ still queued
keys .echo hello
~ ^hello$
> dt _KDPC KdLab
~ Type\s+: 0x13
wait 200
> !cpus
~ ^  1 .* {ipi+1}$
"""

GOOD = (BANNER + "kd: console ready\n"
        "0: kd> !labirql d 0n200\n"
        "Held IRQL 13 (CLOCK_LEVEL) for 200 ms: this processor's clock interrupted it 0 times, "
        "KeTickCount advanced 0\n"
        "0: kd> !cpus\n"
        "CPU APIC IRQL Idle Interrupts   Clock      DpcQueue DpcCount   IPIs\n"
        "  0    0    0    -          4          4        0          0      0\n"
        "  1    1    2  hlt          6          3        0          0      3\n"
        "0: kd> .echo hello\n"
        "hello\n"
        "0: kd> dt _KDPC KdLab\n"
        "   +0x000 Type             : 0x13\n"
        "0: kd> !cpus\n"
        "  1    1    2  hlt          9          5        0          0      4\n"
        "0: kd> quit\n"
        "irqlab: powering off\n")

CRASH_REPLAY = r"""> !kbddemo broken
~ ^kbddemo: broken mode
keys aaaaaaaaaa
~ spin lock irqlab!DeviceJobQueue \S+ is already held by this CPU at IRQL 2
~ ^SPIN_LOCK_ALREADY_OWNED \(f\)$
bugcheck 0xF 0xffffffff80027b80
"""

CRASH = (BANNER + "0: kd> !kbddemo broken\n"
         "kbddemo: broken mode; RunQueuedItems ran 0 times\n"
         "0: kd> aaaspin lock irqlab!DeviceJobQueue (ffffffff80027b80) is already held by this CPU at "
         "IRQL 2 (DISPATCH_LEVEL); acquiring it again at IRQL 11 (DIRQL 11) would spin forever\n\n"
         "*** Fatal System Error: 0x0000000f\n"
         "                       (0xFFFFFFFF80027B80,0x0000000000000002,0x000000000000000B,0x0000000000000000)\n\n"
         "SPIN_LOCK_ALREADY_OWNED (f)\n"
         "# irqlab: system halted after bugcheck 0x0000000F\n")


def parse(text=REPLAY):
    return labs.parse(text, "t.replay")


def judge(text=GOOD, status=33, reason="exited", replay=None):
    return labs.judge(replay or parse(), text, status, reason)


class TestReplayParser(unittest.TestCase):
    def test_replay_parses(self):
        r = parse()
        self.assertEqual((r.smp, r.cmdline), (2, "dpcwatchdogperiod=0 tick=64"))
        self.assertEqual([(c.kind, c.text) for c in r.commands],
                         [("serial", "!labirql d 0n200"), ("serial", "!cpus"), ("keys", ".echo hello"),
                          ("serial", "dt _KDPC KdLab"), ("serial", "!cpus")])
        self.assertEqual(r.commands[1].checks[1].negated, True)
        self.assertEqual(r.commands[1].checks[0].captures, ["ipi"])
        self.assertEqual(r.commands[4].wait_ms, 200)
        self.assertEqual(r.commands[4].checks[0].references, ["ipi"])
        self.assertIsNone(r.bugcheck)
        self.assertEqual(parse(CRASH_REPLAY).bugcheck, (0xF, 0xFFFFFFFF80027B80))
        self.assertEqual(parse("bugcheck 0x133\n".join(["> x\n", ""])).bugcheck, (0x133, None))

    def assertRefused(self, text, why, line=None):
        with self.assertRaises(labs.ReplayError) as caught:
            labs.parse(text, "t.replay")
        self.assertIn(why, str(caught.exception))
        if line is not None:
            self.assertTrue(str(caught.exception).startswith(f"t.replay:{line}:"), str(caught.exception))

    def test_refusals(self):
        self.assertRefused("> a\nfrobnicate\n", "unknown directive", 2)
        self.assertRefused("~ x\n> a\n", "before any command", 1)
        self.assertRefused("> a\nwait 10\n", "must be followed by a command", 2)
        self.assertRefused("wait 10\n~ x\n> a\n", "must be followed by a command", 2)
        self.assertRefused("wait 100\nbugcheck 0x1\n", "must be followed by a command", 2)
        self.assertRefused("wait 0\n> a\n", "wait <milliseconds>", 1)
        self.assertRefused("> a\n~ (unclosed\n", "bad regex", 2)
        self.assertRefused("> a\n~ {nothing}\n", "names no (?P<nothing>", 2)
        self.assertRefused("> a\n!~ (?P<x>a)\n", "cannot capture", 2)
        self.assertRefused("> a\nbugcheck 0xf\n> b\n", "nothing may follow `bugcheck`", 3)
        self.assertRefused("> a\nbugcheck zz\n", "both hex", 2)
        self.assertRefused("> a\nboot smp=2\n", "before the first command", 2)
        self.assertRefused("boot smp=0\n> a\n", "bad boot option", 1)
        self.assertRefused("boot cpus=2\n> a\n", "bad boot option", 1)
        self.assertRefused("keys caf\u00e9\n", "not printable ASCII", 1)
        self.assertRefused("> quit\n", "ends every replay with `quit`", 1)
        self.assertRefused(">\n", "empty command", 1)
        self.assertRefused("> " + "x" * 200 + "\n", "longer than", 1)
        self.assertRefused("# only a comment\n", "no command")

    def test_slow_keys_are_held_and_paced_like_sendkey(self):
        r = labs.parse("wait 100\nslowkeys .echo Hi\n~ ^Hi$\n", "t.replay")
        self.assertEqual([(c.kind, c.text, c.wait_ms) for c in r.commands], [("slowkeys", ".echo Hi", 100)])
        self.assertRefused("slowkeys caf\u00e9\n", "not printable ASCII", 1)

        class FakeQmp:
            def __init__(self):
                self.sent = []

            def send_key(self, chord, hold_ms):
                self.sent.append((chord, hold_ms, time.monotonic()))

        qmp = FakeQmp()
        labs.script(r)[1].call(qmp, None)
        self.assertEqual(len(qmp.sent), len(qemu.text_to_qcodes(".echo Hi\n")))
        self.assertTrue(all(hold == labs.SLOW_HOLD_MS for _, hold, _ in qmp.sent))
        gaps = [b[2] - a[2] for a, b in zip(qmp.sent, qmp.sent[1:])]
        self.assertGreaterEqual(min(gaps), labs.SLOW_PACE_S * 0.9)

    def test_script(self):
        r = parse()
        steps = labs.script(r)
        # 5 commands, one with a pause before it, and the final quit
        self.assertEqual(len(steps), 7)
        self.assertEqual(steps[0].expect, labs.PROMPT)
        self.assertEqual(steps[0].serial, b"!labirql d 0n200\r")
        self.assertIsNotNone(steps[2].call)  # keys go through QMP, by a call that outlives QEMU
        self.assertEqual((steps[5].expect, steps[5].serial), ("", b"!cpus\r"))
        self.assertEqual(steps[-1].serial, b"quit\r")

    def test_every_lab_replay_parses(self):
        paths = sorted(glob.glob(os.path.join(labs.LAB_DIR, "*.replay")))
        self.assertEqual(len(paths), 9, paths)
        for path in paths:
            with self.subTest(path=os.path.basename(path)):
                replay = labs.load(path)
                self.assertTrue(os.path.exists(path[:-len(".replay")] + ".md"))
                self.assertTrue(any(c.checks for c in replay.commands))

    def test_the_tree_stands_alone(self):
        """A student's clone has no ../shared: labs, sources and help cite public pages instead."""
        root = os.path.dirname(os.path.dirname(labs.LAB_DIR))
        found = []
        for top in ("kernel", "arch", "include", "tests", "boot", "tools", "docs", "Makefile", "README.md"):
            for path in [os.path.join(root, top)] if os.path.isfile(os.path.join(root, top)) else \
                    glob.glob(os.path.join(root, top, "**", "*"), recursive=True):
                if not os.path.isfile(path) or path == os.path.abspath(__file__):
                    continue
                with open(path, errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        if "shared/" in line or "the seed" in line.lower() or "seed's" in line.lower():
                            found.append(f"{os.path.relpath(path, root)}:{number}")
        self.assertEqual(found, [])


class TestReplayJudge(unittest.TestCase):
    def assertFailsWith(self, result, text):
        self.assertFalse(result.passed)
        self.assertTrue(any(text in f for f in result.failures), result.failures)

    def test_good_transcript_passes(self):
        self.assertEqual(judge().failures, [])

    def test_clock_ticking_at_clock_level_fails(self):
        self.assertFailsWith(judge(GOOD.replace("interrupted it 0 times", "interrupted it 12 times")),
                             "t.replay:5: `!labirql d 0n200`: no match")

    def test_negated_pattern_fails(self):
        self.assertFailsWith(judge(GOOD.replace("  0    0    0    -", "  DPC 0 is still queued\n  0")),
                             "must not match")

    def test_capture_arithmetic(self):
        self.assertFailsWith(judge(GOOD.replace("0      4\n0: kd> quit", "0      5\n0: kd> quit")),
                             "t.replay:15")

    def test_patterns_in_order(self):
        replay = parse("> !cpus\n~ ^  1\n~ ^  0\n")
        text = GOOD.replace("0: kd> !labirql", "0: kd> !cpus\n  0\n  1\n0: kd> !labirql")
        self.assertFailsWith(labs.judge(replay, text.split("0: kd> !labirql")[0] + "0: kd> quit\n"
                                        "irqlab: powering off\n", 33, "exited"),
                             "after the previous pattern")
        both = parse("> !cpus\n~ ^  0\n~ ^  1\n")
        self.assertTrue(labs.judge(both, BANNER + "0: kd> !cpus\n  0\n  1\n0: kd> quit\nirqlab: powering off\n",
                                   33, "exited").passed)

    def test_same_line_continues_after_the_match(self):
        replay = parse("> x\n~ a\n~ b\n~ a\n")
        good = BANNER + "0: kd> x\na b a\n0: kd> quit\nirqlab: powering off\n"
        self.assertTrue(labs.judge(replay, good, 33, "exited").passed)
        self.assertFalse(labs.judge(replay, good.replace("a b a", "a b"), 33, "exited").passed)

    def test_lost_input_fails(self):
        self.assertFailsWith(judge(GOOD.replace("0: kd> .echo hello", "0: kd> .eco hello")),
                             "input lost or out of step")

    def test_missing_prompt_fails(self):
        cut = GOOD[:GOOD.index("0: kd> dt")]
        self.assertFailsWith(judge(cut, None, "idle-timeout"), "no prompt came")
        self.assertFailsWith(judge(cut, None, "idle-timeout"), "idle-timeout")

    def test_quit_and_status(self):
        self.assertFailsWith(judge(GOOD.replace("irqlab: powering off\n", "")), "powering off")
        self.assertFailsWith(judge(status=37), "exit status 37, expected 33")
        self.assertFailsWith(judge(GOOD + "0: kd> \n"), "3 prompts" if False else "prompts, expected 6")
        self.assertFailsWith(judge(GOOD.replace("hello\n", "hello\n*** Fatal System Error: 0x0000000a\n")),
                             "unexpected bugcheck 0x0000000A")
        self.assertFailsWith(judge(""), "no serial output")

    def test_bugcheck_replay(self):
        replay = parse(CRASH_REPLAY)
        self.assertEqual(labs.judge(replay, CRASH, 37, "exited").failures, [])
        self.assertFailsWith(labs.judge(replay, CRASH, 33, "exited"), "exit status 33, expected 37")
        self.assertFailsWith(labs.judge(replay, CRASH.replace("0x0000000f\n", "0x0000000a\n"), 37, "exited"),
                             "bugcheck 0x0000000A, expected 0x0000000F")
        self.assertFailsWith(labs.judge(replay, CRASH.replace("(0xFFFFFFFF80027B80,", "(0xFFFFFFFF80027B88,"),
                                        37, "exited"), "P1 = 0xFFFFFFFF80027B88")
        self.assertFailsWith(labs.judge(replay, CRASH.replace("# irqlab: system halted after bugcheck "
                                                              "0x0000000F\n", ""), 37, "exited"),
                             "system halted")
        self.assertFailsWith(labs.judge(replay, CRASH.replace("at IRQL 2", "at IRQL 3"), 37, "exited"),
                             "t.replay:4")

    def test_bugcheck_that_never_came(self):
        replay = parse(CRASH_REPLAY)
        text = CRASH.split("0: kd> aaa")[0] + "0: kd> aaaaaaaaaa\nUnknown command\n0: kd> quit\n" \
            "irqlab: powering off\n"
        result = labs.judge(replay, text, 33, "exited")
        self.assertFailsWith(result, "the prompt came back after the last command")
        self.assertFailsWith(result, "no bugcheck, expected 0x0000000F")

    def test_fill(self):
        self.assertEqual(labs.fill(r"{a}\s{b+2}\s{c-0x1}\s{d+1}", {"a": "x.y", "b": "0n7", "c": "0x10", "d": "9"}),
                         r"x\.y\s0n9\s0xf\s10")
        with self.assertRaises(ValueError):
            labs.fill("{a+1}", {"a": "ffff`0000"})
        self.assertEqual(labs.fill(r"\{a}", {}), r"\{a}")  # an escaped brace is regex text


if __name__ == "__main__":
    unittest.main()
