"""Self-tests of tools/trace (the converter of `!trace dump`'s file, docs/trace-format.md) on
traces made here: a good two-CPU trace converts to JSON that loads, an SVG with a lane per CPU
and a summary with the latency; damaged files and traces that break a rule are refused, each
with a message that says what is wrong.  Run alone: python3 tests/harness/test_trace.py"""
import importlib.util
import io
import json
import os
import struct
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "trace"))
import chrome  # noqa: E402
import picture  # noqa: E402
import reader as R  # noqa: E402
import summary  # noqa: E402
import timeline as T  # noqa: E402

ISR, IPI_ISR, DPC = 0x80001000, 0x80002000, 0x80003000
SYMBOLS = {0xFFFFFFFF80001000: "irqlab!I8042KeyboardInterruptService",
           0xFFFFFFFF80002000: "irqlab!KiIpiService", 0xFFFFFFFF80003000: "irqlab!I8042KeyboardIsrDpc"}
KDPC, KINT = 0xFFFF800000123000, 0xFFFF800000456000


def good_cpus():
    """CPU 0: the keyboard ISR queues a DPC for CPU 1 and sends it an IPI; CPU 1 starts inside
    the IPI that began the trace, takes the new IPI and runs the DPC from its idle loop."""
    cpu0 = [(1000, R.INTERRUPT_ENTER, 11, 0xB1, ISR, KINT),
            (1100, R.DPC_INSERT, 15, 1 | 2 << 8 | 1 << 10 | 1 << 11, 1, KDPC),
            (1200, R.IPI_SEND, 15, 0, 2, 0b10),
            (1300, R.INTERRUPT_EXIT, 11, 0xB1, 0, 0)]
    cpu1 = [(900, R.INTERRUPT_EXIT, 14, 0xE1 | 2 << 8, 0, 0),
            (1400, R.INTERRUPT_ENTER, 14, 0xE1 | 2 << 8, IPI_ISR, KINT + 64),
            (1410, R.IPI_RECEIVE, 14, 0, 2, 0),
            (1500, R.INTERRUPT_EXIT, 14, 0xE1 | 2 << 8, 0, 0),
            (1600, R.DPC_BEGIN, 2, 0, DPC, KDPC),
            (2600, R.DPC_END, 2, 0, DPC, KDPC)]
    return [cpu0, (cpu1, 7)]


def good_file(cpus=None):
    return R.build(cpus or good_cpus(), tsc_hz=1_000_000_000, symbols=SYMBOLS)


class TestTraceReader(unittest.TestCase):
    def test_reads_a_good_trace_after_firmware_noise(self):
        t = R.parse(b"BdsDxe: loading Boot0001\r\n" + good_file())
        self.assertEqual([len(c.records) for c in t.cpus], [4, 6])
        self.assertEqual(t.cpus[1].dropped, 7)
        self.assertEqual(t.symbol(t.cpus[0].records[0].code), "irqlab!I8042KeyboardInterruptService")

    def assertRefused(self, data, words):
        with self.assertRaises(R.TraceError) as caught:
            R.parse(data)
        self.assertIn(words, str(caught.exception))

    def test_refuses_a_flipped_byte_by_its_crc(self):
        data = bytearray(good_file())
        data[64 + 32 + 9] ^= 0x01  # CPU 0's first record's IRQL
        self.assertRefused(bytes(data), "damaged after the kernel wrote it")

    def test_refuses_a_cut_file(self):
        self.assertRefused(good_file()[:150], "truncated")

    def test_refuses_a_file_without_a_trace(self):
        self.assertRefused(b"just console text\n", "magic 'IRQLTRC1' is missing")

    def test_refuses_an_unknown_event_type(self):
        self.assertRefused(good_file([[(10, 77, 0, 0, 0, 0)]]), "unknown event type 77")

    def test_a_context_switch_carries_its_old_thread_from_the_extension(self):
        old, new = 0xFFFFFFFF80073820, 0xFFFF80000015E010
        t = R.parse(good_file([[(10, R.CONTEXT_SWITCH, 12, 5 | 0 << 8, 0, new), (11, R.EXTENSION, 12, 0, 0, old)]]))
        self.assertEqual(len(t.cpus[0].records), 1)
        switch = t.cpus[0].records[0]
        self.assertEqual((switch.d64, switch.ext, switch.d16 & 0xFF), (new, old, 5))
        events = chrome.convert(T.build(t))["traceEvents"]
        named = [e for e in events if e.get("name") == "context switch"]
        self.assertEqual(named[0]["args"]["old_thread"], f"{old:#x}")
        self.assertIn("context switches: 1", summary.text(T.build(t)))

    def test_refuses_an_extension_without_a_context_switch(self):
        self.assertRefused(good_file([[(10, R.EXTENSION, 0, 0, 0, 1)]]), "an extension with no context switch")


class TestTraceChecks(unittest.TestCase):
    def refused(self, cpus, words):
        with self.assertRaises(T.InvalidTrace) as caught:
            T.build(R.parse(good_file(cpus)))
        self.assertIn(words, str(caught.exception))

    def test_a_good_trace_passes_and_counts_drops(self):
        tl = T.build(R.parse(good_file()))
        self.assertIn("CPU 1: 7 events dropped", " ".join(tl.notes))
        self.assertTrue(tl.slices[-1].kind == "dpc" and tl.slices[-1].insert is not None)

    def test_timestamps_must_not_go_back(self):
        cpus = good_cpus()
        cpus[0][2] = (900, R.IPI_SEND, 15, 0, 2, 0b10)
        self.refused(cpus, "CPU 0 record 2 (IPI send): its timestamp 900 is before the previous record's 1100")

    def test_a_dpc_above_dispatch_level_is_refused(self):
        self.refused([[(10, R.DPC_BEGIN, 11, 0, DPC, KDPC), (20, R.DPC_END, 11, 0, DPC, KDPC)]],
                     "begins at IRQL 11: DPCs run at DISPATCH_LEVEL only")

    def test_an_interrupt_inside_a_higher_one_is_refused(self):
        self.refused([[(10, R.INTERRUPT_ENTER, 13, 0xD1, ISR, KINT), (20, R.INTERRUPT_ENTER, 11, 0xB1 | 13 << 8, ISR, KINT),
                       (30, R.INTERRUPT_EXIT, 11, 0xB1 | 13 << 8, 0, 0), (40, R.INTERRUPT_EXIT, 13, 0xD1, 0, 0)]],
                     "nesting breaks IRQL order: an interrupt at IRQL 11 inside ISR 0xd1")

    def test_an_end_must_match_the_innermost_begin(self):
        self.refused([[(10, R.INTERRUPT_ENTER, 11, 0xB1, ISR, KINT), (20, R.DPC_END, 2, 0, DPC, KDPC)]],
                     "end of DPC I8042KeyboardIsrDpc, but the innermost open slice is ISR 0xb1")

    def test_an_end_without_begin_after_lower_work_is_refused(self):
        self.refused([[(10, R.DPC_BEGIN, 2, 0, DPC, KDPC), (20, R.DPC_END, 2, 0, DPC, KDPC),
                       (30, R.INTERRUPT_EXIT, 13, 0xD1, 0, 0)]], "that never began")


class TestTraceOutputs(unittest.TestCase):
    def setUp(self):
        self.tl = T.build(R.parse(good_file()))

    def test_chrome_json_has_a_track_per_cpu_nested_slices_and_flows(self):
        doc = json.loads(json.dumps(chrome.convert(self.tl)))
        events = doc["traceEvents"]
        names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
        self.assertEqual(names, {0: "CPU 0", 1: "CPU 1"})
        dpc = next(e for e in events if e["ph"] == "X" and e["cat"] == "dpc")
        self.assertEqual((dpc["tid"], dpc["ts"], dpc["dur"]), (1, 0.7, 1.0))
        self.assertEqual(dpc["args"]["latency_us"], 0.5)
        flow = [e for e in events if e.get("cat") == "dpc-flow"]
        self.assertEqual([(e["ph"], e["tid"], e["name"]) for e in flow], [("s", 0, "ISR -> DPC"), ("f", 1, "ISR -> DPC")])
        self.assertTrue(any(e["ph"] == "C" and e["name"] == "DPC queue depth CPU 1" for e in events))
        self.assertEqual(len([e for e in events if e.get("cat") == "ipi-flow"]), 2)
        self.assertEqual(doc["otherData"]["dropped"], {"0": 0, "1": 7})

    def test_svg_has_a_lane_per_cpu_and_labels(self):
        root = ET.fromstring(picture.svg(self.tl))
        ns = "{http://www.w3.org/2000/svg}"
        self.assertEqual([g.get("id") for g in root.iter(ns + "g")], ["lane-cpu0", "lane-cpu1"])
        text = " ".join(t.text or "" for t in root.iter(ns + "text"))
        self.assertIn("longest DPC: I8042KeyboardIsrDpc 1.0 us", text)
        self.assertIn("worst ISR -> DPC: 0.5 us", text)

    def test_summary_gives_latency_and_longest(self):
        text = summary.text(self.tl)
        self.assertIn("ISR -> DPC latency (1 samples): p50 0.5 us", text)
        self.assertIn("longest 1.0 us irqlab!I8042KeyboardIsrDpc", text)
        self.assertIn("CPU 1: 6 records, 7 dropped", text)

    def run_cli(self, data):
        spec = importlib.util.spec_from_file_location("trace_cli", os.path.join(ROOT, "tools", "trace", "__main__.py"))
        cli = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cli)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "trace.bin")
            with open(path, "wb") as f:
                f.write(data)
            err = io.StringIO()
            with redirect_stderr(err), redirect_stdout(io.StringIO()):
                status = cli.main(["check", path])
        return status, err.getvalue()

    def test_the_command_refuses_a_corrupted_trace_loudly(self):
        data = bytearray(good_file())
        struct.pack_into("<Q", data, 64 + 32 + 24, 5)  # CPU 0's second record, its timestamp
        status, err = self.run_cli(bytes(data))
        self.assertEqual(status, 1)
        self.assertIn("damaged after the kernel wrote it", err)
        cpus = good_cpus()
        cpus[0][1] = (5,) + cpus[0][1][1:]  # the same, written so by the kernel: the CRC holds
        status, err = self.run_cli(good_file(cpus))
        self.assertEqual(status, 1)
        self.assertIn("the trace breaks its rules:\n  CPU 0 record 1 (DPC insert): its timestamp 5 is before", err)
        self.assertEqual(self.run_cli(good_file())[0], 0)

if __name__ == "__main__":
    unittest.main()
