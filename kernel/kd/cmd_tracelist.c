/*
 * cmd_tracelist.c - !trace list [count]: the last events of a stopped trace,
 * every processor's merged in time order, one line each with the processor,
 * the IRQL it was recorded at and what happened, named with symbols: the
 * timeline of tools/trace, read at the console.  Record layouts are those of
 * docs/trace-format.md.
 */
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/prcb.h>
#include <irqlab/trace.h>
#include "kd.h"

#define LIST_DEFAULT 40
#define LIST_MAX     400

static const PCSTR KdIrqlShort[16] = { "0 PASSIVE", "1 APC", "2 DISPATCH", "3 DIRQL", "4 DIRQL", "5 DIRQL",
                                       "6 DIRQL", "7 DIRQL", "8 DIRQL", "9 DIRQL", "10 DIRQL", "11 DIRQL",
                                       "12 SYNCH", "13 CLOCK", "14 IPI", "15 HIGH" };

/* A routine kept as its low 32 bits (docs/trace-format.md): sign-extended back and named. */
static VOID routine_name(ULONG Low, CHAR *Out, ULONG Size)
{
    KiFormatSymbol((ULONG_PTR)(LONG_PTR)(LONG)Low, Out, Size);
}

static VOID describe(const KTRACE_RECORD *R, const KTRACE_RECORD *Next, CHAR *Out, ULONG Size)
{
    CHAR name[96];

    routine_name(R->Data32, name, sizeof(name));
    switch (R->Type) {
    case KTRACE_INTERRUPT_ENTER:
        RtlFormat(Out, Size, "interrupt 0x%02x enters (from IRQL %u): %s", R->Data16 & 0xff, R->Data16 >> 8, name);
        break;
    case KTRACE_INTERRUPT_EXIT:
        RtlFormat(Out, Size, "interrupt 0x%02x returns to IRQL %u", R->Data16 & 0xff, R->Data16 >> 8);
        break;
    case KTRACE_DPC_INSERT:
        RtlFormat(Out, Size, "DPC %016llx queued for CPU %u%s", R->Data64, R->Data16 & 0xff,
                  R->Data16 & 0x800 ? "" : " (already queued)");
        break;
    case KTRACE_DPC_BEGIN:
        RtlFormat(Out, Size, "DPC begins: %s", name);
        break;
    case KTRACE_DPC_END:
        RtlFormat(Out, Size, "DPC ends: %s", name);
        break;
    case KTRACE_APC_DELIVER:
        RtlFormat(Out, Size, "%s APC runs: %s", R->Data16 ? "normal" : "special", name);
        break;
    case KTRACE_CONTEXT_SWITCH:
        RtlFormat(Out, Size, "switch to thread %016llx from %016llx", R->Data64,
                  Next && Next->Type == KTRACE_EXTENSION ? Next->Data64 : 0);
        break;
    case KTRACE_IPI_SEND:
        RtlFormat(Out, Size, "IPI sent to %llx (requests %x)", R->Data64, R->Data32);
        break;
    case KTRACE_IPI_RECEIVE:
        RtlFormat(Out, Size, "IPI received (requests %x)", R->Data32);
        break;
    case KTRACE_TIMER_EXPIRE:
        RtlFormat(Out, Size, "timer %016llx expires: %s", R->Data64, R->Data32 ? name : "no DPC");
        break;
    case KTRACE_MARK:
        RtlFormat(Out, Size, "mark %u", R->Data32);
        break;
    case KTRACE_LOCK_CONTENDED:
        RtlFormat(Out, Size, "spin lock %016llx taken after %u spins", R->Data64, R->Data32);
        break;
    case KTRACE_BUGCHECK:
        RtlFormat(Out, Size, "bugcheck 0x%x (P1 %llx)", R->Data32, R->Data64);
        break;
    default:
        RtlFormat(Out, Size, "event type %u", R->Type);
        break;
    }
}

/* The processor whose next unprinted record is the oldest; -1 when all are done. */
static LONG oldest(const ULONG *Next, const ULONG *Count)
{
    LONG best = -1;
    ULONG64 best_tsc = ~0ull;

    for (LONG n = 0; n < KeNumberProcessors; n++) {
        const KTRACE_RECORD *r = Next[n] < Count[n] ? KeQueryTraceRecord((ULONG)n, Next[n]) : NULL;
        if (r && r->Tsc < best_tsc) {
            best = n;
            best_tsc = r->Tsc;
        }
    }
    return best;
}

/* Records worth a line: not the extensions (folded into their switch), not the watchdog's ticks. */
static BOOLEAN listed(const KTRACE_RECORD *R)
{
    return R->Type != KTRACE_EXTENSION && R->Type != KTRACE_WATCHDOG_TICK && R->Type != KTRACE_NONE;
}

VOID KdTraceList(PCSTR Args)
{
    ULONG64 count = LIST_DEFAULT, stop;
    ULONG next[MAXIMUM_PROCESSORS] = { 0 }, total[MAXIMUM_PROCESSORS] = { 0 }, all = 0;
    PCSTR source;
    CHAR text[160];

    if (KdNextValue(&Args, &count, FALSE, "count") && (count == 0 || count > LIST_MAX)) {
        DbgPrint("!trace list shows 1 to %u events (0n%u)\n", LIST_MAX, LIST_MAX);
        return;
    }
    if (!KdNoMoreArguments(Args, "!trace list [count]"))
        return;
    if (KeQueryTraceSession(&stop) == 0 || stop == 0) {
        DbgPrint("!trace list reads a stopped trace: !trace start, then !trace stop\n");
        return;
    }
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        KTRACE_STATS s;
        if (KeQueryTraceProcessor((ULONG)n, &s))
            total[n] = s.Recorded;
        for (ULONG i = 0; i < total[n]; i++)
            all += listed(KeQueryTraceRecord((ULONG)n, i));
    }
    ULONG64 mhz = KeQueryTscFrequency(&source) / 1000000, first = 0;
    ULONG skip = all > count ? all - (ULONG)count : 0, seen = 0;
    DbgPrint("    time (us)  CPU  IRQL        event (the last %u of %u, oldest first)\n", all - skip, all);
    for (LONG n; (n = oldest(next, total)) >= 0;) {
        const KTRACE_RECORD *r = KeQueryTraceRecord((ULONG)n, next[n]++);
        if (!listed(r) || seen++ < skip)
            continue;
        first = first ? first : r->Tsc;
        describe(r, next[n] < total[n] ? KeQueryTraceRecord((ULONG)n, next[n]) : NULL, text, sizeof(text));
        DbgPrint("  %10llu  %3d  %-11s %s\n", mhz ? (r->Tsc - first) / mhz : 0, n,
                 r->Irql < 16 ? KdIrqlShort[r->Irql] : "?", text);
    }
}
