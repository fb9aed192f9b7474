/*
 * cmd_trace.c - !trace: the per-CPU event trace (kernel/ke/trace.c) from
 * the console.  start [categories] empties the buffers and records, stop
 * stops, stats counts what each processor holds, list prints the last
 * events in time order (cmd_tracelist.c), dump writes the file of
 * docs/trace-format.md to the second serial port for tools/trace.
 */
#include <irqlab/rtl.h>
#include <irqlab/prcb.h>
#include <irqlab/trace.h>
#include "kd.h"

#define TRACE_USAGE "!trace start [categories] | stop | stats | list [count] | dump"
#define CATEGORY_HELP "default, all, or a comma list of interrupt,dpc,irql,ipi,timer,lock,watchdog,bugcheck,cswitch,apc"

static VOID trace_start(PCSTR Args)
{
    CHAR word[KD_LINE_MAX], names[96];
    ULONG mask = KTRACE_CAT_DEFAULT;
    PCSTR bad = NULL;

    if (KdNextWord(&Args, word, sizeof(word)) && !KeParseTraceCategories(word, &mask, &bad)) {
        DbgPrint("'%s' names no trace category (%s); usage: %s\n", bad, CATEGORY_HELP, TRACE_USAGE);
        return;
    }
    if (!KdNoMoreArguments(Args, TRACE_USAGE))
        return;
    if (mask == 0) {
        DbgPrint("No category to record; !trace stop stops\n");
        return;
    }
    if (!KeStartTrace(mask)) {
        DbgPrint("trace: no buffers (out of memory at boot)\n");
        return;
    }
    KeFormatTraceCategories(mask, names, sizeof(names));
    DbgPrint("trace: recording %s on %d processors\n", names, KeNumberProcessors);
}

/* Events of each kind in one CPU's buffer (stopped or not: a count may be one short). */
static VOID count_types(ULONG Cpu, ULONG Recorded, ULONG Counts[4])
{
    memset(Counts, 0, 4 * sizeof(ULONG));
    for (ULONG i = 0; i < Recorded; i++) {
        const KTRACE_RECORD *r = KeQueryTraceRecord(Cpu, i);
        UCHAR type = r ? __atomic_load_n(&r->Type, __ATOMIC_ACQUIRE) : KTRACE_NONE;
        if (type == KTRACE_INTERRUPT_ENTER)
            Counts[0]++;
        else if (type == KTRACE_DPC_BEGIN)
            Counts[1]++;
        else if (type == KTRACE_IPI_RECEIVE)
            Counts[2]++;
        else if (type == KTRACE_IRQL_RAISE || type == KTRACE_IRQL_LOWER)
            Counts[3]++;
    }
}

static VOID trace_stats(VOID)
{
    CHAR names[96];
    KTRACE_STATS s;
    ULONG64 stop;
    ULONG counts[4];

    ULONG running = KeQueryTraceCategories();
    KeFormatTraceCategories(running ? running : KeQueryTraceSession(&stop), names, sizeof(names));
    DbgPrint("trace: %s %s\n", running ? "recording" : "stopped; last recorded", names);
    DbgPrint(" CPU capacity recorded  dropped torn interrupts   DPCs   IPIs  IRQL\n");
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        if (!KeQueryTraceProcessor((ULONG)n, &s)) {
            DbgPrint(" %3d no buffer\n", n);
            continue;
        }
        count_types((ULONG)n, s.Recorded, counts);
        DbgPrint(" %3d %8u %8u %8llu %4u %10u %6u %6u %5u\n", n, s.Capacity, s.Recorded, s.Dropped, s.Torn,
                 counts[0], counts[1], counts[2], counts[3]);
    }
}

static VOID trace_dump(VOID)
{
    KTRACE_STATS s;
    ULONG crc;
    ULONG64 records = 0, dropped = 0;

    if (KeQueryTraceCategories() != 0) {
        KeStopTrace();
        DbgPrint("trace: stopped for the dump\n");
    }
    for (LONG n = 0; n < KeNumberProcessors; n++)
        if (KeQueryTraceProcessor((ULONG)n, &s)) {
            records += s.Recorded;
            dropped += s.Dropped;
        }
    ULONG64 bytes = KeDumpTrace(&crc);
    if (bytes == 0) {
        DbgPrint("trace: no second serial port to dump to (QEMU: a second -serial, as make trace gives it); "
                 "!trace stats shows the counts\n");
        return;
    }
    DbgPrint("trace: wrote %llu bytes to COM2 (crc32 %08x): %d processors, %llu records, %llu dropped\n", bytes,
             crc, KeNumberProcessors, records, dropped);
}

KD_COMMAND(trace, "!trace", TRACE_USAGE, "per-processor event trace: record, count, list, dump to COM2 (tools/trace)")
{
    CHAR word[16];

    if (!KdNextWord(&Args, word, sizeof(word))) {
        DbgPrint("usage: %s\n", TRACE_USAGE);
        return;
    }
    if (strcmp(word, "start") == 0) {
        trace_start(Args);
        return;
    }
    if (strcmp(word, "list") == 0) {
        KdTraceList(Args);
        return;
    }
    if (!KdNoMoreArguments(Args, TRACE_USAGE))
        return;
    if (strcmp(word, "stop") == 0) {
        KeStopTrace();
        DbgPrint("trace: stopped\n");
    } else if (strcmp(word, "stats") == 0) {
        trace_stats();
    } else if (strcmp(word, "dump") == 0) {
        trace_dump();
    } else {
        DbgPrint("'%s' is not a !trace command; usage: %s\n", word, TRACE_USAGE);
    }
}
