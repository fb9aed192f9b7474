"""A small QMP client (standard library only) and the US-keyboard qcodes that type a string.

    qmp = Qmp().connect("build/runs/NAME/qmp.sock", timeout=10)
    qmp.execute("query-status")                  # -> {'status': 'running', 'running': True, ...}
    qmp.send_key(["shift", "a"], hold_ms=1)      # one send-key: shift and a held together
    for chord in text_to_qcodes("dir\\n"):
        qmp.send_key(chord)
    qmp.close()

QMP arguments whose names hold a hyphen go through a dict:
`qmp.execute("human-monitor-command", **{"command-line": "info registers"})`.
"""
import json
import os
import socket
import string
import time
from typing import List, Optional

SUN_PATH_MAX = 107  # sun_path is 108 bytes with its terminating NUL


class QmpError(Exception):
    """QEMU answered a command with {"error": {"class": ..., "desc": ...}}."""

    def __init__(self, command: str, error: dict):
        self.command = command
        self.error_class = error.get("class", "")
        self.desc = error.get("desc", "")
        super().__init__(f"{command}: {self.error_class}: {self.desc}")


class Qmp:
    def __init__(self):
        self.sock: Optional[socket.socket] = None
        self.greeting: Optional[dict] = None
        self.events: List[dict] = []  # asynchronous events seen while waiting for replies
        self.timeout = 10.0
        self._buffer = b""

    def connect(self, path: str, timeout: float = 10.0) -> "Qmp":
        """Connects to QEMU's `-qmp unix:PATH,server=on,wait=off` socket, retrying until it
        exists and accepts or `timeout` seconds have passed; reads the greeting and leaves
        capabilities negotiation mode. `timeout` also bounds each later wait for a reply."""
        self.timeout = timeout
        deadline = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                connect_unix(sock, path)
                break
            except (FileNotFoundError, ConnectionRefusedError) as error:
                sock.close()
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"QMP socket {path}: {error}") from None
                time.sleep(0.05)
            except BaseException:
                sock.close()
                raise
        sock.settimeout(timeout)
        self.sock = sock
        try:
            self.greeting = self._read()
            if "QMP" not in self.greeting:
                raise ConnectionError(f"not a QMP greeting: {self.greeting}")
            self.execute("qmp_capabilities")
        except BaseException:
            self.close()
            raise
        return self

    def execute(self, cmd: str, **args):
        """Runs one command and returns its `return` value; raises QmpError on `error`.
        Events that arrive before the reply are kept in self.events."""
        message = {"execute": cmd}
        if args:
            message["arguments"] = args
        self._send(message)
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise QmpError(cmd, reply["error"])
            elif "return" in reply:
                return reply["return"]
            else:
                raise ConnectionError(f"{cmd}: unexpected QMP message {reply}")

    def send_key(self, qcodes: List[str], hold_ms: Optional[int] = 1) -> None:
        """One send-key: the keys are pressed in order, held `hold_ms` together, released.
        hold_ms=None leaves QEMU's default of 100 ms."""
        args = {"keys": [{"type": "qcode", "data": q} for q in qcodes]}
        if hold_ms is not None:
            args["hold-time"] = int(hold_ms)
        self.execute("send-key", **args)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv()
            except OSError:
                pass
            self.sock.close()
            self.sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _send(self, message: dict) -> None:
        if self.sock is None:
            raise ConnectionError("QMP: not connected")
        self.sock.sendall(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def _read(self) -> dict:
        """The next JSON object; QEMU ends each with CRLF."""
        if self.sock is None:
            raise ConnectionError("QMP: not connected")
        while b"\n" not in self._buffer:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError(f"QMP: no reply within {self.timeout:g} s") from None
            if not data:
                raise ConnectionError("QMP: connection closed by QEMU")
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


def connect_unix(sock: socket.socket, path: str) -> None:
    """sock.connect(path), also for paths longer than sun_path: through /proc/self/fd."""
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        sock.connect(path)
        return
    directory = os.open(os.path.dirname(os.path.abspath(path)) or ".", os.O_RDONLY)
    try:
        sock.connect(f"/proc/self/fd/{directory}/{os.path.basename(path)}")
    finally:
        os.close(directory)


# US layout: the key each character is on, and the characters that need shift.
_PLAIN = {" ": "spc", "\n": "ret", "\r": "ret", "\b": "backspace", "\t": "tab", "\x1b": "esc",
          "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right",
          "\\": "backslash", ";": "semicolon", "'": "apostrophe", "`": "grave_accent",
          ",": "comma", ".": "dot", "/": "slash"}
_SHIFTED = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8",
            "(": "9", ")": "0", "_": "minus", "+": "equal", "{": "bracket_left",
            "}": "bracket_right", "|": "backslash", ":": "semicolon", '"': "apostrophe",
            "~": "grave_accent", "<": "comma", ">": "dot", "?": "slash"}


def char_to_qcodes(char: str) -> List[str]:
    if char in string.ascii_lowercase or char in string.digits:
        return [char]
    if char in string.ascii_uppercase:
        return ["shift", char.lower()]
    if char in _PLAIN:
        return [_PLAIN[char]]
    if char in _SHIFTED:
        return ["shift", _SHIFTED[char]]
    raise ValueError(f"no US-keyboard key types {char!r}")


def text_to_qcodes(text: str) -> List[List[str]]:
    """One chord (qcodes held together) per character typed on a US keyboard; "\\n", "\\r" and
    "\\r\\n" are one Enter each. Raises ValueError for a character no key types (e.g. "é")."""
    return [char_to_qcodes(char) for char in text.replace("\r\n", "\n")]
