"""chrome.py - a timeline as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and
chrome://tracing open: one track per CPU, ISRs and DPCs as nested complete ("X") slices, flow
arrows from each insert to its DPC (named "ISR -> DPC" when an ISR queued it), IPI arrows from
sender to receiver, and counters for each CPU's DPC queue depth and IRQL.

Format: Google's "Trace Event Format" document (complete events, flow events with binding point
"e", counter events, metadata events); timestamps in microseconds.
"""
import json

import reader as R
import timeline as T

PID = 0
INSTANT_NAMES = {
    R.IPI_SEND: "IPI send", R.IPI_RECEIVE: "IPI receive", R.TIMER_EXPIRE: "timer expiry",
    R.LOCK_CONTENDED: "spin-lock contention", R.WATCHDOG_TICK: "watchdog tick", R.BUGCHECK: "bugcheck",
    R.MARK: "mark", R.CONTEXT_SWITCH: "context switch",
}


def us(tl, tsc):
    return round((tsc - tl.begin_tsc) * 1e6 / tl.trace.tsc_hz, 3)


def metadata(tl):
    events = [{"ph": "M", "pid": PID, "name": "process_name", "args": {"name": "irqlab"}}]
    for cpu in tl.trace.cpus:
        events.append({"ph": "M", "pid": PID, "tid": cpu.number, "name": "thread_name",
                       "args": {"name": f"CPU {cpu.number}"}})
        events.append({"ph": "M", "pid": PID, "tid": cpu.number, "name": "thread_sort_index",
                       "args": {"sort_index": cpu.number}})
    return events


def slices(tl):
    events = []
    for s in tl.slices:
        args = {"irql": s.level, "routine": tl.trace.symbol(s.routine)}
        if s.kind == "isr":
            args.update(vector=f"{s.vector:#04x}", kinterrupt=f"{s.obj:#x}")
        else:
            args["kdpc"] = f"{s.obj:#x}"
            if s.insert is not None:
                args["latency_us"] = round(T.micros(tl, s.start - s.insert.tsc), 3)
        if s.open_before:
            args["note"] = "began before the trace"
        if s.unfinished:
            args["note"] = "still running when the trace stopped"
        events.append({"ph": "X", "pid": PID, "tid": s.cpu, "name": s.name(tl.trace), "cat": s.kind,
                       "ts": us(tl, s.start), "dur": round(us(tl, s.end) - us(tl, s.start), 3), "args": args})
    return events


def flows(tl):
    """An insert is a zero-length slice where it happened, so its arrow has a slice to leave from."""
    events = []
    for n, i in enumerate(tl.inserts):
        name = "KeInsertQueueDpc" + ("" if i.queued else " (already queued)")
        events.append({"ph": "X", "pid": PID, "tid": i.cpu, "name": name, "cat": "insert", "ts": us(tl, i.tsc),
                       "dur": 0, "args": {"kdpc": f"{i.kdpc:#x}", "target": i.target, "importance": i.importance,
                                          "requested": i.requested, "depth": i.depth}})
        if i.begin is None:
            continue
        name = "ISR -> DPC" if i.from_isr else "insert -> DPC"
        events.append({"ph": "s", "pid": PID, "tid": i.cpu, "id": n, "name": name, "cat": "dpc-flow",
                       "ts": us(tl, i.tsc)})
        events.append({"ph": "f", "bp": "e", "pid": PID, "tid": i.begin.cpu, "id": n, "name": name,
                       "cat": "dpc-flow", "ts": us(tl, i.begin.start)})
    base = len(tl.inserts)
    for n, (send, receive) in enumerate(tl.ipis, base):
        for ph, r in (("s", send), ("f", receive)):
            event = {"ph": ph, "pid": PID, "tid": r.cpu, "id": n, "name": "IPI", "cat": "ipi-flow",
                     "ts": us(tl, r.tsc)}
            if ph == "f":
                event["bp"] = "e"
            events.append(event)
    return events


def instants(tl):
    events = []
    for r in tl.instants:
        if r.type not in INSTANT_NAMES:
            continue
        args = {"irql": r.irql, "data32": r.d32, "data64": f"{r.d64:#x}"}
        if r.type == R.TIMER_EXPIRE:
            args["dpc_routine"] = tl.trace.symbol(r.code)
        if r.type == R.BUGCHECK:
            args["code"] = f"{r.d32:#010x}"
        if r.type == R.CONTEXT_SWITCH:
            args.update(old_thread=f"{r.ext:#x}", new_thread=f"{r.d64:#x}", old_state=r.d16 & 0xFF,
                        wait_reason=r.d16 >> 8)
        # An instant is drawn as a zero-length slice, so that an arrow can start or end at it.
        events.append({"ph": "X", "pid": PID, "tid": r.cpu, "name": INSTANT_NAMES[r.type], "cat": "event",
                       "ts": us(tl, r.tsc), "dur": 0, "args": args})
    return events


def counters(tl):
    events = []
    for cpu, points in sorted(tl.depths.items()):
        for tsc, depth in sorted(points):
            events.append({"ph": "C", "pid": PID, "name": f"DPC queue depth CPU {cpu}", "ts": us(tl, tsc),
                           "args": {"depth": depth}})
    for cpu, points in sorted(tl.levels.items()):
        for tsc, level in points:
            events.append({"ph": "C", "pid": PID, "name": f"IRQL CPU {cpu}", "ts": us(tl, tsc),
                           "args": {"irql": level}})
    return events


def convert(tl) -> dict:
    trace = tl.trace
    return {
        "traceEvents": metadata(tl) + slices(tl) + flows(tl) + instants(tl) + counters(tl),
        "displayTimeUnit": "ns",
        "otherData": {"source": "irqlab !trace dump", "tsc_hz": trace.tsc_hz,
                      "categories": trace.category_names(), "processors": len(trace.cpus),
                      "dropped": {str(c.number): c.dropped for c in trace.cpus},
                      "bugcheck": bool(trace.flags & R.FLAG_BUGCHECK), "notes": tl.notes},
    }


def write(tl, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(convert(tl), f, indent=None, separators=(",", ":"))
        f.write("\n")
