"""Self-tests of stress.py's misuse judge on canned transcripts (no QEMU)."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stress  # noqa: E402

REPORT = ("irqlab 0.1 booting on GenuineIntel, 255 MiB\n0: kd> !labcrash dpc_spin\n"
          "*** Fatal System Error: 0x{code:08x}\n"
          "                       (0x{p1:016X},0x0000000000000021,0x0000000000000020,0x0000000000000000)\n"
          "# irqlab: system halted after bugcheck 0x{code:08X}\n")


class TestMisuseJudge(unittest.TestCase):
    def judge(self, code, p1, status=37, reason="exited", want=(0x133, 0)):
        text = REPORT.format(code=code, p1=p1)
        return stress.judge_misuse(text, status, reason, *want)

    def test_expected_bugcheck_passes(self):
        self.assertEqual(self.judge(0x133, 0).failures, [])

    def test_wrong_code_or_p1_fails(self):
        self.assertFalse(self.judge(0x9, 0).passed)
        self.assertFalse(self.judge(0x133, 1).passed)

    def test_a_hang_fails(self):
        self.assertFalse(self.judge(0x133, 0, status=None, reason="idle-timeout").passed)

    def test_the_spinning_routine_must_be_on_the_stack(self):
        stack = ("STACK_TEXT:\n # Child-SP          RetAddr               Call Site\n"
                 "03 ffffff00`0000de70 ffffffff`800014e2     irqlab!KiTrapCommon+0x20 (TrapFrame @ ffffff00`0000de70)\n"
                 "04 ffffff00`0000df28 ffffffff`80007042     irqlab!arch_stall_us+0x42\n"
                 "{row}other processors: 1 of 1 stopped by NMI\n")
        shown = "05 ffffff00`0000df30 ffffffff`8001203d     irqlab!spins_forever+0x12\n"
        text = REPORT.format(code=0x133, p1=0).replace("# irqlab: system", stack.format(row=shown) + "# irqlab: system")
        self.assertEqual(stress.judge_misuse(text, 37, "exited", 0x133, 0, "irqlab!spins_forever+").failures, [])
        text = text.replace(shown, "")
        self.assertFalse(stress.judge_misuse(text, 37, "exited", 0x133, 0, "irqlab!spins_forever+").passed)

    def test_every_kind_names_a_code(self):
        """The matrix covers exactly the kinds `!labcrash` knows (kernel/kd/cmd_crash.c's table)."""
        source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kernel", "kd", "cmd_crash.c")
        with open(source, encoding="utf-8") as f:
            table = f.read().split("KdCrashes[] = {", 1)[1].split("};", 1)[0]
        kinds = set(re.findall(r'\{ "([a-z_]+)", "', table))
        self.assertIn("thread_stack", kinds)
        self.assertEqual(set(stress.MISUSE), kinds)

    def test_every_twin_is_a_bugcheck_test_with_the_same_code(self):
        """make test leaves a kind out only for a TEST_BUGCHECK of tests/kernel/ that raises its code."""
        root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
        codes = {}
        with open(os.path.join(root, "include", "irqlab", "bugcodes.h"), encoding="utf-8") as f:
            for name, value in re.findall(r"#define (\w+)\s+\(?(?:\(ULONG\))?(0x[0-9A-Fa-f]+)", f.read()):
                codes[name] = int(value, 16)
        declared = {}
        kernel_tests = os.path.join(root, "tests", "kernel")
        for name in os.listdir(kernel_tests):
            with open(os.path.join(kernel_tests, name), encoding="utf-8") as f:
                for suite, test, code in re.findall(r"TEST_BUGCHECK\((\w+), (\w+), (\w+)\)", f.read()):
                    declared[f"{suite}.{test}"] = codes.get(code)
        for kind, twin in stress.MISUSE_TWINS.items():
            self.assertIn(twin, declared, kind)
            self.assertEqual(declared[twin], stress.MISUSE[kind][0], f"{kind} and {twin}")


if __name__ == "__main__":
    unittest.main()
