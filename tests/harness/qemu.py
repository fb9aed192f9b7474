"""Boots irqlab once under QEMU + OVMF and records what it prints on COM1.

Each boot gets its own directory build/runs/<name>/ holding a copy of the ESP image (with this
run's cmdline.txt, and for loader tests a replaced or deleted kernel.elf), a writable copy of the
OVMF variable store, QEMU's QMP socket and stderr, and serial.log, written as output arrives so a
hung boot can be watched with `tail -f`. QEMU is killed on every way out of boot().
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
from typing import Optional

from verdict import clean_line

OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
ESP_KERNEL = "::/irqlab/kernel.elf"
ESP_CMDLINE = "::/irqlab/cmdline.txt"
IDLE_TIMEOUT = 40.0  # seconds without output, under TCG; OVMF alone takes 4-8 s
WALL_TIMEOUT = 150.0  # seconds per boot, under TCG

Boot = namedtuple("Boot", "transcript status reason rundir stderr")

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


def command(machine: str, smp: int, memory: str) -> list:
    """The quiet TCG line of qemu-testing.md; file names are relative to the run directory."""
    return [
        "qemu-system-x86_64", "-machine", machine, "-accel", accel(),
        "-m", memory, "-smp", str(smp), "-nodefaults",
        "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
        "-drive", "if=pflash,format=raw,file=vars.fd",
        "-drive", "if=none,id=esp,format=raw,file=esp.img",
        "-device", "virtio-blk-pci,drive=esp",
        "-serial", "stdio", "-display", "none", "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        # Relative, so the socket path never exceeds the 108-byte limit of sun_path.
        "-qmp", "unix:qmp.sock,server=on,wait=off",
    ]


def boot(build: str, name: str, cmdline: str, smp: int = 4, machine: str = "q35",
         memory: str = "256M", kernel: Optional[bytes] = None, delete_kernel: bool = False,
         stop_on: Optional[str] = None, stop_partial: bool = False, idle: Optional[float] = None,
         wall: Optional[float] = None) -> Boot:
    """Boots once; stops at exit, a timeout, or the first line matching `stop_on` (re.search,
    escapes stripped; with stop_partial, also a line still without its newline, like a prompt).
    `status` is QEMU's exit status when reason is 'exited', else None."""
    default_idle, default_wall = timeouts()
    idle, wall = idle or default_idle, wall or default_wall
    rundir = prepare(build, name, cmdline, kernel, delete_kernel)
    stop_re = re.compile(stop_on) if stop_on else None
    # timeout(1) is the backstop for a harness killed with SIGKILL, which cannot clean up.
    backstop = ["timeout", "-s", "KILL", str(int(wall) + 60)]
    with open(os.path.join(rundir, "qemu.err"), "wb") as err:
        proc = subprocess.Popen(backstop + command(machine, smp, memory), cwd=rundir,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                start_new_session=True)
    with _live_lock:
        _live.add(proc)
        stopping = _stopping
    try:
        if stopping:
            raise RuntimeError("harness interrupted")
        with open(os.path.join(rundir, "serial.log"), "w", encoding="latin-1") as log:
            text, reason = stream(proc, log, stop_re, idle, wall, stop_partial)
        status = None
        if reason == "exited":
            try:
                status = proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                reason = "no-exit-after-eof"
    finally:
        kill(proc)
    with open(os.path.join(rundir, "qemu.err"), encoding="latin-1") as f:
        stderr = f.read().strip()
    return Boot(text, status, reason, rundir, stderr)


def stream(proc: subprocess.Popen, log, stop_re, idle: float, wall: float, stop_partial: bool):
    """Copies serial output to `log` until EOF, a timeout or a stop line; returns (text, reason)."""
    fd = proc.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    chunks, partial = [], ""
    start = last = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            if now - start >= wall:
                return "".join(chunks), "wall-timeout"
            if now - last >= idle:
                return "".join(chunks), "idle-timeout"
            if not selector.select(min(idle - (now - last), wall - (now - start))):
                continue
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
    finally:
        selector.close()


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
