/*
 * remote_bench.c - paths that cross CPUs or wait for the clock (make bench,
 * figures 4, 5, 6, 7 and 8): a High DPC targeted at another CPU, halted
 * and busy, beside a bare IPI to an empty handler there; every CPU
 * retiring DPCs at once against one alone (and compute-only drivers, the
 * host's own scaling); keyboard ISR -> DPC; timer lateness.  The
 * runner adds figure 8 (the longest DPC and DISPATCH_LEVEL stretch seen).
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
#include <irqlab/bench.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/timer.h>
#include <irqlab/vectors.h>
#include <irqlab/kbd.h>
#include <irqlab/kd.h>
#include <irqlab/kequery.h>

#define ROUNDS 500
#define PROBE_VECTOR DEVICE_VECTOR(3, 13)

static BENCH_METRIC BenchA, BenchB, BenchC;

static VOID stamp_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    BenchArrived = BenchStop();
}

/* Waits (bounded) for the stamp a routine on another CPU leaves; 0 when it never came. */
static ULONG64 wait_stamp(VOID)
{
    for (ULONG i = 0; i < 100000 && BenchArrived == 0; i++)
        arch_pause();
    return BenchArrived;
}

static VOID target_dpc(BENCH_METRIC *Metric, KDPC *Dpc)
{
    for (ULONG i = 0; i < ROUNDS; i++) {
        BenchArrived = 0;
        KeStallExecutionProcessor(200); /* let a halting target reach hlt again */
        ULONG64 t0 = BenchStart();
        KeInsertQueueDpc(Dpc, NULL, NULL);
        BenchRecord(Metric, BenchNet(t0, wait_stamp()));
    }
}

BENCH(remote, targeted_high_dpc)
{
    static KDPC dpc;
    static KINTERRUPT probe;

    if (KeNumberProcessors < 2) {
        BenchReportValue("targeted DPC to another CPU", 0, "", "one CPU: not measured");
        return;
    }
    KeInitializeDpc(&dpc, stamp_dpc, NULL);
    KeSetImportanceDpc(&dpc, HighImportance);
    KeSetTargetProcessorDpc(&dpc, 1);
    KeInitializeInterrupt(&probe, BenchStampIsr, NULL, NULL, PROBE_VECTOR, 3, 3, Latched, FALSE);
    if (!KeConnectInterrupt(&probe))
        return;
    BenchBegin(&BenchA, "insert -> routine, CPU 1 halted");
    BenchBegin(&BenchB, "IPI -> empty handler, CPU 1 halted");
    BenchBegin(&BenchC, "insert -> routine, CPU 1 busy");
    static BENCH_METRIC busy_ipi;
    BenchBegin(&busy_ipi, "IPI -> empty handler, CPU 1 busy");
    target_dpc(&BenchA, &dpc);
    for (ULONG i = 0; i < ROUNDS; i++) {
        BenchArrived = 0;
        KeStallExecutionProcessor(200);
        ULONG64 t0 = BenchStart();
        HalSendIpi(KiProcessorBlock[1]->InitialApicId, PROBE_VECTOR);
        BenchRecord(&BenchB, BenchNet(t0, wait_stamp()));
    }
    KiProcessorBlock[1]->Irqlab.IdlePoll = TRUE; /* busy: its idle loop spins instead of halting */
    target_dpc(&BenchC, &dpc);
    for (ULONG i = 0; i < ROUNDS; i++) {
        BenchArrived = 0;
        ULONG64 t0 = BenchStart();
        HalSendIpi(KiProcessorBlock[1]->InitialApicId, PROBE_VECTOR);
        BenchRecord(&busy_ipi, BenchNet(t0, wait_stamp()));
    }
    KiProcessorBlock[1]->Irqlab.IdlePoll = FALSE;
    KeDisconnectInterrupt(&probe);
    BenchReport(&BenchA, &BenchB, 130);
    BenchReport(&BenchC, &busy_ipi, 130);
}

static volatile LONG BenchAllLeft;

static VOID empty_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
}

/* Per processor, each on cache lines of its own: a processor's driver touches nothing another's does. */
static struct {
    KDPC Driver;
    KDPC Batch[256];
    ULONG Rounds;
} __attribute__((aligned(64))) BenchCpu[MAXIMUM_PROCESSORS];

/* Each run queues 256 empty DPCs here and itself behind them: 16 batches per CPU.  With a Context
 * it computes instead, touching nothing shared: how well the host runs the vCPUs side by side. */
static VOID driver(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG n = KeGetCurrentProcessorNumber();
    volatile ULONG64 sum = 0;

    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    if (BenchCpu[n].Rounds++ == 16) {
        __atomic_sub_fetch(&BenchAllLeft, 1, __ATOMIC_RELEASE);
        return;
    }
    for (ULONG i = 0; Context != NULL && i < 100000; i++)
        sum += i;
    for (ULONG i = 0; Context == NULL && i < 256; i++)
        KeInsertQueueDpc(&BenchCpu[n].Batch[i], NULL, NULL);
    KeInsertQueueDpc(Dpc, NULL, NULL);
}

/* DPCs per second with the drivers of processors 0 to Cpus - 1 running at once (Compute: rounds). */
static ULONG64 throughput(ULONG Cpus, BOOLEAN Compute)
{
    for (ULONG n = 0; n < Cpus; n++) {
        BenchCpu[n].Rounds = 0;
        for (ULONG i = 0; i < 256; i++)
            KeInitializeDpc(&BenchCpu[n].Batch[i], empty_dpc, NULL);
        KeInitializeDpc(&BenchCpu[n].Driver, driver, Compute ? &BenchCpu[n] : NULL);
        KeSetTargetProcessorDpc(&BenchCpu[n].Driver, (CCHAR)n);
        KeSetImportanceDpc(&BenchCpu[n].Driver, HighImportance); /* starts there at once, halted or not */
    }
    BenchAllLeft = (LONG)Cpus;
    KIRQL old = KeRaiseIrqlToDpcLevel(); /* this CPU's driver waits until every one is queued */
    ULONG64 t0 = BenchStart();
    for (ULONG n = 0; n < Cpus; n++)
        KeInsertQueueDpc(&BenchCpu[n].Driver, NULL, NULL);
    KeLowerIrql(old);
    while (__atomic_load_n(&BenchAllLeft, __ATOMIC_ACQUIRE) != 0)
        arch_pause();
    ULONG64 cycles = BenchNet(t0, BenchStop());
    return cycles ? (ULONG64)Cpus * 16 * 257 * KeQueryTscFrequency(NULL) / cycles : 0;
}

static ULONG64 median_of_5(ULONG64 *V)
{
    for (ULONG i = 1; i < 5; i++)
        for (ULONG j = i; j > 0 && V[j - 1] > V[j]; j--) {
            ULONG64 t = V[j];
            V[j] = V[j - 1];
            V[j - 1] = t;
        }
    return V[2];
}

/* Median over five runs of all processors' rate over one processor's, after a warm-up run (TCG
 * translates the path on its first run); *One gets the one-processor median. */
static ULONG64 scaling_x100(BOOLEAN Compute, ULONG64 *One)
{
    ULONG64 ones[5], alls[5];

    throughput((ULONG)KeNumberProcessors, Compute);
    for (ULONG i = 0; i < 5; i++) {
        ones[i] = throughput(1, Compute);
        alls[i] = throughput((ULONG)KeNumberProcessors, Compute);
    }
    *One = median_of_5(ones);
    return *One ? median_of_5(alls) * 100 / *One : 0;
}

/* The same drivers on one processor and on all; beside them the same with a compute-only driver,
 * the host's own scaling (the bare primitive: nothing shared, no CR8 write). */
BENCH(remote, dpc_throughput_all_cpus)
{
    ULONG64 one, ignored, dpcs = scaling_x100(FALSE, &one), compute = scaling_x100(TRUE, &ignored);
    CHAR note[96];

    BenchReportValue("DPCs per second, one CPU (insert + retire)", one, "DPC/s", "batches of 256, empty routine");
    RtlFormat(note, sizeof(note), "%d CPUs: %llu.%02llux one CPU's rate (compute-only DPCs: %llu.%02llux)",
              KeNumberProcessors, dpcs / 100, dpcs % 100, compute / 100, compute % 100);
    BenchReportValue("DPCs per second, all CPUs at once", one * dpcs / 100, "DPC/s", note);
}

static ULONG64 BenchDueTsc;
static BENCH_METRIC BenchLate;

static VOID late_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    ULONG64 now = BenchStop();
    BenchRecord(&BenchLate, now > BenchDueTsc ? now - BenchDueTsc : 0);
    BenchArrived = now;
}

BENCH(timer, lateness)
{
    static KTIMER timer;
    static KDPC dpc;
    ULONG64 hz = KeQueryTscFrequency(NULL), tick_us = KeQueryTimeIncrement() / 10;
    CHAR name[64];

    RtlFormat(name, sizeof(name), "timer due -> DPC start (tick %llu us)", tick_us);
    BenchBegin(&BenchLate, name);
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, late_dpc, NULL);
    for (ULONG i = 0; i < 200; i++) {
        ULONG64 due_us = 1000 + (i * 397) % 3000; /* due times that fall anywhere between ticks */
        LARGE_INTEGER due = { .QuadPart = -(LONGLONG)due_us * 10 };
        BenchArrived = 0;
        KeStallExecutionProcessor((ULONG)((i * 7919) % tick_us)); /* a random phase against the tick */
        BenchDueTsc = BenchStart() + due_us * hz / 1000000;
        KeSetTimer(&timer, due, &dpc);
        for (ULONG w = 0; w < 200 && BenchArrived == 0; w++)
            KeStallExecutionProcessor(1000);
    }
    BenchReport(&BenchLate, NULL, 0);
}

/* Until no key has come for two seconds (at most 30 s): the harness is done typing. */
static VOID wait_for_quiet_keyboard(VOID)
{
    I8042_STATISTICS s;
    ULONG quiet = 0;

    I8042QueryStatistics(&s);
    for (ULONG i = 0; i < 30000 && quiet < 2000; i++) {
        ULONG64 before = s.IsrRuns;
        KeStallExecutionProcessor(1000);
        I8042QueryStatistics(&s);
        quiet = s.IsrRuns == before ? quiet + 1 : 0;
    }
}

/* Issue 17: a key's whole path, from its ISR through the DPC, IoCompleteRequest and the reader's
 * completion APC to the bytes in the console's reader thread (kernel/kd/kbdreader.c), for the keys
 * just typed; beside a self-IPI to an empty handler, the bare interrupt. */
static VOID key_to_reader(VOID)
{
    static KINTERRUPT probe;
    static ULONG64 samples[256];
    ULONG n = KdQueryKeyLatency(samples, ARRAYSIZE(samples));

    KeInitializeInterrupt(&probe, BenchStampIsr, NULL, NULL, PROBE_VECTOR, 3, 3, Latched, FALSE);
    if (n == 0 || !KeConnectInterrupt(&probe)) {
        BenchReportValue("key ISR -> reader thread", 0, "", n ? "vector taken: not measured" : "no keys read");
        return;
    }
    BenchBegin(&BenchB, "key ISR -> bytes in the reader thread (DPC, IRP, APC)");
    for (ULONG i = 0; i < n; i++)
        BenchRecord(&BenchB, samples[i]);
    BenchBegin(&BenchC, "self-IPI -> empty handler");
    for (ULONG i = 0; i < ROUNDS; i++) {
        BenchArrived = 0;
        ULONG64 t0 = BenchStart();
        HalSendSelfIpi(PROBE_VECTOR);
        while (BenchArrived == 0)
            arch_pause();
        BenchRecord(&BenchC, BenchNet(t0, BenchArrived));
    }
    KeDisconnectInterrupt(&probe);
    BenchReport(&BenchB, &BenchC, 0);
}

BENCH(keyboard, isr_to_dpc)
{
    I8042_STATISTICS s;
    ULONG64 hz = KeQueryTscFrequency(NULL);

    I8042QueryStatistics(&s);
    if (!s.Present) {
        BenchReportValue("keyboard ISR -> DPC", 0, "", "no keyboard");
        return;
    }
    ULONG64 before = s.LatencyCount;
    DbgPrint("# bench: waiting for keys (the harness types them through QMP)\n");
    for (ULONG i = 0; i < 30000; i++) { /* at most 30 s */
        I8042QueryStatistics(&s);
        if (s.LatencyCount - before >= 200)
            break;
        KeStallExecutionProcessor(1000);
    }
    wait_for_quiet_keyboard(); /* every key typed has been taken before the next benchmark starts */
    BenchBegin(&BenchA, "keyboard ISR entry -> DPC start");
    for (ULONG i = 0; i < s.RecentCount && i < I8042_RECENT; i++)
        BenchRecord(&BenchA, s.RecentLatency[i]);
    BenchReport(&BenchA, NULL, 0);
    BenchReportValue("keyboard DPCs measured", s.LatencyCount - before, "", "");
    BenchReportValue("keyboard ISR -> DPC, microseconds (p50)", BenchA.Count ? BenchA.Samples[BenchA.Count / 2] * 1000000 / hz : 0,
                  "us", "Windows healthy: 1.2-2.7 us (LatencyMon)");
    key_to_reader();
}
