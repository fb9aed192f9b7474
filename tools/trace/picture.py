"""picture.py - the timeline as an SVG drawn with the standard library: one lane per CPU, time
left to right, each ISR and DPC a bar whose colour and height are its IRQL (as Windows
Performance Analyzer stacks ISRs and DPCs by priority), the IRQL between them as a thin step
line, the DPC queue's depth as a green band under the lane, arrows from each ISR's insert to its
DPC and from each IPI's sender to its receiver, and labels on the longest DPC, the worst ISR ->
DPC latency and the longest wait in a queue.  A window (milliseconds from the start) zooms."""
from xml.sax.saxutils import escape

import summary as S
import timeline as T

WIDTH, LEFT, RIGHT, TOP, LANE, GAP = 1200, 80, 20, 56, 96, 40
COLOURS = {0: "#d9d9d9", 1: "#b3cde3", 2: "#4daf4a", 12: "#984ea3", 13: "#377eb8", 14: "#ff7f00", 15: "#e41a1c"}
DIRQL_COLOUR = "#f2c14e"


def colour(level):
    return COLOURS.get(level, DIRQL_COLOUR)


class Canvas:
    def __init__(self, tl, window=None):
        self.tl = tl
        self.t0, self.t1 = tl.begin_tsc, tl.end_tsc
        if window is not None:
            hz = tl.trace.tsc_hz
            self.t0 = tl.begin_tsc + int(window[0] * hz / 1000)
            self.t1 = min(tl.end_tsc, tl.begin_tsc + int(window[1] * hz / 1000))
        self.span = max(1, self.t1 - self.t0)
        self.height = TOP + len(tl.trace.cpus) * (LANE + GAP) + 106
        self.parts = []

    def x(self, tsc):
        """Clamped to the window: what starts before it or ends after it is cut at its edge."""
        tsc = min(max(tsc, self.t0), self.t1)
        return LEFT + (tsc - self.t0) * (WIDTH - LEFT - RIGHT) / self.span

    def visible(self, start, end):
        return end >= self.t0 and start <= self.t1

    def lane_top(self, cpu):
        return TOP + cpu * (LANE + GAP)

    def y(self, cpu, level):
        """The top of a bar at this IRQL: level 15 fills the lane."""
        return self.lane_top(cpu) + LANE - LANE * (level + 1) / 16

    def add(self, text):
        self.parts.append(text)

    def text(self, x, y, words, size=11, anchor="start", weight="normal", fill="#222"):
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
                 f'font-weight="{weight}" fill="{fill}">{escape(words)}</text>')


def draw_lane(c, cpu):
    tl, top = c.tl, c.lane_top(cpu)
    c.add(f'<g class="lane" id="lane-cpu{cpu}">')
    c.add(f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" height="{LANE}" fill="#fafafa" '
          f'stroke="#bbb"/>')
    c.text(LEFT - 8, top + LANE / 2 + 4, f"CPU {cpu}", 13, "end", "bold")
    points = tl.levels.get(cpu, [])
    if points:
        path = []
        for (tsc, level), (nxt, _) in zip(points, points[1:] + [(tl.ends.get(cpu, tl.end_tsc), None)]):
            path.append(f"{c.x(tsc):.1f},{c.y(cpu, level):.1f} {c.x(nxt):.1f},{c.y(cpu, level):.1f}")
        c.add(f'<polyline class="irql" points="{" ".join(path)}" fill="none" stroke="#888" stroke-width="0.8"/>')
    mine = [s for s in tl.slices if s.cpu == cpu and c.visible(s.start, s.end)]
    for s in sorted(mine, key=lambda s: (s.level, s.kind == "dpc")):
        x0, x1 = c.x(s.start), c.x(s.end)
        y = c.y(cpu, s.level)
        title = f"{s.name(tl.trace)}: {T.micros(tl, s.end - s.start):.1f} us at IRQL {s.level}"
        c.add(f'<rect class="{s.kind}" x="{x0:.2f}" y="{y:.1f}" width="{max(1.0, x1 - x0):.2f}" '
              f'height="{top + LANE - y:.1f}" fill="{colour(s.level)}" fill-opacity="0.9">'
              f'<title>{escape(title)}</title></rect>')
    depths = sorted(tl.depths.get(cpu, []))
    for (tsc, depth), (nxt, _) in zip(depths, depths[1:] + [(tl.ends.get(cpu, tl.end_tsc), 0)]):
        if depth and c.visible(tsc, nxt):
            c.add(f'<rect class="depth" x="{c.x(tsc):.1f}" y="{top + LANE + 1}" width="{max(1.0, c.x(nxt) - c.x(tsc)):.1f}" '
                  f'height="{min(depth, 6) * 2}" fill="#4daf4a"><title>{depth} DPCs queued</title></rect>')
    c.add("</g>")


def draw_arrows(c):
    for send, receive in c.tl.ipis:
        if c.visible(send.tsc, receive.tsc):
            c.add(f'<line class="ipi" x1="{c.x(send.tsc):.1f}" y1="{c.y(send.cpu, 14):.1f}" x2="{c.x(receive.tsc):.1f}" '
                  f'y2="{c.y(receive.cpu, 14):.1f}" stroke="#ff7f00" stroke-width="1" marker-end="url(#arrow)"/>')
    for i in c.tl.inserts:
        if i.begin is None or not i.from_isr or not c.visible(i.tsc, i.begin.start):
            continue
        x0, y0 = c.x(i.tsc), c.y(i.cpu, i.inside.level)
        x1, y1 = c.x(i.begin.start), c.y(i.begin.cpu, 2)
        c.add(f'<line class="flow" x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="#555" '
              f'stroke-width="0.7" marker-end="url(#arrow)"/>')


def draw_labels(c):
    tl = c.tl
    dpc = S.longest_dpc(tl)
    if dpc is not None and c.visible(dpc.start, dpc.end):
        x, y = c.x(dpc.start), c.y(dpc.cpu, 2) - 4
        c.add(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{c.lane_top(dpc.cpu) + 4:.1f}" stroke="#222"/>')
        c.text(x + 3, c.lane_top(dpc.cpu) + 12, f"longest DPC: {T.short(tl.trace.symbol(dpc.routine))} "
               f"{T.micros(tl, dpc.end - dpc.start):.1f} us", 11, weight="bold")
    worst = S.worst_latency(tl)
    longest = S.longest_wait(tl)
    for n, (i, label) in enumerate(((worst, "worst ISR -> DPC"), (longest, "longest wait in a queue"))):
        if i is None or (n == 1 and i is worst) or (n == 0 and not i.from_isr) or \
                not c.visible(i.tsc, i.begin.start):
            continue
        x0, x1 = c.x(i.tsc), c.x(i.begin.start)
        y = c.lane_top(i.begin.cpu) + LANE + 16 + 14 * n
        c.add(f'<line class="latency" x1="{x0:.1f}" y1="{y:.1f}" x2="{max(x1, x0 + 2):.1f}" y2="{y:.1f}" '
              f'stroke="#e41a1c" stroke-width="2"/>')
        c.text(min(x0, WIDTH - 420), y + 11, f"{label}: {T.micros(tl, i.begin.start - i.tsc):.1f} us "
               f"({T.short(tl.trace.symbol(i.begin.routine))}, CPU {i.cpu} -> CPU {i.begin.cpu})", 11,
               fill="#e41a1c", weight="bold")


def draw_axis(c):
    tl = c.tl
    bottom = c.lane_top(len(tl.trace.cpus)) + 30  # under the latency labels of the last lane
    total_ms = c.span * 1000 / tl.trace.tsc_hz
    offset_ms = (c.t0 - tl.begin_tsc) * 1000 / tl.trace.tsc_hz
    step = next((s for s in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
                 if total_ms / s <= 12), 2000)
    k = 0
    while k * step <= total_ms:
        x = LEFT + k * step / total_ms * (WIDTH - LEFT - RIGHT)
        c.add(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{bottom}" stroke="#eee"/>')
        c.text(x, bottom + 12, f"{offset_ms + k * step:g} ms", 10, "middle", fill="#555")
        k += 1
    legend = [(0, "PASSIVE"), (1, "APC"), (2, "DISPATCH (DPC)"), (11, "DIRQL (device ISR)"), (13, "CLOCK"),
              (14, "IPI"), (15, "HIGH")]
    x = LEFT
    for level, name in legend:
        c.add(f'<rect x="{x}" y="{bottom + 24}" width="12" height="12" fill="{colour(level)}"/>')
        c.text(x + 16, bottom + 34, name, 11)
        x += 32 + 7 * len(name)


def svg(tl, window=None) -> str:
    c = Canvas(tl, window)
    t = tl.trace
    c.text(LEFT, 22, f"irqlab: what ran at which IRQL ({len(t.cpus)} CPUs, "
           f"{c.span * 1000 / t.tsc_hz:.1f} ms, categories {t.category_names()})", 15, weight="bold")
    c.text(LEFT, 40, "bar height and colour = IRQL; grey line = IRQL between events; green band = DPCs "
           "queued; grey arrows = ISR -> DPC, orange = IPI", 11, fill="#555")
    for cpu in range(len(t.cpus)):
        draw_lane(c, cpu)
    draw_arrows(c)
    draw_labels(c)
    draw_axis(c)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{c.height}" '
            f'viewBox="0 0 {WIDTH} {c.height}" font-family="sans-serif">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
            'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>'
            f'<rect width="{WIDTH}" height="{c.height}" fill="white"/>')
    return head + "\n".join(c.parts) + "</svg>\n"


def write(tl, path: str, window=None) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(svg(tl, window))
