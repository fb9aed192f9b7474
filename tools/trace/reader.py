"""reader.py - the file `!trace dump` writes to COM2 (docs/trace-format.md), parsed and checked.

Firmware writes its own text to every serial port before the kernel runs, so the reader
looks for the last "IRQLTRC1" magic and reads from there; anything before it is ignored.
Every structural problem (truncation, a CRC that does not match, an unknown event type)
raises TraceError with a sentence saying what is wrong and where.
"""
import struct
import zlib
from dataclasses import dataclass, field
from typing import Dict, List

MAGIC = b"IRQLTRC1"
TRAILER_MAGIC = b"IRQLEND1"
CPU_MAGIC = 0x42555043  # "CPUB"
HEADER = struct.Struct("<8sHHHHIIQQQIIQ")  # 64 bytes
CPU_HEADER = struct.Struct("<IIIIQQ")      # 32 bytes
RECORD = struct.Struct("<QBBHIQ")          # 24 bytes
TRAILER = struct.Struct("<8sII")           # 16 bytes
FLAG_BUGCHECK = 0x1

# KTRACE_EVENT (include/irqlab/trace.h)
NONE, INTERRUPT_ENTER, INTERRUPT_EXIT, DPC_INSERT, DPC_BEGIN, DPC_END = 0, 1, 2, 3, 4, 5
IRQL_RAISE, IRQL_LOWER, IPI_SEND, IPI_RECEIVE, TIMER_EXPIRE = 6, 7, 8, 9, 10
LOCK_CONTENDED, WATCHDOG_TICK, BUGCHECK, CONTEXT_SWITCH, APC_DELIVER, MARK = 11, 12, 13, 14, 15, 16
EXTENSION = 255
EVENT_NAMES = {
    INTERRUPT_ENTER: "interrupt enter", INTERRUPT_EXIT: "interrupt exit", DPC_INSERT: "DPC insert",
    DPC_BEGIN: "DPC begin", DPC_END: "DPC end", IRQL_RAISE: "IRQL raise", IRQL_LOWER: "IRQL lower",
    IPI_SEND: "IPI send", IPI_RECEIVE: "IPI receive", TIMER_EXPIRE: "timer expiry",
    LOCK_CONTENDED: "spin-lock contention", WATCHDOG_TICK: "watchdog tick", BUGCHECK: "bugcheck",
    CONTEXT_SWITCH: "context switch", APC_DELIVER: "APC delivery", MARK: "mark", EXTENSION: "extension",
}
CATEGORY_NAMES = ["interrupt", "dpc", "irql", "ipi", "timer", "lock", "watchdog", "bugcheck",
                  "cswitch", "apc"]


class TraceError(ValueError):
    """The file is not a trace this reader can trust; the message says why."""


@dataclass
class Record:
    cpu: int
    index: int
    tsc: int
    type: int
    irql: int
    d16: int
    d32: int
    d64: int
    ext: int = 0  # the D64 of the EXTENSION record that followed it (a context switch's old thread)

    @property
    def code(self) -> int:
        """Data32 as a kernel address: routines keep their low 32 bits (sign-extended)."""
        return self.d32 | 0xFFFFFFFF00000000 if self.d32 & 0x80000000 else self.d32


@dataclass
class Cpu:
    number: int
    records: List[Record]
    dropped: int
    torn: int
    start_tsc: int


@dataclass
class Trace:
    version: int
    categories: int
    flags: int
    tsc_hz: int
    start_tsc: int
    stop_tsc: int
    cpus: List[Cpu]
    symbols: Dict[int, str] = field(default_factory=dict)

    def category_names(self) -> str:
        names = [n for i, n in enumerate(CATEGORY_NAMES) if self.categories >> i & 1]
        return ",".join(names) or "none"

    def symbol(self, address: int) -> str:
        if address == 0:
            return "(none)"
        return self.symbols.get(address, f"{address:#x}")

    def seconds(self, tsc: int) -> float:
        return (tsc - self.start_tsc) / self.tsc_hz


def _take(data: bytes, offset: int, fmt: struct.Struct, what: str):
    if offset + fmt.size > len(data):
        raise TraceError(f"the trace is truncated: {what} at byte {offset} needs {fmt.size} bytes, "
                         f"{max(0, len(data) - offset)} are left")
    return fmt.unpack_from(data, offset), offset + fmt.size


def _cpu(data: bytes, offset: int, position: int):
    (magic, number, count, torn, dropped, start), offset = _take(data, offset, CPU_HEADER,
                                                                 f"processor {position}'s header")
    if magic != CPU_MAGIC:
        raise TraceError(f"processor {position}'s header at byte {offset - CPU_HEADER.size} has magic "
                         f"{magic:#010x}, not 'CPUB': the file is damaged")
    if number != position:
        raise TraceError(f"processor {position}'s header says it is processor {number}")
    if offset + count * RECORD.size > len(data):
        raise TraceError(f"the trace is truncated: processor {number} has {count} records, "
                         f"the file holds {(len(data) - offset) // RECORD.size}")
    records = []
    for i in range(count):
        tsc, kind, irql, d16, d32, d64 = RECORD.unpack_from(data, offset + i * RECORD.size)
        if kind not in EVENT_NAMES and kind != NONE:
            raise TraceError(f"processor {number} record {i}: unknown event type {kind}")
        if irql > 15:
            raise TraceError(f"processor {number} record {i}: IRQL {irql} is not a level (0-15)")
        if kind == EXTENSION:
            if not records or records[-1].type != CONTEXT_SWITCH:
                raise TraceError(f"processor {number} record {i}: an extension with no context switch before it")
            records[-1].ext = d64
            continue
        records.append(Record(number, i, tsc, kind, irql, d16, d32, d64))
    return Cpu(number, records, dropped, torn, start), offset + count * RECORD.size


def _symbols(data: bytes, offset: int, count: int):
    symbols = {}
    for i in range(count):
        (address, length), offset = _take(data, offset, struct.Struct("<QH"), f"symbol {i}")
        if offset + length > len(data):
            raise TraceError(f"the trace is truncated inside symbol {i}'s name")
        symbols[address] = data[offset:offset + length].decode("latin-1")
        offset += length
    return symbols, offset


def parse(data: bytes) -> Trace:
    start = data.rfind(MAGIC)
    if start < 0:
        raise TraceError("no trace in this file: the magic 'IRQLTRC1' is missing (did !trace dump run, "
                         "with a second -serial?)")
    data = data[start:]
    fields, offset = _take(data, 0, HEADER, "the header")
    _, version, header_size, record_size, processors, categories, flags, hz, t0, t1, nsym, _, _ = fields
    if version != 1 or header_size != HEADER.size or record_size != RECORD.size:
        raise TraceError(f"unsupported trace: version {version}, header {header_size} bytes, records "
                         f"{record_size} bytes (this reader knows version 1, 64, 24)")
    if hz == 0:
        raise TraceError("the header gives no TSC frequency")
    cpus = []
    for n in range(processors):
        cpu, offset = _cpu(data, offset, n)
        cpus.append(cpu)
    symbols, offset = _symbols(data, offset, nsym)
    (magic, crc, total), _ = _take(data, offset, TRAILER, "the trailer")
    if magic != TRAILER_MAGIC:
        raise TraceError(f"the trailer at byte {offset} is not 'IRQLEND1': the file is damaged or cut short")
    actual = zlib.crc32(data[:offset]) & 0xFFFFFFFF
    if actual != crc or total != offset:
        raise TraceError(f"the trace's CRC-32 is {actual:08x} over {offset} bytes, its trailer says {crc:08x} "
                         f"over {total}: the file was damaged after the kernel wrote it")
    return Trace(version, categories, flags, hz, t0, t1, cpus, symbols)


def load(path: str) -> Trace:
    with open(path, "rb") as f:
        return parse(f.read())


def build(cpus, tsc_hz=1_000_000_000, categories=0xFF, symbols=None, flags=0, start_tsc=None,
          stop_tsc=None) -> bytes:
    """A trace file from lists of (tsc, type, irql, d16, d32, d64) tuples, one list per CPU, or
    (records, dropped) pairs: the host tests make their traces with it, good ones and broken ones."""
    body = b""
    cpus = [(c, 0) if isinstance(c, list) else c for c in cpus]
    t0 = start_tsc if start_tsc is not None else min((r[0] for c, _ in cpus for r in c), default=0)
    last = max((r[0] for c, _ in cpus for r in c), default=0)
    for n, (records, dropped) in enumerate(cpus):
        body += CPU_HEADER.pack(CPU_MAGIC, n, len(records), 0, dropped, t0)
        body += b"".join(RECORD.pack(*r) for r in records)
    symbols = symbols or {}
    for address, name in symbols.items():
        body += struct.pack("<QH", address, len(name)) + name.encode()
    header = HEADER.pack(MAGIC, 1, HEADER.size, RECORD.size, len(cpus), categories, flags, tsc_hz, t0,
                         stop_tsc if stop_tsc is not None else last, len(symbols), 0, 0)
    data = header + body
    return data + TRAILER.pack(TRAILER_MAGIC, zlib.crc32(data) & 0xFFFFFFFF, len(data))
