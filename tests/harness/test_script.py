"""Self-tests of qmp.py and of scripted boots (qemu.Step, qemu.Script, qemu.stream), no QEMU:
a fake QMP server on a temporary unix socket, and a small Python program standing in for QEMU's
serial port. test_verdict.py imports these classes, so irqlab_test.py runs them with its own;
run alone with `python3 tests/harness/test_script.py`.
"""
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
import qmp  # noqa: E402


class TestQcodes(unittest.TestCase):
    def test_letters_and_digits(self):
        self.assertEqual(qmp.text_to_qcodes("az09"), [["a"], ["z"], ["0"], ["9"]])

    def test_capitals_use_shift(self):
        self.assertEqual(qmp.text_to_qcodes("Hi"), [["shift", "h"], ["i"]])

    def test_shifted_symbols(self):
        self.assertEqual(qmp.text_to_qcodes('!_:"?~|{)'),
                         [["shift", "1"], ["shift", "minus"], ["shift", "semicolon"],
                          ["shift", "apostrophe"], ["shift", "slash"], ["shift", "grave_accent"],
                          ["shift", "backslash"], ["shift", "bracket_left"], ["shift", "0"]])

    def test_plain_symbols(self):
        self.assertEqual(qmp.text_to_qcodes("-=[]\\;'`,./ "),
                         [["minus"], ["equal"], ["bracket_left"], ["bracket_right"],
                          ["backslash"], ["semicolon"], ["apostrophe"], ["grave_accent"],
                          ["comma"], ["dot"], ["slash"], ["spc"]])

    def test_enter_backspace_tab(self):
        self.assertEqual(qmp.text_to_qcodes("\n\r\b\t"),
                         [["ret"], ["ret"], ["backspace"], ["tab"]])
        self.assertEqual(qmp.text_to_qcodes("a\r\nb"), [["a"], ["ret"], ["b"]])

    def test_untypable_character_raises(self):
        for text in ("é", "\x00", "\u20ac"):
            with self.subTest(text=text):
                self.assertRaises(ValueError, qmp.text_to_qcodes, "ok" + text)

    def test_step_types_a_string(self):
        self.assertEqual(qemu.Step("x", keys="A\n").keys, [["shift", "a"], ["ret"]])

    def test_step_takes_one_action(self):
        self.assertRaises(ValueError, qemu.Step, "x", keys="a", serial="b")
        self.assertRaises(ValueError, qemu.Step, "x", keys=["shift", "a"])  # chords, not qcodes
        self.assertRaises(Exception, qemu.Step, "(unclosed")


class FakeQmpServer:
    """Accepts one client on a unix socket; greets it and answers each command with `replies`
    (a list of JSON-able messages per command, default {"return": {}}); keeps what it got."""

    def __init__(self, path, replies=None, delay=0.0, hang_up=None):
        self.path, self.replies, self.delay = path, dict(replies or {}), delay
        self.hang_up = hang_up  # called with what was received after each reply; True closes
        self.received = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        time.sleep(self.delay)  # the client must retry until the socket exists
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(self.path)
        server.listen(1)
        conn, _ = server.accept()
        with conn, server, conn.makefile("rb") as reader:
            conn.sendall(b'{"QMP": {"version": {}, "capabilities": ["oob"]}}\r\n')
            for line in reader:
                message = json.loads(line)
                self.received.append(message)
                for reply in self.replies.get(message["execute"], [{"return": {}}]):
                    conn.sendall(json.dumps(reply).encode() + b"\r\n")
                if self.hang_up and self.hang_up(self.received):
                    return


class TestQmp(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="qmp")
        self.path = os.path.join(self.dir, "qmp.sock")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def connect(self, **server_args):
        server = FakeQmpServer(self.path, **server_args)
        client = qmp.Qmp().connect(self.path, timeout=5)
        self.addCleanup(client.close)
        return server, client

    def test_send_key_sends_one_chord(self):
        server, client = self.connect(delay=0.2)
        client.send_key(["shift", "a"], 1)
        client.close()
        server.thread.join(5)
        self.assertEqual(server.received, [
            {"execute": "qmp_capabilities"},
            {"execute": "send-key", "arguments": {
                "keys": [{"type": "qcode", "data": "shift"}, {"type": "qcode", "data": "a"}],
                "hold-time": 1}}])

    def test_execute_skips_an_event(self):
        event = {"event": "RESET", "data": {"guest": True},
                 "timestamp": {"seconds": 1, "microseconds": 2}}
        server, client = self.connect(replies={"query-status": [
            event, {"return": {"status": "running", "running": True}}]})
        self.assertEqual(client.execute("query-status"), {"status": "running", "running": True})
        self.assertEqual(client.events, [event])

    def test_execute_raises_on_error(self):
        error = {"class": "GenericError", "desc": "'nosuchkey' is not a valid QKeyCode"}
        server, client = self.connect(replies={"send-key": [{"error": error}]})
        with self.assertRaises(qmp.QmpError) as raised:
            client.send_key(["nosuchkey"])
        self.assertEqual(raised.exception.error_class, "GenericError")
        self.assertIn("not a valid QKeyCode", str(raised.exception))
        self.assertEqual(client.execute("query-status"), {})  # still in step afterwards

    def test_hyphenated_arguments(self):
        server, client = self.connect()
        client.execute("human-monitor-command", **{"command-line": "info cpus"})
        client.close()
        server.thread.join(5)
        self.assertEqual(server.received[1]["arguments"], {"command-line": "info cpus"})

    def test_connect_times_out_without_socket(self):
        start = time.monotonic()
        self.assertRaises(TimeoutError, qmp.Qmp().connect, self.path, 0.3)
        self.assertLess(time.monotonic() - start, 3)

    def test_long_socket_path(self):
        deep = os.path.join(self.dir, *["d" * 40] * 3)
        os.makedirs(deep)
        self.path = os.path.join(deep, "qmp.sock")
        self.assertGreater(len(self.path), 108)
        # bind() needs a short path too: the server binds through the same /proc trick.
        directory = os.open(deep, os.O_RDONLY)
        self.addCleanup(os.close, directory)
        server = FakeQmpServer(f"/proc/self/fd/{directory}/qmp.sock")
        client = qmp.Qmp().connect(self.path, timeout=5)
        self.addCleanup(client.close)
        self.assertEqual(client.execute("query-status"), {})


# Stands in for QEMU's `-serial stdio`: a prompt without newline, each line typed on COM1
# (ended by CR, like the console's) echoed back as `echo: LINE`, `quit` exits with 33.
FAKE_GUEST = r"""
import os, sys
out = lambda s: os.write(1, s.encode())
out("\x1b[0mirqlab booting\r\n0: kd> ")
line = b""
while True:
    c = os.read(0, 1)
    if not c:
        sys.exit(3)
    if c != b"\r":
        line += c
        continue
    if line == b"quit":
        sys.exit(33)
    out("\r\necho: " + line.decode() + "\r\n0: kd> ")
    line = b""
"""


class TestScript(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="script")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def run_script(self, steps, idle=5.0, wall=10.0, stop_on=None):
        proc = subprocess.Popen([sys.executable, "-c", FAKE_GUEST], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        self.proc = proc
        script = qemu.Script(steps, proc, self.dir)
        stop_re = qemu.re.compile(stop_on) if stop_on else None
        try:
            text, reason = qemu.stream(proc, io.StringIO(), stop_re, idle, wall, False, script)
        finally:
            script.stop.set()
            if proc.poll() is None:
                proc.kill()
            status = proc.wait()
            script.close(reason if "reason" in locals() else "error")
            proc.stdin.close()
            proc.stdout.close()
        with open(os.path.join(self.dir, "script.log")) as f:
            log = f.read()
        return text, reason, status, script, log

    def test_serial_steps_in_order(self):
        seen = []
        steps = [qemu.Step(r"0: kd> ", serial="hello\r"),
                 qemu.Step(r"^echo: hello$", call=lambda q, p: seen.append("called")),
                 qemu.Step(r"0: kd> ", serial=b"quit\r")]
        # call steps connect to QMP first: stand a fake server where the socket would be.
        FakeQmpServer(os.path.join(self.dir, "qmp.sock"))
        text, reason, status, script, log = self.run_script(steps)
        self.assertEqual((reason, status, script.done, script.error), ("exited", 33, 3, None))
        self.assertEqual(seen, ["called"])
        self.assertIn("echo: hello", text)
        self.assertIn("step 2: matched /^echo: hello$/", log)
        self.assertIn("3 of 3 steps done", log)

    def test_failing_action_stops_the_boot(self):
        def fail(q, p):
            raise RuntimeError("on purpose")
        FakeQmpServer(os.path.join(self.dir, "qmp.sock"))
        steps = [qemu.Step(r"kd> ", call=fail), qemu.Step(r"never", serial="x")]
        text, reason, status, script, log = self.run_script(steps)
        self.assertEqual((reason, script.done), ("script-error", 0))
        self.assertIn("RuntimeError: on purpose", script.error)
        self.assertIn("FAILED: RuntimeError: on purpose", log)

    def test_guest_exit_while_typing_is_no_script_error(self):
        """QEMU powering off with keys still to type (a benchmark that has its samples) ends the
        boot as exited; the keys step is not done, and it is not an error."""
        def power_off():
            self.proc.stdin.write(b"quit\r")
            self.proc.stdin.flush()

        def after_three_keys(received):
            if sum(m["execute"] == "send-key" for m in received) < 3:
                return False
            threading.Timer(0.3, power_off).start()  # QMP goes first, as QEMU's did
            return True

        FakeQmpServer(os.path.join(self.dir, "qmp.sock"), hang_up=after_three_keys)
        steps = [qemu.Step(r"kd> ", keys=[["a"]] * 200)]
        text, reason, status, script, log = self.run_script(steps)
        self.assertEqual((reason, status, script.done, script.error), ("exited", 33, 0, None))
        self.assertIn("action stopped with the boot", log)

    def test_idle_timer_waits_for_the_action(self):
        FakeQmpServer(os.path.join(self.dir, "qmp.sock"))
        def slow(q, proc):  # silent for longer than the idle timeout, then types a line
            time.sleep(1.0)
            proc.stdin.write(b"hi\r")
            proc.stdin.flush()
        steps = [qemu.Step(r"kd> ", call=slow), qemu.Step(r"echo: hi", serial="quit\r")]
        text, reason, status, script, log = self.run_script(steps, idle=0.6)
        self.assertEqual((reason, status, script.done), ("exited", 33, 2))

    def test_stop_on_still_works(self):
        steps = [qemu.Step(r"kd> ", serial="abc\r"), qemu.Step(r"never")]
        text, reason, status, script, log = self.run_script(steps, stop_on=r"^echo: abc")
        self.assertEqual((reason, script.done, script.error), ("stopped-on-match", 1, None))

    def test_only_text_after_the_last_match_counts(self):
        script = qemu.Script([qemu.Step(r"kd> "), qemu.Step(r"kd> "), qemu.Step(r"^x")],
                             None, self.dir)
        self.addCleanup(script.close, "test")
        script.feed([], "0: kd")
        self.assertEqual(script.done, 0)
        script.feed([], "0: kd> ")  # a prompt without its newline matches step 1
        self.assertEqual(script.done, 1)
        script.feed([], "0: kd> help")  # the same prompt, echoing: not step 2
        script.feed(["0: kd> help"], "")
        self.assertEqual(script.done, 1)
        script.feed(["\x1b[1mx"], "1: kd> ")  # step 2 passes over lines until its match,
        self.assertEqual(script.done, 2)  # and they do not count for step 3
        script.feed(["1: kd> x"], "")
        self.assertEqual(script.done, 3)


if __name__ == "__main__":
    unittest.main()
