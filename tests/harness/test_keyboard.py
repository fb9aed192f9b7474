"""Self-tests of keyboard.py's judges on canned transcripts (no QEMU)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keyboard  # noqa: E402

BOOT = "irqlab 0.1 booting on GenuineIntel, 255 MiB\ni8042: keyboard ready: IRQ 1 at vector 0xb1, DIRQL 11\n"
KBD = ("i8042 keyboard: vector 0xb1, DIRQL 11\n"
       "  ISR:  {isr} runs ({off} not at DIRQL), {isr} bytes queued, {dropped} dropped ({lost} keys lost)\n"
       "  DPC:  10 queued, 2 already queued, 10 runs (0 not at DISPATCH_LEVEL)\n"
       "  keys: {decoded} decoded, 5 to the class driver, 0 keyboard overruns, 0 LED updates, 0 console input bytes dropped\n"
       "  ISR -> DPC: 10 samples, min 1, avg 2, max 3 cycles (2600 MHz TSC)\n")


def console(decoded=5, lost=0, off=0, echo="hi"):
    return BOOT + f"0: kd> .echo hi\n{echo}\n0: kd> !kbd\n" + KBD.format(
        isr=12, off=off, dropped=lost, lost=lost, decoded=decoded) + "0: kd> quit\n"


BROKEN = (BOOT + "0: kd> !kbddemo broken\nkbddemo: broken mode; RunQueuedItems ran 0 times, 0 key bytes came "
          "while it ran; jobs 0 queued, 0 processed, 0 dropped\n0: kd> abspin lock irqlab!DeviceJobQueue "
          "(ffffffff8001f380) is already held by this CPU at IRQL 2 (DISPATCH_LEVEL); acquiring it again at "
          "IRQL 11 (DIRQL 11) would spin forever\n\n*** Fatal System Error: 0x0000000f\n"
          "                       ({p1},{p2},0x000000000000000B,0x0000000000000000)\n"
          "# irqlab: system halted after bugcheck 0x0000000F\n")


class TestKeyboardJudges(unittest.TestCase):
    def judge(self, transcript, keys=5):
        return keyboard.judge_console(transcript, 33, "exited", keys, ["hi"])

    def test_console_passes(self):
        self.assertEqual(self.judge(console()).failures, [])

    def test_keys_must_add_up(self):
        self.assertTrue(any("decoded" in f for f in self.judge(console(decoded=4)).failures))
        self.assertEqual(self.judge(console(decoded=3, lost=2)).failures, [])

    def test_isr_off_dirql_fails(self):
        self.assertFalse(self.judge(console(off=1)).passed)

    def test_missing_echo_fails(self):
        self.assertFalse(self.judge(console(echo="ho")).passed)

    def test_broken_demo(self):
        lock = "0xFFFFFFFF8001F380"
        good = BROKEN.format(p1=lock, p2="0x0000000000000002")
        self.assertEqual(keyboard.judge_demo_broken(good, 37, "exited").failures, [])
        wrong = BROKEN.format(p1=lock, p2="0x000000000000000B")
        self.assertFalse(keyboard.judge_demo_broken(wrong, 37, "exited").passed)
        self.assertFalse(keyboard.judge_demo_broken(good, None, "idle-timeout").passed)

    def test_presses_count_every_key_of_a_chord(self):
        self.assertEqual(keyboard.presses([["shift", "a"], ["b"]]), 3)


if __name__ == "__main__":
    unittest.main()
