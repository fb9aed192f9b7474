"""summary.py - the first questions a student asks of a trace, as xperf's DPC/ISR action answers
them (https://learn.microsoft.com/en-us/windows-hardware/test/wpt/dpcisr): per CPU the time at each IRQL, the longest ISR and DPC with their routines; ISR -> DPC
latency percentiles over the whole trace."""
import reader as R
import timeline as T

LEVEL_NAMES = {0: "PASSIVE", 1: "APC", 2: "DISPATCH", 12: "SYNCH", 13: "CLOCK", 14: "IPI", 15: "HIGH"}


def level_name(level: int) -> str:
    return LEVEL_NAMES.get(level, f"DIRQL {level}")


def percentile(values, p):
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # nearest rank
    return ordered[int(rank) - 1]


def time_at_levels(tl, cpu):
    points = tl.levels.get(cpu, [])
    totals = {}
    for (tsc, level), (nxt, _) in zip(points, points[1:] + [(tl.ends.get(cpu, tl.end_tsc), None)]):
        totals[level] = totals.get(level, 0) + max(0, nxt - tsc)
    return totals


def longest(tl, cpu, kind):
    mine = [s for s in tl.slices if s.cpu == cpu and s.kind == kind and not s.open_before and not s.unfinished]
    return (len(mine), max(mine, key=lambda s: s.end - s.start)) if mine else (0, None)


def describe(tl, s):
    return (f"{T.micros(tl, s.end - s.start):.1f} us {tl.trace.symbol(s.routine)} "
            f"at {T.seconds(tl, s.start) * 1000:.3f} ms")


def latency_line(tl, label, samples):
    if not samples:
        return f"{label}: no samples"
    values = [T.micros(tl, d) for d, _ in samples]
    worst = max(samples, key=lambda x: x[0])[1]
    return (f"{label} ({len(values)} samples): p50 {percentile(values, 50):.1f} us, p90 "
            f"{percentile(values, 90):.1f} us, p99 {percentile(values, 99):.1f} us, max {max(values):.1f} us "
            f"({tl.trace.symbol(worst.routine)} on CPU {worst.cpu})")


def cpu_lines(tl, cpu):
    totals = time_at_levels(tl, cpu.number)
    span = sum(totals.values()) or 1
    levels = ", ".join(f"{level_name(l)} {100 * t / span:.1f}%" for l, t in sorted(totals.items()) if t)
    lines = [f"CPU {cpu.number}: {len(cpu.records)} records, {cpu.dropped} dropped; time at IRQL: {levels or '-'}"]
    for kind, label in (("isr", "interrupts"), ("dpc", "DPCs")):
        count, top = longest(tl, cpu.number, kind)
        lines.append(f"  {label}: {count}" + (f", longest {describe(tl, top)}" if top else ""))
    switches = sum(1 for r in cpu.records if r.type == R.CONTEXT_SWITCH)
    if switches:
        lines.append(f"  context switches: {switches}")
    return lines


def text(tl) -> str:
    t = tl.trace
    span_ms = (tl.end_tsc - tl.begin_tsc) * 1000 / t.tsc_hz
    lines = [f"irqlab trace: {len(t.cpus)} processors, {sum(len(c.records) for c in t.cpus)} records, "
             f"{sum(c.dropped for c in t.cpus)} dropped, {span_ms:.1f} ms, TSC {t.tsc_hz / 1e6:.0f} MHz, "
             f"categories {t.category_names()}" + (", ended in a bugcheck" if t.flags & R.FLAG_BUGCHECK else "")]
    if not t.categories & 0x4:
        lines.append("(IRQL changes outside interrupts and DPCs appear only with the irql category)")
    for cpu in t.cpus:
        lines += cpu_lines(tl, cpu)
    isr = [(i.begin.start - i.tsc, i.begin) for i in tl.inserts if i.begin is not None and i.from_isr]
    every = [(i.begin.start - i.tsc, i.begin) for i in tl.inserts if i.begin is not None]
    lines.append(latency_line(tl, "ISR -> DPC latency", isr))
    lines.append(latency_line(tl, "insert -> DPC latency", every))
    ipi = [T.micros(tl, rcv.tsc - snd.tsc) for snd, rcv in tl.ipis]
    if ipi:
        lines.append(f"IPIs: {len(ipi)} delivered, send -> receive p50 {percentile(ipi, 50):.1f} us, "
                     f"max {max(ipi):.1f} us")
    lines += [f"note: {n}" for n in tl.notes]
    return "\n".join(lines) + "\n"


def worst_latency(tl):
    """The insert whose DPC waited longest after an ISR queued it (else any insert)."""
    linked = [i for i in tl.inserts if i.begin is not None]
    pool = [i for i in linked if i.from_isr] or linked
    return max(pool, key=lambda i: i.begin.start - i.tsc) if pool else None


def longest_wait(tl):
    """The insert whose DPC waited longest in its queue, wherever it came from."""
    linked = [i for i in tl.inserts if i.begin is not None]
    return max(linked, key=lambda i: i.begin.start - i.tsc) if linked else None


def longest_dpc(tl):
    dpcs = [s for s in tl.slices if s.kind == "dpc" and not s.open_before]
    return max(dpcs, key=lambda s: s.end - s.start) if dpcs else None
