/*
 * bench.h - irqlab's in-kernel benchmarks (`make bench`, docs/performance.md).
 *
 *   BENCH(dpc, insert_at_dispatch) { ... KbRecord(&m, cycles) ... KbReport(&m, &baseline, 3.0); }
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
    static VOID KbRoutine_##suite##_##name(VOID);                                                  \
    static const KBENCH KbEntry_##suite##_##name __attribute__((used, section(".kbench"), aligned(8))) = \
        { #suite, #name, KbRoutine_##suite##_##name };                                             \
    static VOID KbRoutine_##suite##_##name(VOID)

#define KB_MAX_SAMPLES 4096

/* Samples of one measured thing, in TSC cycles. */
typedef struct _KB_METRIC {
    PCSTR Name;
    ULONG Count;
    ULONG64 Samples[KB_MAX_SAMPLES];
} KB_METRIC;

/* TSC reads fenced: lfence;rdtsc before, and lfence;rdtsc;lfence after (perf-anchors.md says
 * rdtscp;lfence, but QEMU's default CPU model has no RDTSCP: the lfence before does its job). */
static inline ULONG64 KbStart(VOID)
{
    ULONG lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return (ULONG64)hi << 32 | lo;
}

static inline ULONG64 KbStop(VOID)
{
    ULONG lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi)::"memory");
    return (ULONG64)hi << 32 | lo;
}

VOID KbBegin(KB_METRIC *Metric, PCSTR Name);
/* Adds a sample (cycles); samples past KB_MAX_SAMPLES are dropped. */
VOID KbRecord(KB_METRIC *Metric, ULONG64 Cycles);
/* The empty KbStart/KbStop pair measured at boot: subtract it from a fenced interval. */
ULONG64 KbOverhead(VOID);
/*
 * Prints the row: min / p50 / p99 / max in cycles and ns, the baseline's p50
 * and the ratio of medians with its goal (Goal 0: no goal, Baseline NULL: none).
 */
VOID KbReport(KB_METRIC *Metric, KB_METRIC *Baseline, ULONG GoalPercent);
/* A free-form figure (a count, a rate) for the table and the JSON. */
VOID KbReportValue(PCSTR Name, ULONG64 Value, PCSTR Unit, PCSTR Note);

#endif
