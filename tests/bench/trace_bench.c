/*
 * trace_bench.c - what tracing costs (make bench, issue 19's goal: <= 1.10x with the default
 * categories).  The DPC path (insert -> routine on this CPU) and the keyboard's ISR -> DPC
 * latency, each measured with tracing off and on in the same boot, as a ratio of medians.
 */
#include <arch/arch.h>
#include <irqlab/bench.h>
#include <irqlab/dpc.h>
#include <irqlab/hal.h>
#include <irqlab/kbd.h>
#include <irqlab/trace.h>

#define BATCH   200 /* rounds per trace session: the buffer never fills, nothing is dropped */
#define BATCHES 10
#define KEY_SAMPLES 100

static BENCH_METRIC TraceOff, TraceOn;
static volatile ULONG64 TraceArrived;

static VOID arrive(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    TraceArrived = BenchStop();
}

static VOID insert_rounds(PKDPC Dpc, BENCH_METRIC *Metric)
{
    for (ULONG i = 0; i < BATCH; i++) {
        ULONG64 t0 = BenchStart();
        KeInsertQueueDpc(Dpc, NULL, NULL); /* Medium at PASSIVE: the 0x2F fires before it returns */
        ULONG64 d = TraceArrived - t0;
        BenchRecord(Metric, d > BenchOverhead() ? d - BenchOverhead() : 0);
    }
}

/* Alternating sessions, so that a host hiccup falls on both sides alike. */
BENCH(trace, dpc_path_off_vs_on)
{
    static KDPC dpc;
    ULONG was = KeQueryTraceCategories();

    KeInitializeDpc(&dpc, arrive, NULL);
    BenchBegin(&TraceOff, "insert -> routine, trace off");
    BenchBegin(&TraceOn, "insert -> routine, trace default");
    for (ULONG b = 0; b < BATCHES; b++) {
        KeStopTrace();
        insert_rounds(&dpc, &TraceOff);
        if (!KeStartTrace(KTRACE_CAT_DEFAULT)) {
            BenchReportValue("trace overhead", 0, "", "no trace buffers: not measured");
            return;
        }
        insert_rounds(&dpc, &TraceOn);
    }
    KeStopTrace();
    BenchReport(&TraceOn, &TraceOff, 110);
    if (was)
        KeStartTrace(was);
}

/* Waits for KEY_SAMPLES new keyboard latencies and records them (the ring keeps the last 256). */
static BOOLEAN key_samples(BENCH_METRIC *Metric, PCSTR Mode)
{
    static I8042_STATISTICS s; /* large: not on the stack */

    I8042QueryStatistics(&s);
    ULONG64 before = s.LatencyCount;
    DbgPrint("# bench: waiting for keys (trace %s)\n", Mode);
    for (ULONG i = 0; i < 30000 && s.LatencyCount - before < KEY_SAMPLES; i++) {
        KeStallExecutionProcessor(1000);
        I8042QueryStatistics(&s);
    }
    ULONG64 after = s.LatencyCount;
    if (after - before < KEY_SAMPLES)
        return FALSE;
    for (ULONG64 k = after - KEY_SAMPLES; k < after; k++)
        BenchRecord(Metric, s.RecentLatency[k % I8042_RECENT]);
    return TRUE;
}

BENCH(trace, keyboard_isr_to_dpc_off_vs_on)
{
    static I8042_STATISTICS s;

    I8042QueryStatistics(&s);
    if (!s.Present) {
        BenchReportValue("keyboard ISR -> DPC, trace on/off", 0, "", "no keyboard");
        return;
    }
    BenchBegin(&TraceOff, "keyboard ISR -> DPC, trace off");
    BenchBegin(&TraceOn, "keyboard ISR -> DPC, trace default");
    KeStopTrace();
    BOOLEAN off = key_samples(&TraceOff, "off");
    KeStartTrace(KTRACE_CAT_DEFAULT);
    BOOLEAN on = key_samples(&TraceOn, "on");
    KeStopTrace();
    if (!off || !on) {
        BenchReportValue("keyboard ISR -> DPC, trace on/off", 0, "", "too few keys arrived");
        return;
    }
    BenchReport(&TraceOn, &TraceOff, 110);
}

/* One record's cost, beside the two instructions every record executes that TCG emulates in a helper. */
BENCH(trace, one_record)
{
    static BENCH_METRIC record, cr8, tsc;

    BenchBegin(&record, "KeTraceMark, recording (per record)");
    BenchBegin(&cr8, "mov cr8 read, bare");
    BenchBegin(&tsc, "lfence; rdtsc, bare");
    for (ULONG b = 0; b < BATCHES; b++) {
        if (!KeStartTrace(KTRACE_CAT_BUGCHECK)) /* records only the marks */
            return;
        for (ULONG i = 0; i < BATCH; i++) {
            ULONG64 t0 = BenchStart();
            KeTraceMark(i);
            ULONG64 d = BenchStop() - t0;
            BenchRecord(&record, d > BenchOverhead() ? d - BenchOverhead() : 0);
            t0 = BenchStart();
            (void)arch_read_cr8();
            d = BenchStop() - t0;
            BenchRecord(&cr8, d > BenchOverhead() ? d - BenchOverhead() : 0);
            t0 = BenchStart();
            (void)arch_rdtsc();
            d = BenchStop() - t0;
            BenchRecord(&tsc, d > BenchOverhead() ? d - BenchOverhead() : 0);
        }
    }
    KeStopTrace();
    BenchReport(&record, NULL, 0);
    BenchReport(&cr8, NULL, 0);
    BenchReport(&tsc, NULL, 0);
}
