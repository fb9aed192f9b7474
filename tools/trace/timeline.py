"""timeline.py - a trace's records turned into what ran where: slices (ISRs and DPCs, nested as
they ran), the inserts and IPIs that link processors, queue depths and IRQL over time; and the
checks that make a trace believable before anything is drawn from it.

The checks (each failure names the processor, the record and what it broke):
  - timestamps never go back on a processor;
  - every end has its begin on the same processor (an interrupt exit its vector's enter, a DPC
    end its KDPC's begin), innermost first;
  - nesting follows IRQL order: an interrupt only inside something at a lower IRQL, a DPC only at
    the top or inside the DISPATCH interrupt (0x2F) that retires the queue;
  - no DPC begins above DISPATCH_LEVEL, and no interrupt is entered from its own class or higher;
  - drops and torn slots are counted (reported, not fatal: the buffer was full).
A slice may have begun before the trace did (the trace starts inside an IPI on every processor):
an end with nothing open is taken as a slice open since the trace's start, which is only
possible if everything that processor recorded before it ran at a higher IRQL, inside it.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import reader as R

DISPATCH_LEVEL = 2
MAX_PROBLEMS = 20


class InvalidTrace(ValueError):
    """The records break a rule; .problems lists each one."""

    def __init__(self, problems: List[str]):
        shown = problems[:MAX_PROBLEMS]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__("the trace breaks its rules:\n  " + "\n  ".join(shown) + more)
        self.problems = problems


@dataclass
class Slice:
    cpu: int
    kind: str  # "isr" or "dpc"
    level: int
    start: int
    routine: int
    obj: int  # the KINTERRUPT or the KDPC
    vector: Optional[int] = None
    end: Optional[int] = None
    depth: int = 0
    open_before: bool = False  # began before the trace did
    unfinished: bool = False   # still running when it stopped
    insert: Optional["Insert"] = None

    def name(self, trace: "R.Trace") -> str:
        routine = short(trace.symbol(self.routine))
        if self.kind == "isr":
            return f"ISR {self.vector:#04x} {routine}"
        return f"DPC {routine}"


@dataclass
class Insert:
    cpu: int
    tsc: int
    kdpc: int
    target: int
    importance: int
    requested: bool
    queued: bool
    depth: int
    inside: Optional[Slice]  # the slice running on the inserting CPU
    begin: Optional[Slice] = None

    @property
    def from_isr(self) -> bool:
        return self.inside is not None and self.inside.kind == "isr" and self.inside.level > DISPATCH_LEVEL


@dataclass
class Timeline:
    trace: "R.Trace"
    slices: List[Slice] = field(default_factory=list)
    inserts: List[Insert] = field(default_factory=list)
    instants: List["R.Record"] = field(default_factory=list)
    ipis: List[tuple] = field(default_factory=list)  # (send record, receive record)
    levels: Dict[int, List[tuple]] = field(default_factory=dict)  # cpu -> [(tsc, irql)]
    depths: Dict[int, List[tuple]] = field(default_factory=dict)  # cpu -> [(tsc, queue depth)]
    ends: Dict[int, int] = field(default_factory=dict)  # cpu -> its last timestamp
    notes: List[str] = field(default_factory=list)
    begin_tsc: int = 0
    end_tsc: int = 0


def short(symbol: str) -> str:
    return symbol.split("!", 1)[-1]


def initial_level(records) -> int:
    """The IRQL before the first record: what the first event that changes it came from (an insert
    records at HIGH_LEVEL, raised only for itself, so other records' IRQL would mislead)."""
    for r in records:
        if r.type == R.INTERRUPT_ENTER:
            return r.d16 >> 8
        if r.type == R.INTERRUPT_EXIT:
            return r.irql
        if r.type in (R.DPC_BEGIN, R.DPC_END):
            return DISPATCH_LEVEL
        if r.type in (R.IRQL_RAISE, R.IRQL_LOWER):
            return r.d16 & 0xFF
    return records[0].irql


class CpuWalk:
    """One processor's records, in order: the stack of what is open, and what broke a rule."""

    def __init__(self, tl: Timeline, cpu: "R.Cpu", problems: List[str]):
        self.tl, self.cpu, self.problems = tl, cpu, problems
        self.stack: List[Slice] = []
        self.done: List[Slice] = []  # this CPU's slices, in order of their begin
        self.top_level: List[Slice] = []  # closed with nothing open around them
        self.first = cpu.records[0].tsc if cpu.records else tl.trace.start_tsc

    def bad(self, r: "R.Record", text: str) -> None:
        self.problems.append(f"CPU {r.cpu} record {r.index} ({R.EVENT_NAMES.get(r.type, r.type)}): {text}")

    def where(self) -> str:
        top = self.stack[-1] if self.stack else None
        return f"{top.name(self.tl.trace)} (IRQL {top.level})" if top else "nothing"

    def push(self, s: Slice) -> None:
        s.depth = len(self.stack)
        self.stack.append(s)
        self.done.append(s)

    def pop(self, r: "R.Record") -> None:
        s = self.stack.pop()
        s.end = r.tsc
        if not self.stack:
            self.top_level.append(s)

    def orphan(self, r: "R.Record", s: Slice) -> None:
        """An end with nothing open: a slice that began before the trace, around all before it."""
        for earlier in self.top_level:
            inside_ok = earlier.level > s.level or (earlier.kind == "dpc" and s.kind == "isr"
                                                    and s.level == DISPATCH_LEVEL)
            if not inside_ok:
                self.bad(r, f"ends {s.name(self.tl.trace)} (IRQL {s.level}) that never began, after "
                            f"{earlier.name(self.tl.trace)} ran at IRQL {earlier.level}, which cannot have "
                            f"been inside it")
                return
        for earlier in self.done:
            earlier.depth += 1
        s.start, s.end, s.open_before = self.first, r.tsc, True
        self.done.insert(0, s)
        self.top_level = [s]

    def enter(self, r: "R.Record") -> None:
        vector, came_from = r.d16 & 0xFF, r.d16 >> 8
        if r.irql != vector >> 4:
            self.bad(r, f"vector {vector:#04x} entered at IRQL {r.irql}, not its class {vector >> 4}")
        if came_from >= r.irql:
            self.bad(r, f"vector {vector:#04x} entered from IRQL {came_from}, not below its IRQL {r.irql}")
        top = self.stack[-1] if self.stack else None
        if top is not None and r.irql <= top.level:
            self.bad(r, f"nesting breaks IRQL order: an interrupt at IRQL {r.irql} inside {self.where()}")
        self.push(Slice(r.cpu, "isr", r.irql, r.tsc, r.code, r.d64, vector))

    def leave(self, r: "R.Record") -> None:
        vector = r.d16 & 0xFF
        top = self.stack[-1] if self.stack else None
        if top is not None and top.kind == "isr" and top.vector == vector:
            self.pop(r)
        elif top is None:
            self.orphan(r, Slice(r.cpu, "isr", r.irql, r.tsc, 0, 0, vector))
        else:
            self.bad(r, f"exit of vector {vector:#04x}, but the innermost open slice is {self.where()}")

    def dpc_begin(self, r: "R.Record") -> None:
        if r.irql > DISPATCH_LEVEL:
            self.bad(r, f"DPC {short(self.tl.trace.symbol(r.code))} begins at IRQL {r.irql}: DPCs run at "
                        f"DISPATCH_LEVEL only")
        top = self.stack[-1] if self.stack else None
        if top is not None and not (top.kind == "isr" and top.level == DISPATCH_LEVEL):
            self.bad(r, f"nesting breaks IRQL order: a DPC begins inside {self.where()}")
        self.push(Slice(r.cpu, "dpc", DISPATCH_LEVEL, r.tsc, r.code, r.d64))
        self.tl.depths.setdefault(r.cpu, []).append((r.tsc, r.d16))

    def dpc_end(self, r: "R.Record") -> None:
        top = self.stack[-1] if self.stack else None
        if top is not None and top.kind == "dpc" and top.obj == r.d64:
            self.pop(r)
        elif top is None:
            self.orphan(r, Slice(r.cpu, "dpc", DISPATCH_LEVEL, r.tsc, r.code, r.d64))
        else:
            self.bad(r, f"end of DPC {short(self.tl.trace.symbol(r.code))}, but the innermost open slice is "
                        f"{self.where()}")

    def insert(self, r: "R.Record") -> None:
        i = Insert(r.cpu, r.tsc, r.d64, r.d16 & 0xFF, r.d16 >> 8 & 3, bool(r.d16 >> 10 & 1),
                   bool(r.d16 >> 11 & 1), r.d32, self.stack[-1] if self.stack else None)
        if i.target >= len(self.tl.trace.cpus):
            self.bad(r, f"targets processor {i.target}, which the trace does not have")
        self.tl.inserts.append(i)
        if i.queued:
            self.tl.depths.setdefault(i.target, []).append((r.tsc, i.depth))

    def level_after(self, r: "R.Record") -> Optional[int]:
        if r.type == R.INTERRUPT_ENTER:
            return r.irql
        if r.type == R.INTERRUPT_EXIT:
            return r.d16 >> 8
        if r.type in (R.DPC_BEGIN, R.DPC_END):
            return DISPATCH_LEVEL
        if r.type in (R.IRQL_RAISE, R.IRQL_LOWER):
            return r.d16 >> 8
        return None

    def run(self) -> None:
        records = [r for r in self.cpu.records if r.type != R.NONE]
        unwritten = len(self.cpu.records) - len(records)
        if unwritten and not self.cpu.torn:
            self.problems.append(f"CPU {self.cpu.number}: {unwritten} unwritten record slots, but its header "
                                 f"counts no torn record")
        levels = self.tl.levels.setdefault(self.cpu.number, [])
        if records:
            levels.append((records[0].tsc, initial_level(records)))
        handlers = {R.INTERRUPT_ENTER: self.enter, R.INTERRUPT_EXIT: self.leave, R.DPC_BEGIN: self.dpc_begin,
                    R.DPC_END: self.dpc_end, R.DPC_INSERT: self.insert}
        previous = None
        for r in records:
            if previous is not None and r.tsc < previous.tsc:
                self.bad(r, f"its timestamp {r.tsc} is before the previous record's {previous.tsc}")
            previous = r
            handlers.get(r.type, self.tl.instants.append)(r)
            level = self.level_after(r)
            if level is not None:
                levels.append((r.tsc, level))
        end = max(records[-1].tsc if records else self.first, self.tl.trace.stop_tsc)
        for s in self.stack:
            s.end, s.unfinished = end, True
        self.tl.ends[self.cpu.number] = end
        self.tl.slices += self.done


def link_inserts(tl: Timeline) -> None:
    """Each DPC begin gets the accepted insert of its KDPC that came before it, on any CPU."""
    events = [(i.tsc, 0, i) for i in tl.inserts if i.queued]
    events += [(s.start, 1, s) for s in tl.slices if s.kind == "dpc" and not s.open_before]
    pending: Dict[int, Insert] = {}
    for _, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 0:
            pending[item.kdpc] = item
        elif item.obj in pending and pending[item.obj].target == item.cpu:
            insert = pending.pop(item.obj)
            insert.begin, item.insert = item, insert


def link_ipis(tl: Timeline) -> None:
    sends = sorted((r for r in tl.instants if r.type == R.IPI_SEND), key=lambda r: r.tsc)
    receives: Dict[int, List] = {}
    for r in sorted((r for r in tl.instants if r.type == R.IPI_RECEIVE), key=lambda r: r.tsc):
        receives.setdefault(r.cpu, []).append(r)
    for send in sends:
        for cpu, queue in receives.items():
            if send.d64 >> cpu & 1:
                match = next((r for r in queue if r.tsc >= send.tsc), None)
                if match is not None:
                    queue.remove(match)
                    tl.ipis.append((send, match))


def build(trace: "R.Trace", strict: bool = True) -> Timeline:
    tl = Timeline(trace)
    problems: List[str] = []
    for cpu in trace.cpus:
        CpuWalk(tl, cpu, problems).run()
        if cpu.dropped:
            tl.notes.append(f"CPU {cpu.number}: {cpu.dropped} events dropped (its buffer was full; "
                            f"its timeline ends early)")
        if cpu.torn:
            tl.notes.append(f"CPU {cpu.number}: {cpu.torn} records torn (claimed, never written)")
    if problems and strict:
        raise InvalidTrace(problems)
    tl.notes += problems
    link_inserts(tl)
    link_ipis(tl)
    firsts = [c.records[0].tsc for c in trace.cpus if c.records]
    tl.begin_tsc = min(firsts + [trace.start_tsc]) if firsts else trace.start_tsc
    tl.end_tsc = max(list(tl.ends.values()) + [trace.stop_tsc])
    return tl


def seconds(tl: Timeline, tsc: int) -> float:
    return (tsc - tl.begin_tsc) / tl.trace.tsc_hz


def micros(tl: Timeline, cycles: int) -> float:
    return cycles * 1e6 / tl.trace.tsc_hz
