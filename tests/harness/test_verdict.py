"""Self-tests of verdict.py: canned transcripts, each asserting the verdict it must get.

Run alone with `python3 tests/harness/test_verdict.py`; irqlab_test.py runs them in-process,
together with the self-tests of qmp.py and scripted boots (test_script.py) and of tools/trace (test_trace.py).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verdict  # noqa: E402
# irqlab_test.py loads the TestCase classes of this module only: these come along.
from test_keyboard import TestKeyboardJudges  # noqa: E402,F401
from test_labs import TestReplayJudge, TestReplayParser  # noqa: E402,F401
from test_stress import TestMisuseJudge  # noqa: E402,F401
from test_run import TestMakeRun  # noqa: E402,F401
from test_script import TestQcodes, TestQmp, TestScript  # noqa: E402,F401
from test_trace import TestTraceChecks, TestTraceOutputs, TestTraceReader  # noqa: E402,F401

# What OVMF really sends before the loader runs (captured from a boot of this QEMU/OVMF).
OVMF_NOISE = (
    "\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01H\x1b[2J\x1b[01;01H\x1b[=3h\x1b[2J\x1b[01;01H"
    'BdsDxe: loading Boot0001 "UEFI Non-Block Boot Device" from PciRoot(0x0)/Pci(0x1,0x0)\r\n'
    'BdsDxe: starting Boot0001 "UEFI Non-Block Boot Device" from PciRoot(0x0)/Pci(0x1,0x0)\r\n'
)
# What irqlab's loader prints on the firmware console before the kernel's banner.
LOADER_LINES = (
    "irqlab loader 0.1.0-unknown, image base 0xDEAA000\r\n"
    'irqlab loader: cmdline "test=all"\r\n'
    "irqlab loader: entering kernel at 0xFFFFFFFF80000000, boot record at 0xE5D2000\r\n\r\n"
)
BANNER = "irqlab 0.1.0-12-gabcdef0 booting on AuthenticAMD, 255 MiB\n"
GOOD_TESTS = """KTAP version 1
1..3
ok 1 - irql.raise_lower
ok 2 - rtl.printf_hex
ok 3 - mm.fault_bugchecks # SKIP boot alone: expects bugcheck 0x0000001E
# bugcheck-test: mm.fault_bugchecks 0x0000001E
# irqlab: tests done: 2 passed, 0 failed, 1 skipped
"""
FAILING_TESTS = """KTAP version 1
1..3
ok 1 - irql.raise_lower
not ok 2 - rtl.printf_hex
    # CHECK_EQ(a, b) failed at tests/kernel/rtl.c:40: a = 0x10, b = 0x11
ok 3 - mm.fault_bugchecks # SKIP boot alone: expects bugcheck 0x0000001E
# bugcheck-test: mm.fault_bugchecks 0x0000001E
# irqlab: tests done: 1 passed, 1 failed, 1 skipped
"""
BUGCHECK = """# irqlab: running mm.fault_bugchecks, expecting bugcheck 0x0000001E
*** Fatal System Error: 0x0000001e
                       (0xFFFFFFFFC0000005,0xFFFFFFFF80104A2E,0x0000000000000000,0xFFFF8000DEAD0000)
KMODE_EXCEPTION_NOT_HANDLED
CPU 0, IRQL 2
# bugcheck-verdict: ok
# irqlab: system halted after bugcheck 0x0000001E
"""
LOADER_ERROR = "\x1b[0m\x1b[37m\x1b[40mirqlab loader: error: kernel.elf: bad ELF magic\r\n"


def run_tests(body=GOOD_TESTS, status=33, reason="exited", noise=OVMF_NOISE + LOADER_LINES):
    return verdict.judge_tests(noise + BANNER + body, status, reason)


def run_bugcheck(body=BUGCHECK, status=37, reason="exited", code=0x1E, name="mm.fault_bugchecks"):
    return verdict.judge_bugcheck(OVMF_NOISE + BANNER + body, status, reason, code, name)


class TestRuns(unittest.TestCase):
    def assertFailsWith(self, result, text):
        self.assertFalse(result.passed)
        self.assertTrue(any(text in f for f in result.failures), result.failures)

    def test_good_run_passes(self):
        result = run_tests()
        self.assertTrue(result.passed, result.failures)
        self.assertEqual([r.name for r in result.results],
                         ["irql.raise_lower", "rtl.printf_hex", "mm.fault_bugchecks"])
        self.assertEqual(result.bugcheck_tests, [("mm.fault_bugchecks", 0x1E)])

    def test_skip_is_neither_pass_nor_fail(self):
        skipped = run_tests().results[2]
        self.assertTrue(skipped.skipped)
        self.assertFalse(skipped.passed)
        self.assertFalse(skipped.failed)
        self.assertEqual(skipped.skip, "boot alone: expects bugcheck 0x0000001E")

    def test_banner_twice_fails(self):
        self.assertFailsWith(run_tests(GOOD_TESTS + OVMF_NOISE + BANNER + GOOD_TESTS),
                             "2 times")

    def test_no_output_fails(self):
        self.assertFailsWith(verdict.judge_tests("", None, "idle-timeout"), "no serial output")

    def test_noise_without_banner_fails(self):
        self.assertFailsWith(verdict.judge_tests(OVMF_NOISE, None, "idle-timeout"),
                             "no boot banner")

    def test_idle_timeout_fails(self):
        self.assertFailsWith(run_tests(status=None, reason="idle-timeout"), "idle-timeout")

    def test_wall_timeout_fails(self):
        self.assertFailsWith(run_tests(status=None, reason="wall-timeout"), "wall-timeout")

    def test_wrong_exit_status_fails(self):
        for status in (0, 1, None, 35, 37, -9):
            with self.subTest(status=status):
                self.assertFailsWith(run_tests(status=status), "exit status")

    def test_failed_test_counted_and_needs_status_35(self):
        result = run_tests(FAILING_TESTS, status=35)
        self.assertFalse(result.passed)
        self.assertEqual(result.failures, [])
        failed = [r for r in result.results if r.failed]
        self.assertEqual([r.name for r in failed], ["rtl.printf_hex"])
        self.assertEqual(failed[0].diagnostics,
                         ["CHECK_EQ(a, b) failed at tests/kernel/rtl.c:40: a = 0x10, b = 0x11"])

    def test_failed_test_with_success_status_fails(self):
        self.assertFailsWith(run_tests(FAILING_TESTS, status=33), "although 1 tests failed")

    def test_missing_sentinel_fails(self):
        body = GOOD_TESTS.replace("# irqlab: tests done: 2 passed, 0 failed, 1 skipped\n", "")
        self.assertFailsWith(run_tests(body), "missing sentinel")

    def test_sentinel_disagreeing_with_results_fails(self):
        body = GOOD_TESTS.replace("2 passed, 0 failed", "3 passed, 0 failed")
        self.assertFailsWith(run_tests(body), "sentinel says 3 passed")

    def test_unexpected_bugcheck_fails(self):
        body = GOOD_TESTS.replace("# irqlab: tests done", "*** Fatal System Error: 0x0000000a\n"
                                  "# irqlab: tests done")
        self.assertFailsWith(run_tests(body), "unexpected bugcheck 0x0000000A")

    def test_plan_mismatch_fails(self):
        self.assertFailsWith(run_tests(GOOD_TESTS.replace("1..3", "1..4")),
                             "plan 1..4 but 3 result lines")

    def test_missing_plan_fails(self):
        self.assertFailsWith(run_tests(GOOD_TESTS.replace("1..3\n", "")), "no KTAP plan")

    def test_duplicate_number_fails(self):
        body = GOOD_TESTS.replace("ok 2 - rtl.printf_hex", "ok 1 - rtl.printf_hex")
        self.assertFailsWith(run_tests(body), "duplicate KTAP test number 1")

    def test_skipped_number_fails(self):
        body = GOOD_TESTS.replace("ok 2 - rtl.printf_hex", "ok 4 - rtl.printf_hex")
        self.assertFailsWith(run_tests(body), "number 4 follows 1")

    def test_two_plans_fail(self):
        self.assertFailsWith(run_tests(GOOD_TESTS.replace("1..3\n", "1..3\n1..3\n")),
                             "2 KTAP plan lines")

    def test_not_ok_with_skip_is_a_failure(self):
        body = FAILING_TESTS.replace("not ok 2 - rtl.printf_hex",
                                     "not ok 2 - rtl.printf_hex # SKIP")
        result = run_tests(body, status=35)
        self.assertTrue(result.results[1].failed)
        self.assertFalse(result.passed)

    def test_output_before_banner_is_ignored(self):
        # Results before the banner (e.g. a loader printing 'ok') must not count.
        result = run_tests(noise=OVMF_NOISE + LOADER_LINES + "ok 7 - from.firmware\n")
        self.assertTrue(result.passed, result.failures)
        self.assertEqual(len(result.results), 3)

    def test_escape_sequences_are_stripped(self):
        body = GOOD_TESTS.replace("ok 1 -", "\x1b[0mok 1 -")
        self.assertTrue(run_tests(body).passed)


class TestBugchecks(unittest.TestCase):
    assertFailsWith = TestRuns.assertFailsWith

    def test_expected_bugcheck_passes(self):
        result = run_bugcheck()
        self.assertTrue(result.passed, result.failures)

    def test_wrong_code_fails(self):
        self.assertFailsWith(run_bugcheck(code=0x0A), "bugcheck 0x0000001E, expected 0x0000000A")

    def test_missing_verdict_fails(self):
        self.assertFailsWith(run_bugcheck(BUGCHECK.replace("# bugcheck-verdict: ok\n", "")),
                             "missing '# bugcheck-verdict: ok'")

    def test_not_ok_verdict_fails(self):
        body = BUGCHECK.replace("verdict: ok", "verdict: not ok - parameter 1 differs")
        self.assertFailsWith(run_bugcheck(body), "parameter 1 differs")

    def test_missing_halt_line_fails(self):
        body = BUGCHECK.replace("# irqlab: system halted after bugcheck 0x0000001E\n", "")
        self.assertFailsWith(run_bugcheck(body), "missing '# irqlab: system halted")

    def test_halt_line_with_other_code_fails(self):
        body = BUGCHECK.replace("halted after bugcheck 0x0000001E",
                                "halted after bugcheck 0x0000000A")
        self.assertFailsWith(run_bugcheck(body), "halt line names 0x0000000A")

    def test_wrong_status_fails(self):
        for status in (33, 35, 0, None):
            with self.subTest(status=status):
                self.assertFailsWith(run_bugcheck(status=status), "exit status")

    def test_no_bugcheck_fails(self):
        self.assertFailsWith(run_bugcheck(GOOD_TESTS), "no bugcheck, expected 0x0000001E")

    def test_other_test_running_fails(self):
        self.assertFailsWith(run_bugcheck(name="mm.other"),
                             "missing line '# irqlab: running mm.other")

    def test_second_bugcheck_fails(self):
        second = "*** Fatal System Error: 0x0000001e\n"
        self.assertFailsWith(run_bugcheck(BUGCHECK + second), "2 bugcheck banners")

    def test_timeout_fails(self):
        self.assertFailsWith(run_bugcheck(status=None, reason="idle-timeout"), "idle-timeout")


class TestLoader(unittest.TestCase):
    assertFailsWith = TestRuns.assertFailsWith

    def test_error_line_passes(self):
        result = verdict.judge_loader(OVMF_NOISE + LOADER_ERROR, "stopped-on-match", "magic")
        self.assertTrue(result.passed, result.failures)

    def test_error_without_expected_text_fails(self):
        result = verdict.judge_loader(OVMF_NOISE + LOADER_ERROR, "stopped-on-match", "truncated")
        self.assertFailsWith(result, "does not mention 'truncated'")

    def test_no_error_line_fails(self):
        result = verdict.judge_loader(OVMF_NOISE, "idle-timeout")
        self.assertFailsWith(result, "no 'irqlab loader: error:' line")
        self.assertFailsWith(result, "idle-timeout")

    def test_kernel_banner_fails(self):
        result = verdict.judge_loader(OVMF_NOISE + BANNER + LOADER_ERROR, "stopped-on-match")
        self.assertFailsWith(result, "the kernel booted")


class TestPrompt(unittest.TestCase):
    assertFailsWith = TestRuns.assertFailsWith
    SMP64 = "smp: 64 processors online (63 started in 750 ms)\n"

    def test_prompt_with_all_cpus_passes(self):
        result = verdict.judge_prompt(OVMF_NOISE + BANNER + self.SMP64 + "0: kd> ", "stopped-on-match", 64)
        self.assertTrue(result.passed, result.failures)

    def test_fewer_cpus_fails(self):
        text = OVMF_NOISE + BANNER + "smp: 60 processors online (59 started in 9 ms)\n0: kd> "
        result = verdict.judge_prompt(text, "stopped-on-match", 64)
        self.assertFailsWith(result, "60 processors online, expected 64")

    def test_no_prompt_fails(self):
        result = verdict.judge_prompt(OVMF_NOISE + BANNER + self.SMP64, "idle-timeout", 64)
        self.assertFailsWith(result, "no '0: kd> ' prompt (idle-timeout)")

    def test_bugcheck_before_prompt_fails(self):
        result = verdict.judge_prompt(OVMF_NOISE + BANNER + BUGCHECK, "exited", 64)
        self.assertFailsWith(result, "unexpected bugcheck 0x0000001E")
        self.assertFailsWith(result, "no 'smp: N processors online' line")


if __name__ == "__main__":
    unittest.main()
