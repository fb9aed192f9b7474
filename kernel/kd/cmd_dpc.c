/*
 * cmd_dpc.c - !dpcs (each CPU's DPC queue, in queue order, in the columns
 * of WinDbg's !dpcs) and !timer (the set timers, per CPU, in due order).
 */
#include <irqlab/interrupt.h>
#include <irqlab/timer.h>
#include <irqlab/kequery.h>
#include "kd.h"

static PCSTR type_name(UCHAR Type)
{
    return Type == ThreadedDpcObject ? "Threaded" : "Normal  ";
}

static ULONG print_queue(ULONG Cpu, const KD_CPU_SNAPSHOT *S)
{
    CHAR symbol[96];

    for (ULONG i = 0; i < S->DpcEntries; i++) {
        if (!KiFormatSymbol((ULONG64)S->Dpcs[i].Routine, symbol, sizeof(symbol)))
            symbol[0] = '\0';
        DbgPrint("%2u: %s: 0x%016llx 0x%016llx %s\n", Cpu, type_name(S->Dpcs[i].Type), (ULONG64)S->Dpcs[i].Dpc,
                 (ULONG64)S->Dpcs[i].Routine, symbol);
    }
    if (S->DpcTruncated)
        DbgPrint("%2u: ... %d queued in all; the first %u shown\n", Cpu, S->DpcQueueDepth, KD_SNAPSHOT_DPCS);
    return S->DpcEntries;
}

KD_COMMAND(dpcs, "!dpcs", "!dpcs [processor]", "the queued DPCs of every processor (or one), in queue order")
{
    ULONG only, rows = 0;
    BOOLEAN all = KdAtEnd(Args);

    if (!KdProcessorArgument(&Args, &only) || !KdNoMoreArguments(Args, "!dpcs [processor]"))
        return;
    const KD_CPU_SNAPSHOT *snap = KdSnapshotProcessors();
    DbgPrint("CPU Type      KDPC               Function\n");
    for (LONG n = 0; n < KeNumberProcessors; n++)
        if (all || (ULONG)n == only)
            rows += print_queue((ULONG)n, &snap[n]);
    if (rows == 0)
        DbgPrint("No DPCs queued\n");
}

KD_COMMAND(timer, "!timer", "!timer", "the set kernel timers of every processor, in due order")
{
    static KI_TIMER_INFO timers[64];
    CHAR symbol[96];

    if (!KdNoMoreArguments(Args, "!timer"))
        return;
    ULONG64 now = KeQueryInterruptTime();
    DbgPrint("Dump system timers\n\nInterrupt time: %08llx %08llx\n", now & 0xffffffff, now >> 32);
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        ULONG count = KiQueryTimers((ULONG)n, timers, ARRAYSIZE(timers));
        if (count == 0)
            continue;
        DbgPrint("\nPROCESSOR %d\nTimer              Due (interrupt time)  In (ms)  Period  DPC / Function\n", n);
        for (ULONG i = 0; i < count; i++) {
            KI_TIMER_INFO *t = &timers[i];
            LONG64 in_ms = ((LONG64)t->DueTime - (LONG64)now) / 10000;
            if (!KiFormatSymbol((ULONG64)t->Routine, symbol, sizeof(symbol)))
                symbol[0] = '\0';
            DbgPrint("%016llx %08llx %08llx %8lld %7u  %016llx %s\n", (ULONG64)t->Timer, t->DueTime & 0xffffffff,
                     t->DueTime >> 32, in_ms, t->Period, (ULONG64)t->Dpc, symbol);
        }
    }
}
