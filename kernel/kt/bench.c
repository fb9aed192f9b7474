/*
 * bench.c - runs the benchmarks the command line selects (bench=...),
 * measures the fencing overhead once, sorts samples and prints each row as
 * a table line and as a JSON line (include/irqlab/bench.h).
 */
#include <arch/arch.h>
#include <irqlab/bench.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/kequery.h>

extern const KBENCH __start_kbench[], __stop_kbench[];

static ULONG64 BenchEmptyPair;
static PCSTR BenchSuite, BenchBench;

VOID BenchBegin(BENCH_METRIC *Metric, PCSTR Name)
{
    Metric->Name = Name;
    Metric->Count = 0;
}

VOID BenchRecord(BENCH_METRIC *Metric, ULONG64 Cycles)
{
    if (Metric->Count < BENCH_MAX_SAMPLES)
        Metric->Samples[Metric->Count++] = Cycles;
}

volatile ULONG64 BenchArrived;

BOOLEAN BenchStampIsr(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    BenchArrived = BenchStop();
    return TRUE;
}

ULONG64 BenchOverhead(VOID)
{
    return BenchEmptyPair;
}

/* Shell sort: a few thousand samples, no recursion. */
static VOID sort(ULONG64 *A, ULONG N)
{
    for (ULONG gap = N / 2; gap; gap /= 2)
        for (ULONG i = gap; i < N; i++)
            for (ULONG j = i; j >= gap && A[j - gap] > A[j]; j -= gap) {
                ULONG64 t = A[j];
                A[j] = A[j - gap];
                A[j - gap] = t;
            }
}

static ULONG64 percentile(BENCH_METRIC *M, ULONG Percent)
{
    return M->Count ? M->Samples[(ULONG64)(M->Count - 1) * Percent / 100] : 0;
}

static ULONG64 to_ns(ULONG64 Cycles)
{
    ULONG64 hz = KeQueryTscFrequency(NULL);
    return hz ? Cycles * 1000000000ull / hz : 0;
}

VOID BenchReport(BENCH_METRIC *Metric, BENCH_METRIC *Baseline, ULONG GoalPercent)
{
    ULONG64 base = 0, ratio = 0;

    sort(Metric->Samples, Metric->Count);
    ULONG64 min = percentile(Metric, 0), p50 = percentile(Metric, 50), p99 = percentile(Metric, 99),
            max = percentile(Metric, 100);
    if (Baseline) {
        sort(Baseline->Samples, Baseline->Count);
        base = percentile(Baseline, 50);
        ratio = base ? p50 * 100 / base : 0;
    }
    DbgPrint("%-34s %6u %8llu %8llu %8llu %9llu %8llu ns", Metric->Name, Metric->Count, min, p50, p99, max,
             to_ns(p50));
    if (Baseline)
        DbgPrint("  %-26s %8llu  %3llu.%02llux%s", Baseline->Name, base, ratio / 100, ratio % 100,
                 !GoalPercent ? "" : ratio <= GoalPercent ? "  (goal met)" : "  (goal missed)");
    DbgPrint("\n");
    DbgPrint("# bench-json: {\"bench\":\"%s.%s\",\"metric\":\"%s\",\"samples\":%u,\"min\":%llu,\"p50\":%llu,"
             "\"p99\":%llu,\"max\":%llu,\"p50_ns\":%llu,\"baseline\":\"%s\",\"baseline_p50\":%llu,"
             "\"ratio_percent\":%llu,\"goal_percent\":%u}\n", BenchSuite, BenchBench, Metric->Name, Metric->Count, min,
             p50, p99, max, to_ns(p50), Baseline ? Baseline->Name : "", base, ratio, GoalPercent);
}

VOID BenchReportValue(PCSTR Name, ULONG64 Value, PCSTR Unit, PCSTR Note)
{
    DbgPrint("%-34s %llu %s  %s\n", Name, Value, Unit, Note);
    DbgPrint("# bench-json: {\"bench\":\"%s.%s\",\"metric\":\"%s\",\"value\":%llu,\"unit\":\"%s\"}\n", BenchSuite,
             BenchBench, Name, Value, Unit);
}

static BOOLEAN selected(const KBENCH *B, PCSTR Selection)
{
    char full[96];

    RtlFormat(full, sizeof(full), "%s.%s", B->Suite, B->Name);
    return strcmp(Selection, "all") == 0 || strcmp(Selection, B->Suite) == 0 || RtlMatchGlob(Selection, full);
}

static VOID measure_overhead(VOID)
{
    static BENCH_METRIC empty;

    BenchBegin(&empty, "empty pair");
    for (ULONG i = 0; i < 1000; i++) {
        ULONG64 t0 = BenchStart();
        BenchRecord(&empty, BenchStop() - t0);
    }
    sort(empty.Samples, empty.Count);
    BenchEmptyPair = percentile(&empty, 50);
}

/* Figure 8: what the DPC watchdog would have seen during the whole run, on any CPU. */
static VOID report_watchdog_figures(VOID)
{
    ULONG64 hz = KeQueryTscFrequency(NULL), longest = 0, stretch = 0;
    PVOID routine = NULL;
    char symbol[96];

    BenchSuite = "watchdog";
    BenchBench = "run";
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        KPRCB_IRQLAB *x = &KiProcessorBlock[n]->Irqlab;
        if (x->LongestDpcCycles > longest)
            longest = x->LongestDpcCycles, routine = x->LongestDpcRoutine;
        if (x->LongestDispatchStretch > stretch)
            stretch = x->LongestDispatchStretch;
    }
    KiFormatSymbol((ULONG_PTR)routine, symbol, sizeof(symbol));
    BenchReportValue("longest single DPC (us)", hz ? longest * 1000000 / hz : 0, "us",
                  "Microsoft's guidance: under 100 us");
    DbgPrint("%-34s %s\n", "  ... that DPC", symbol);
    BenchReportValue("longest stretch at >= DISPATCH (ms)", stretch * (KeQueryTimeIncrement() / 10000), "ms",
                  "tick-granular, as the cumulative watchdog counts");
}

KE_COMMAND_LINE_OPTION(bench, "bench", "bench=all|<suite>|<glob>: run benchmarks, print the table and exit (make bench)");

BOOLEAN BenchRequested(VOID)
{
    return KeGetCommandLineValue("bench") != NULL;
}

VOID BenchRun(VOID)
{
    PCSTR selection = KeGetCommandLineValue("bench"), source;
    ULONG64 hz = KeQueryTscFrequency(&source);
    ULONG ran = 0;

    measure_overhead();
    DbgPrint("# bench: TSC %llu.%03llu MHz (%s), %d CPUs, empty rdtsc pair %llu cycles (subtracted), %s\n",
             hz / 1000000, hz / 1000 % 1000, source, KeNumberProcessors, BenchEmptyPair,
             DBG ? "DBG=1 build (ASSERTs on)" : "DBG=0 build (ASSERTs off)");
    DbgPrint("%-34s %6s %8s %8s %8s %9s %11s  %-26s %8s  %s\n", "metric", "n", "min", "p50", "p99", "max",
             "p50", "baseline", "base p50", "ratio");
    for (const KBENCH *b = __start_kbench; b < __stop_kbench; b++) {
        if (!selected(b, selection))
            continue;
        BenchSuite = b->Suite;
        BenchBench = b->Name;
        b->Routine();
        ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
        ran++;
    }
    report_watchdog_figures();
    DbgPrint("# irqlab: benchmarks done: %u run\n", ran);
    arch_exit_emulator(ran ? ARCH_EXIT_SUCCESS : ARCH_EXIT_TEST_FAILED);
}
