/*
 * remote_bench.c - paths that cross CPUs or wait for the clock (make bench,
 * figures 4, 5, 6, 7 and 8): a High DPC targeted at another CPU, halted
 * and busy, beside a bare IPI to an empty handler there; every CPU
 * retiring DPCs at once; keyboard ISR -> DPC; timer lateness.  The
 * runner adds figure 8 (the longest DPC and DISPATCH_LEVEL stretch seen).
 */
#include <arch/apic.h>
#include <irqlab/bench.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/timer.h>
#include <irqlab/vectors.h>
#include "../../kernel/io/i8042prt.h"
#include "../../kernel/ke/ki.h"

#define ROUNDS 500
#define PROBE_VECTOR DEVICE_VECTOR(3, 13)

static KB_METRIC KbA, KbB, KbC;
static volatile ULONG64 KbArrived;

static ULONG64 net(ULONG64 T0, ULONG64 T1)
{
    ULONG64 d = T1 - T0;
    return T1 > T0 && d > KbOverhead() ? d - KbOverhead() : 0;
}

static VOID stamp_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KbArrived = KbStop();
}

static BOOLEAN stamp_isr(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    KbArrived = KbStop();
    return TRUE;
}

/* Waits (bounded) for the stamp a routine on another CPU leaves; 0 when it never came. */
static ULONG64 wait_stamp(VOID)
{
    for (ULONG i = 0; i < 100000 && KbArrived == 0; i++)
        arch_pause();
    return KbArrived;
}

static VOID target_dpc(KB_METRIC *Metric, KDPC *Dpc)
{
    for (ULONG i = 0; i < ROUNDS; i++) {
        KbArrived = 0;
        KeStallExecutionProcessor(200); /* let a halting target reach hlt again */
        ULONG64 t0 = KbStart();
        KeInsertQueueDpc(Dpc, NULL, NULL);
        KbRecord(Metric, net(t0, wait_stamp()));
    }
}

BENCH(remote, targeted_high_dpc)
{
    static KDPC dpc;
    static KINTERRUPT probe;

    if (KeNumberProcessors < 2) {
        KbReportValue("targeted DPC to another CPU", 0, "", "one CPU: not measured");
        return;
    }
    KeInitializeDpc(&dpc, stamp_dpc, NULL);
    KeSetImportanceDpc(&dpc, HighImportance);
    KeSetTargetProcessorDpc(&dpc, 1);
    KeInitializeInterrupt(&probe, stamp_isr, NULL, NULL, PROBE_VECTOR, 3, 3, Latched, FALSE);
    if (!KeConnectInterrupt(&probe))
        return;
    KbBegin(&KbA, "insert -> routine, CPU 1 halted");
    KbBegin(&KbB, "IPI -> empty handler, CPU 1 halted");
    KbBegin(&KbC, "insert -> routine, CPU 1 busy");
    static KB_METRIC busy_ipi;
    KbBegin(&busy_ipi, "IPI -> empty handler, CPU 1 busy");
    target_dpc(&KbA, &dpc);
    for (ULONG i = 0; i < ROUNDS; i++) {
        KbArrived = 0;
        KeStallExecutionProcessor(200);
        ULONG64 t0 = KbStart();
        apic_send_ipi(KiProcessorBlock[1]->InitialApicId, PROBE_VECTOR, APIC_DEST_SINGLE);
        KbRecord(&KbB, net(t0, wait_stamp()));
    }
    KiProcessorBlock[1]->Irqlab.IdlePoll = TRUE; /* busy: its idle loop spins instead of halting */
    target_dpc(&KbC, &dpc);
    for (ULONG i = 0; i < ROUNDS; i++) {
        KbArrived = 0;
        ULONG64 t0 = KbStart();
        apic_send_ipi(KiProcessorBlock[1]->InitialApicId, PROBE_VECTOR, APIC_DEST_SINGLE);
        KbRecord(&busy_ipi, net(t0, wait_stamp()));
    }
    KiProcessorBlock[1]->Irqlab.IdlePoll = FALSE;
    KeDisconnectInterrupt(&probe);
    KbReport(&KbA, &KbB, 130);
    KbReport(&KbC, &busy_ipi, 130);
}

static volatile LONG KbAllLeft;

static VOID empty_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
}

static KDPC KbDriver[MAXIMUM_PROCESSORS], KbBatch[MAXIMUM_PROCESSORS][256];
static ULONG KbRounds[MAXIMUM_PROCESSORS];

/* Each run queues 256 empty DPCs here and itself behind them: 16 batches per CPU. */
static VOID driver(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG n = KeGetCurrentProcessorNumber();

    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    if (KbRounds[n]++ == 16) {
        __atomic_sub_fetch(&KbAllLeft, 1, __ATOMIC_RELEASE);
        return;
    }
    for (ULONG i = 0; i < 256; i++)
        KeInsertQueueDpc(&KbBatch[n][i], NULL, NULL);
    KeInsertQueueDpc(Dpc, NULL, NULL);
}

static VOID start_driver(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG n = KeGetCurrentProcessorNumber();

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg2);
    KbRounds[n] = 0;
    for (ULONG i = 0; i < 256; i++)
        KeInitializeDpc(&KbBatch[n][i], empty_dpc, NULL);
    KeInitializeDpc(&KbDriver[n], driver, NULL);
    KeInsertQueueDpc(&KbDriver[n], NULL, NULL);
    KeSignalCallDpcDone(Arg1);
}

BENCH(remote, dpc_throughput_all_cpus)
{
    ULONG64 hz = KeQueryTscFrequency(NULL);

    KbAllLeft = KeNumberProcessors;
    ULONG64 t0 = KbStart();
    KeGenericCallDpc(start_driver, NULL);
    while (__atomic_load_n(&KbAllLeft, __ATOMIC_ACQUIRE) != 0)
        arch_pause();
    ULONG64 cycles = net(t0, KbStop());
    ULONG64 dpcs = (ULONG64)KeNumberProcessors * 16 * 257;
    KbReportValue("DPCs per second, all CPUs at once", cycles ? dpcs * hz / cycles : 0, "DPC/s",
                  "batches of 256 per CPU, empty routine");
}

static ULONG64 KbDueTsc;
static KB_METRIC KbLate;

static VOID late_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    ULONG64 now = KbStop();
    KbRecord(&KbLate, now > KbDueTsc ? now - KbDueTsc : 0);
    KbArrived = now;
}

BENCH(timer, lateness)
{
    static KTIMER timer;
    static KDPC dpc;
    ULONG64 hz = KeQueryTscFrequency(NULL), tick_us = KeQueryTimeIncrement() / 10;
    CHAR name[64];

    RtlFormat(name, sizeof(name), "timer due -> DPC start (tick %llu us)", tick_us);
    KbBegin(&KbLate, name);
    KeInitializeTimer(&timer);
    KeInitializeDpc(&dpc, late_dpc, NULL);
    for (ULONG i = 0; i < 200; i++) {
        ULONG64 due_us = 1000 + (i * 397) % 3000; /* due times that fall anywhere between ticks */
        LARGE_INTEGER due = { .QuadPart = -(LONGLONG)due_us * 10 };
        KbArrived = 0;
        KeStallExecutionProcessor((ULONG)((i * 7919) % tick_us)); /* a random phase against the tick */
        KbDueTsc = KbStart() + due_us * hz / 1000000;
        KeSetTimer(&timer, due, &dpc);
        for (ULONG w = 0; w < 200 && KbArrived == 0; w++)
            KeStallExecutionProcessor(1000);
    }
    KbReport(&KbLate, NULL, 0);
}

BENCH(keyboard, isr_to_dpc)
{
    I8042_STATISTICS s;
    ULONG64 hz = KeQueryTscFrequency(NULL);

    I8042QueryStatistics(&s);
    if (!s.Present) {
        KbReportValue("keyboard ISR -> DPC", 0, "", "no keyboard");
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
    KbBegin(&KbA, "keyboard ISR entry -> DPC start");
    for (ULONG i = 0; i < s.RecentCount && i < I8042_RECENT; i++)
        KbRecord(&KbA, s.RecentLatency[i]);
    KbReport(&KbA, NULL, 0);
    KbReportValue("keyboard DPCs measured", s.LatencyCount - before, "", "");
    KbReportValue("keyboard ISR -> DPC, microseconds (p50)", KbA.Count ? KbA.Samples[KbA.Count / 2] * 1000000 / hz : 0,
                  "us", "Windows healthy: 1.2-2.7 us (LatencyMon)");
}
