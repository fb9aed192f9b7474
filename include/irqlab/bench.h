/*
 * bench.h - irqlab's in-kernel benchmarks (`make bench`, docs/performance.md).
 *
 *   BENCH(dpc, insert_at_dispatch) { ... BenchRecord(&m, cycles) ... BenchReport(&m, &baseline, 3.0); }
 *
 * BENCH registers a routine in the .kbench section; `bench=all` (or a glob
 * on suite.name) on the command line runs them at PASSIVE_LEVEL on CPU 0
 * and exits.  Every figure is printed beside the bare primitive it is built
 * on, measured in the same boot, and as a ratio of medians: under TCG
 * absolute times mean little, ratios survive (docs/performance.md).
 * Each row is also printed as one JSON line (`# bench-json: {...}`), which the
 * harness gathers into build/bench.json.
 */
#ifndef IRQLAB_BENCH_H
#define IRQLAB_BENCH_H

#include <irqlab/ke.h>

typedef struct _KBENCH {
    PCSTR Suite;
    PCSTR Name;
    VOID (*Routine)(VOID);
} KBENCH;

#define BENCH(suite, name)                                                                          \
    static VOID BenchRoutine_##suite##_##name(VOID);                                                  \
    static const KBENCH BenchEntry_##suite##_##name __attribute__((used, section(".kbench"), aligned(8))) = \
        { #suite, #name, BenchRoutine_##suite##_##name };                                             \
    static VOID BenchRoutine_##suite##_##name(VOID)

#define BENCH_MAX_SAMPLES 4096

/* Samples of one measured thing, in TSC cycles. */
typedef struct _KB_METRIC {
    PCSTR Name;
    ULONG Count;
    ULONG64 Samples[BENCH_MAX_SAMPLES];
} BENCH_METRIC;

/* TSC reads fenced: lfence;rdtsc before, and lfence;rdtsc;lfence after (perf-anchors.md says
 * rdtscp;lfence, but QEMU's default CPU model has no RDTSCP: the lfence before does its job). */
static inline ULONG64 BenchStart(VOID)
{
    ULONG lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (ULONG64)hi << 32 | lo;
}

static inline ULONG64 BenchStop(VOID)
{
    ULONG lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
    return (ULONG64)hi << 32 | lo;
}

VOID BenchBegin(BENCH_METRIC *Metric, PCSTR Name);
/* Adds a sample (cycles); samples past BENCH_MAX_SAMPLES are dropped. */
VOID BenchRecord(BENCH_METRIC *Metric, ULONG64 Cycles);
/* The empty BenchStart/BenchStop pair measured at boot: subtract it from a fenced interval. */
ULONG64 BenchOverhead(VOID);
/* A fenced interval T0..T1 less that overhead; 0 when it is not longer than the overhead. */
static inline ULONG64 BenchNet(ULONG64 T0, ULONG64 T1)
{
    ULONG64 d = T1 - T0;
    return T1 > T0 && d > BenchOverhead() ? d - BenchOverhead() : 0;
}
/*
 * Prints the row: min / p50 / p99 / max in cycles and ns, the baseline's p50
 * and the ratio of medians with its goal (Goal 0: no goal, Baseline NULL: none).
 */
VOID BenchReport(BENCH_METRIC *Metric, BENCH_METRIC *Baseline, ULONG GoalPercent);
/* The bare baselines' empty handler: a connected KINTERRUPT's ISR that leaves BenchStop() in
 * BenchArrived (the caller zeroes it, sends the interrupt and waits for it to change). */
struct _KINTERRUPT;
extern volatile ULONG64 BenchArrived;
BOOLEAN BenchStampIsr(struct _KINTERRUPT *Interrupt, PVOID Context);
/* A free-form figure (a count, a rate) for the table and the JSON. */
VOID BenchReportValue(PCSTR Name, ULONG64 Value, PCSTR Unit, PCSTR Note);

/* The runner (kernel/kt/bench.c), for the boot sequence: bench= on the command line. */
BOOLEAN BenchRequested(VOID);
DECLSPEC_NORETURN VOID BenchRun(VOID);

#endif
