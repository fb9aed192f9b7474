"""Self-tests of `make run`'s script (tools/run.sh) and of tools/deps.sh's display packages, with a
fake qemu-system-x86_64 and a fake `id` on PATH: no QEMU boots."""
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Records its arguments and the run's files, then stays silent for FAKE_QEMU_SLEEP seconds.
FAKE_QEMU = """#!/bin/sh
for a in "$@"; do echo "$a"; done > "$FAKE_QEMU_LOG.$$"
sleep "${FAKE_QEMU_SLEEP:-0}"
exit 33
"""


class TestMakeRun(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        t = self.tmp.name
        self.bin = os.path.join(t, "bin")
        self.build = os.path.join(t, "build")
        os.makedirs(self.bin)
        os.makedirs(self.build)
        with open(os.path.join(self.bin, "qemu-system-x86_64"), "w") as f:
            f.write(FAKE_QEMU)
        os.chmod(os.path.join(self.bin, "qemu-system-x86_64"), 0o755)
        esp = os.path.join(self.build, "esp.img")
        env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
        subprocess.run(["mformat", "-C", "-f", "1440", "-i", esp, "::"], check=True, env=env)
        subprocess.run(["mmd", "-i", esp, "::/irqlab"], check=True, env=env)
        self.vars = os.path.join(t, "vars.fd")
        with open(self.vars, "wb") as f:
            f.write(b"\0" * 4096)
        self.log = os.path.join(t, "qemu.args")

    def tearDown(self):
        self.tmp.cleanup()

    def run_sh(self, cmdline="", idle="0", sleep="0"):
        env = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"], MTOOLS_SKIP_CHECK="1",
                   IRQLAB_CMDLINE=cmdline, IRQLAB_IDLE_TIMEOUT=idle, FAKE_QEMU_LOG=self.log,
                   FAKE_QEMU_SLEEP=sleep)
        return subprocess.run(["sh", os.path.join(ROOT, "tools", "run.sh"), self.build, "/code.fd", self.vars,
                               "-display", "none"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              env=env, timeout=60)

    def qemu_args(self):
        logs = sorted(p for p in os.listdir(self.tmp.name) if p.startswith("qemu.args."))
        found = []
        for name in logs:
            with open(os.path.join(self.tmp.name, name)) as f:
                found.append(f.read().split("\n"))
        return found

    def test_without_a_terminal_the_serial_console_has_no_monitor(self):
        done = self.run_sh()
        self.assertEqual(done.returncode, 33, done.stderr)
        args = self.qemu_args()[0]
        self.assertIn("chardev:con", args)
        self.assertNotIn("-mon", args)
        self.assertFalse(any("mux=on" in a for a in args))
        self.assertIn("console is output only", done.stderr)

    def test_each_run_has_its_own_files_and_removes_them(self):
        self.run_sh()
        self.run_sh()
        drives = [[a for a in args if "vars.fd" in a or "esp.img" in a] for args in self.qemu_args()]
        self.assertEqual(len(drives), 2)
        self.assertEqual(len(drives[0]), 2)
        self.assertNotEqual(drives[0], drives[1])
        self.assertTrue(all(os.path.dirname(a.split("file=")[1]) != self.build for a in drives[0]))
        self.assertEqual(os.listdir(os.path.join(self.build, "run")), [])

    def test_a_silent_test_run_says_how_to_leave(self):
        done = self.run_sh(cmdline="test=hangs.*", idle="1", sleep="3")
        self.assertEqual(done.returncode, 33)
        self.assertIn("no output for 1 s: the test may hang", done.stderr)

    def test_a_console_run_is_not_told_about_silence(self):
        done = self.run_sh(cmdline="", idle="1", sleep="3")
        self.assertNotIn("no output", done.stderr)

    def test_a_gtk_display_needs_qemu_system_gui(self):
        with open(os.path.join(self.bin, "id"), "w") as f:
            f.write("#!/bin/sh\necho 1000\n")
        os.chmod(os.path.join(self.bin, "id"), 0o755)
        env = dict(os.environ, PATH=self.bin + ":" + os.environ["PATH"])
        done = subprocess.run(["sh", os.path.join(ROOT, "tools", "deps.sh"), "display", "gtk"],
                              capture_output=True, text=True, env=env)
        installed = any(os.path.exists(f"/usr/lib/{d}/qemu/ui-gtk.so") for d in os.listdir("/usr/lib"))
        if installed:
            self.assertEqual(done.returncode, 0, done.stderr)
        else:
            self.assertEqual(done.returncode, 1)
            self.assertIn("apt-get install --no-install-recommends qemu-system-gui", done.stderr)
        done = subprocess.run(["sh", os.path.join(ROOT, "tools", "deps.sh"), "display", "none"],
                              capture_output=True, text=True, env=env)
        self.assertNotIn("qemu-system-gui", done.stderr)


if __name__ == "__main__":
    unittest.main()
