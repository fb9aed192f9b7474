"""Self-tests of stress.py's misuse judge on canned transcripts (no QEMU)."""
import os
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

    def test_every_kind_names_a_code(self):
        self.assertEqual(set(stress.MISUSE), {"raise_down", "lower_up", "spinlock_twice", "dpc_irql", "dpc_spin",
                                              "dispatch_stay", "wait_dispatch", "wait_in_dpc", "interrupts_off",
                                              "null_read", "mutex_not_owned", "mutex_held_at_exit",
                                              "thread_spinlock", "thread_stack"})


if __name__ == "__main__":
    unittest.main()
