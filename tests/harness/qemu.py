"""Boots irqlab once under QEMU + OVMF and records what it prints on COM1.

Each boot gets its own directory build/runs/<name>/ holding a copy of the ESP image (with this
run's cmdline.txt, and for loader tests a replaced or deleted kernel.elf), a writable copy of the
OVMF variable store, QEMU's QMP socket and stderr, and serial.log, written as output arrives so a
hung boot can be watched with `tail -f`. QEMU is killed on every way out of boot().

A boot can also be driven by a script, a list of Step: wait for serial output matching a regex,
then type keys through QMP, write to COM1, or call a function; script.log in the run directory
records when each step matched and finished.
"""
import os
import re
import selectors
import shutil
import signal
import subprocess
import threading
import time
from collections import namedtuple
from dataclasses import dataclass
from typing import Callable, List, Optional, Union

from qmp import Qmp, text_to_qcodes
from verdict import clean_line

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
ESP_KERNEL = "::/irqlab/kernel.elf"
ESP_CMDLINE = "::/irqlab/cmdline.txt"
IDLE_TIMEOUT = 40.0  # seconds without output, under TCG; OVMF alone takes 4-8 s
WALL_TIMEOUT = 150.0  # seconds per boot, under TCG

QMP_TIMEOUT = 10.0  # seconds to connect to QEMU's QMP socket, and for each reply

# script_error: why a scripted boot was stopped early (None when it was not); steps_done: how
# many script steps matched and finished their action.
Boot = namedtuple("Boot", "transcript status reason rundir stderr script_error steps_done",
                  defaults=(None, 0))

# QEMU runs in its own session so that signals for the harness do not reach it; these are the
# ones still running, for kill_all() when the harness itself is interrupted.
_live = set()
_live_lock = threading.Lock()
_stopping = False  # set by kill_all(): a boot starting after it must not outlive the harness


def accel() -> str:
    # Nested KVM here kills OVMF and then hangs QEMU (qemu-testing.md): KVM only on request.
    return "kvm" if os.environ.get("ACCEL") == "kvm" else "tcg"


def timeouts():
    """(idle, wall) in seconds, scaled for the accelerator and overridable from the environment."""
    env = os.environ
    scale = float(env.get("IRQLAB_TIMEOUT_SCALE") or (0.5 if accel() == "kvm" else 1.0))
    idle = float(env.get("IRQLAB_IDLE_TIMEOUT") or IDLE_TIMEOUT * scale)
    wall = float(env.get("IRQLAB_WALL_TIMEOUT") or WALL_TIMEOUT * scale)
    return idle, wall


def mtools(*args: str) -> bytes:
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    done = subprocess.run(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


def esp_read(esp: str, path: str) -> bytes:
    """One file out of a FAT image, e.g. esp_read('build/esp.img', ESP_KERNEL)."""
    return mtools("mcopy", "-i", esp, path, "-")


def run_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def prepare(build: str, name: str, cmdline: str, kernel: Optional[bytes],
            delete_kernel: bool) -> str:
    """Fresh build/runs/<name>/ with this run's ESP and variable store; returns its path."""
    rundir = os.path.abspath(os.path.join(build, "runs", run_name(name)))
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    esp = os.path.join(rundir, "esp.img")
    shutil.copyfile(os.path.join(build, "esp.img"), esp)
    shutil.copyfile(OVMF_VARS, os.path.join(rundir, "vars.fd"))
    # bootinfo.h: the command line has no trailing newline.
    write_to_esp(esp, rundir, "cmdline.txt", cmdline.encode(), ESP_CMDLINE)
    if kernel is not None:
        write_to_esp(esp, rundir, "kernel.elf", kernel, ESP_KERNEL)
    if delete_kernel:
        mtools("mdel", "-i", esp, ESP_KERNEL)
    return rundir


def write_to_esp(esp: str, rundir: str, filename: str, data: bytes, target: str) -> None:
    local = os.path.join(rundir, filename)
    with open(local, "wb") as f:
        f.write(data)
    mtools("mcopy", "-o", "-i", esp, local, target)


def command(machine: str, smp: int, memory: str, serial2: Optional[str] = None) -> list:
    """The quiet TCG line of qemu-testing.md; file names are relative to the run directory.
    `serial2` names a file for the guest's COM2 (the trace's channel, docs/trace-format.md)."""
    com2 = ["-serial", f"file:{serial2}"] if serial2 else []
    return [
        "qemu-system-x86_64", "-machine", machine, "-accel", accel(),
        "-m", memory, "-smp", str(smp), "-nodefaults",
        "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
        "-drive", "if=pflash,format=raw,file=vars.fd",
        "-drive", "if=none,id=esp,format=raw,file=esp.img",
        "-device", "virtio-blk-pci,drive=esp",
        "-serial", "stdio", *com2, "-display", "none", "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        # Relative, so the socket path never exceeds the 108-byte limit of sun_path.
        "-qmp", "unix:qmp.sock,server=on,wait=off",
    ]


def boot(build: str, name: str, cmdline: str, smp: int = 4, machine: str = "q35",
         memory: str = "256M", kernel: Optional[bytes] = None, delete_kernel: bool = False,
         stop_on: Optional[str] = None, stop_partial: bool = False, idle: Optional[float] = None,
         wall: Optional[float] = None, script: Optional[List["Step"]] = None,
         serial2: Optional[str] = None) -> Boot:
    """Boots once; stops at exit, a timeout, or the first line matching `stop_on` (re.search,
    escapes stripped; with stop_partial, also a line still without its newline, like a prompt).
    `status` is QEMU's exit status when reason is 'exited', else None.
    `script` (see Step) runs its steps in order while the boot streams; a step whose action
    raises ends the boot with reason 'script-error' and Boot.script_error saying why. A script
    that did not get to its end is no error by itself: compare steps_done with len(script).
    `serial2`: a file name in the run directory that receives the guest's COM2."""
    default_idle, default_wall = timeouts()
    idle, wall = idle or default_idle, wall or default_wall
    rundir = prepare(build, name, cmdline, kernel, delete_kernel)
    stop_re = re.compile(stop_on) if stop_on else None
    # timeout(1) is the backstop for a harness killed with SIGKILL, which cannot clean up.
    backstop = ["timeout", "-s", "KILL", str(int(wall) + 60)]
    with open(os.path.join(rundir, "qemu.err"), "wb") as err:
        proc = subprocess.Popen(backstop + command(machine, smp, memory, serial2), cwd=rundir,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
    with _live_lock:
        _live.add(proc)
        stopping = _stopping
    runner, reason = None, "harness error"
    try:
        if stopping:
            raise RuntimeError("harness interrupted")
        if script:
            runner = Script(script, proc, rundir)
        with open(os.path.join(rundir, "serial.log"), "w", encoding="latin-1") as log:
            text, reason = stream(proc, log, stop_re, idle, wall, stop_partial, runner)
        status = None
        if reason == "exited":
            try:
                status = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                reason = "no-exit-after-eof"
    finally:
        if runner is not None:
            # QEMU dies first: that ends a send-key or a stdin write the action is blocked in.
            runner.stop.set()
            signal_group(proc)
            proc.wait()
            runner.close(reason)
        kill(proc)
    with open(os.path.join(rundir, "qemu.err"), encoding="latin-1") as f:
        stderr = f.read().strip()
    if runner is None:
        return Boot(text, status, reason, rundir, stderr)
    return Boot(text, status, reason, rundir, stderr, runner.error, runner.done)


def stream(proc: subprocess.Popen, log, stop_re, idle: float, wall: float, stop_partial: bool,
           script: Optional["Script"] = None):
    """Copies serial output to `log` until EOF, a timeout, a stop line or a failed script
    action; returns (text, reason). While a script action runs the idle timer stands still."""
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    if script is not None:
        selector.register(script.wake_fd, selectors.EVENT_READ)
    chunks, partial = [], ""
    start = last = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if script is not None:
                last = max(last, script.active_until(now))
            if now - start >= wall:
                return "".join(chunks), "wall-timeout"
            if now - last >= idle:
                return "".join(chunks), "idle-timeout"
            ready = {key.fd for key, _ in
                     selector.select(min(idle - (now - last), wall - (now - start)))}
            if fd in ready:
                data = os.read(fd, 65536)
                if not data:
                    return "".join(chunks), "exited"
                last = time.monotonic()
                text = data.decode("latin-1").replace("\r", "")
                chunks.append(text)
                log.write(text)
                log.flush()
                lines = (partial + text).split("\n")
                partial = lines.pop()
                # A prompt ends without a newline: stop_partial also tries the unfinished line.
                tried = lines + [partial] if stop_partial else lines
                if stop_re and any(stop_re.search(clean_line(line)) for line in tried):
                    return "".join(chunks), "stopped-on-match"
                if script is not None:
                    script.feed(lines, partial)
            if script is not None and script.wake_fd in ready:
                if not script.action_ended():
                    return "".join(chunks), "script-error"
    finally:
        selector.close()


@dataclass
class Step:
    """One step of a scripted boot: wait for `expect`, then do at most one action.

    `expect` is re.search'ed in cleaned serial lines (escapes stripped), the unfinished last
    line included (a prompt such as `0: kd> `). Only text after the previous step's match counts,
    and it is only tried once the previous action has finished (text that arrived meanwhile
    is kept and tried then).
    Actions:
      keys    a list of chords, each a list of qcodes held together (["shift", "a"]), sent as
              one QMP send-key each, held `hold_ms`, followed by a `pace_ms` pause (QEMU's
              input queue drops events when too many wait); a str is typed: text_to_qcodes
      serial  bytes (a str is latin-1 encoded) written to QEMU's stdin: the guest's COM1
      call    call(qmp, proc) with the connected Qmp and QEMU's Popen, for anything else
    A step without an action only waits. An action that raises stops the boot.
    """
    expect: str
    keys: Optional[Union[str, List[List[str]]]] = None
    serial: Optional[Union[bytes, str]] = None
    call: Optional[Callable] = None
    hold_ms: int = 1
    pace_ms: float = 3.0

    def __post_init__(self):
        actions = [a for a in ("keys", "serial", "call") if getattr(self, a) is not None]
        if len(actions) > 1:
            raise ValueError(f"Step({self.expect!r}): one action only, not {' and '.join(actions)}")
        self.pattern = re.compile(self.expect)
        if isinstance(self.keys, str):
            self.keys = text_to_qcodes(self.keys)
        if self.keys is not None:
            if not all(isinstance(chord, (list, tuple)) and chord and
                       all(isinstance(q, str) for q in chord) for chord in self.keys):
                raise ValueError(f"Step({self.expect!r}): keys must be a list of chords, each a "
                                 f"non-empty list of qcode names, e.g. [['shift', 'a']]")
        if isinstance(self.serial, str):
            self.serial = self.serial.encode("latin-1")

    def describe(self) -> str:
        if self.keys is not None:
            return f"keys: {len(self.keys)} chords"
        if self.serial is not None:
            return f"serial: {self.serial[:40]!r}" + ("..." if len(self.serial) > 40 else "")
        if self.call is not None:
            return f"call: {getattr(self.call, '__name__', repr(self.call))}"
        return "no action"


class Script:
    """Runs a list of Step against one QEMU as stream() feeds it serial lines; each action on
    a thread of its own, so that output keeps being read while thousands of keys are typed."""

    def __init__(self, steps: List[Step], proc: subprocess.Popen, rundir: str):
        self.steps = list(steps)
        self.proc = proc
        self.qmp_path = os.path.join(rundir, "qmp.sock")
        self.index = 0  # the step waiting for its match, or whose action runs
        self.done = 0  # steps_done
        self.error: Optional[str] = None  # script_error
        self.stop = threading.Event()  # set when the boot ends: an action stops between keys
        self.thread: Optional[threading.Thread] = None
        self.failure: Optional[BaseException] = None  # what the running action raised
        self.failed_after_stop = False
        self.ended = 0.0  # monotonic time the last action ended
        self.pending: List[str] = []  # cleaned lines after the last match, not tried yet
        self.partial = ""  # the unfinished line, as stream() has it
        self.skip = 0  # characters of the (cleaned) unfinished line at or before the last match
        self.qmp: Optional[Qmp] = None
        self.start = time.monotonic()
        self.wake_fd, self._wake_w = os.pipe()  # an action thread writes a byte when it ends
        self.log = open(os.path.join(rundir, "script.log"), "w", encoding="utf-8")
        self.note(f"script of {len(self.steps)} steps")
        self.note(f"step 1: waiting for /{self.steps[0].expect}/" if self.steps else "empty")

    def note(self, text: str) -> None:
        self.log.write(f"{time.monotonic() - self.start:9.3f} {text}\n")
        self.log.flush()

    def busy(self) -> bool:
        return self.thread is not None

    def active_until(self, now: float) -> float:
        """For the idle timer: `now` while an action runs, else when the last one ended."""
        return now if self.busy() else self.ended

    def feed(self, lines: List[str], partial: str) -> None:
        """Complete lines (raw, the first one continuing the last unfinished line) and the new
        unfinished line."""
        for line in lines:
            self.pending.append(clean_line(line)[self.skip:])
            self.skip = 0
        self.partial = partial
        self.advance()

    def advance(self) -> None:
        """Starts the actions of every step whose expect the text after the last match holds."""
        while not self.busy() and self.index < len(self.steps) and not self.stop.is_set():
            step = self.steps[self.index]
            matched = None
            for i, text in enumerate(self.pending):
                match = step.pattern.search(text)
                if match:
                    rest = text[match.end():]
                    self.pending = ([rest] if rest else []) + self.pending[i + 1:]
                    matched = text
                    break
            if matched is None:
                self.pending = []  # tried: this expect can no longer match them
                unfinished = clean_line(self.partial)[self.skip:]
                match = step.pattern.search(unfinished)
                if not match:
                    return
                self.skip += match.end()
                matched = unfinished
            self.note(f"step {self.index + 1}: matched /{step.expect}/ in {matched!r}; "
                      f"{step.describe()}")
            if step.keys is None and step.serial is None and step.call is None:
                self.finished()
                continue
            self.failure = None
            self.thread = threading.Thread(target=self.act, args=(step,), daemon=True,
                                           name=f"script step {self.index + 1}")
            self.thread.start()

    def act(self, step: Step) -> None:
        """The action thread."""
        try:
            if step.keys is not None:
                qmp = self.connect()
                for chord in step.keys:
                    if self.stop.is_set():
                        raise RuntimeError("boot ended while typing")
                    qmp.send_key(list(chord), step.hold_ms)
                    time.sleep(step.pace_ms / 1000.0)
            elif step.serial is not None:
                self.proc.stdin.write(step.serial)
                self.proc.stdin.flush()
            else:
                step.call(self.connect(), self.proc)
        except BaseException as error:  # noqa: B902 - reported by action_ended() or close()
            self.failure = error
            # The stop, or QEMU's own exit, ended the action: not a failure of the script.
            self.failed_after_stop = self.stop.is_set() or self.guest_exited(error)
        finally:
            os.write(self._wake_w, b"!")

    def guest_exited(self, error: BaseException) -> bool:
        """Whether QMP was lost because QEMU exited by itself (the guest powered off while keys
        were still being typed: a benchmark that already had its samples, say)."""
        if not isinstance(error, ConnectionError):
            return False
        try:
            self.proc.wait(timeout=QMP_TIMEOUT)
        except subprocess.TimeoutExpired:
            return False
        return True

    def connect(self) -> Qmp:
        if self.qmp is None:
            self.qmp = Qmp().connect(self.qmp_path, QMP_TIMEOUT)
        return self.qmp

    def action_ended(self) -> bool:
        """stream() saw the wake-up byte: reaps the action; False when it failed."""
        os.read(self.wake_fd, 64)
        if self.thread is None:
            return True
        self.thread.join()
        self.thread = None
        self.ended = time.monotonic()
        if self.failure is not None and self.failed_after_stop:
            self.note(f"step {self.index + 1}: action stopped with the boot: "
                      f"{type(self.failure).__name__}: {self.failure}")
            return True  # stream() sees QEMU's exit next
        if self.failure is not None:
            self.failed()
            return False
        self.finished()
        self.advance()
        return True

    def failed(self) -> None:
        error = f"{type(self.failure).__name__}: {self.failure}"
        self.error = f"step {self.index + 1} (/{self.steps[self.index].expect}/): {error}"
        self.note(f"step {self.index + 1}: FAILED: {error}")

    def finished(self) -> None:
        self.done += 1
        self.index += 1
        self.note(f"step {self.index}: done" + (f"; step {self.index + 1}: waiting for "
                                                f"/{self.steps[self.index].expect}/"
                                                if self.index < len(self.steps) else
                                                "; script complete"))

    def close(self, reason: str) -> None:
        """After QEMU is dead: waits for a running action, records how the script ended."""
        self.stop.set()
        if self.qmp is not None:
            self.qmp.close()  # wakes an action blocked on a reply
        if self.thread is not None:
            self.thread.join(timeout=QMP_TIMEOUT)
            if self.thread.is_alive():
                self.note(f"step {self.index + 1}: action still running at the end")
            elif self.failure is None:
                # It finished, but after the boot ended (e.g. `quit` typed, QEMU gone first).
                self.finished()
            elif not self.failed_after_stop:
                self.failed()  # e.g. QEMU exited while keys were being typed
            else:
                self.note(f"step {self.index + 1}: action stopped with the boot: "
                          f"{type(self.failure).__name__}: {self.failure}")
        self.note(f"boot ended: {reason}; {self.done} of {len(self.steps)} steps done"
                  + (f"; error: {self.error}" if self.error else ""))
        self.log.close()
        if self.thread is None or not self.thread.is_alive():  # else it still writes _wake_w
            os.close(self.wake_fd)
            os.close(self._wake_w)


def kill(proc: subprocess.Popen) -> None:
    """Kills QEMU's whole process group and reaps it; harmless when it already exited."""
    signal_group(proc)
    proc.wait()
    proc.stdin.close()
    proc.stdout.close()
    with _live_lock:
        _live.discard(proc)


def signal_group(proc: subprocess.Popen) -> None:
    # Once poll() has reaped QEMU its pid may belong to someone else: leave it alone then.
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_all() -> None:
    """For an interrupted harness: the boot() calls still running then reap their QEMU."""
    global _stopping
    with _live_lock:
        _stopping = True
        procs = list(_live)
    for proc in procs:
        signal_group(proc)


def tidy(rundir: str) -> None:
    """Keeps only serial.log of a run that passed: each ESP copy is 33 MiB."""
    for entry in os.listdir(rundir):
        if entry != "serial.log":
            path = os.path.join(rundir, entry)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
