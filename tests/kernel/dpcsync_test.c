/*
 * dpcsync_test.c - KeFlushQueuedDpcs waits for every queued DPC on every
 * CPU, Low importance included; KeGenericCallDpc runs once per CPU at
 * DISPATCH_LEVEL with working barriers.
 */
#include <irqlab/dpc.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>

#define PER_CPU 3

static volatile ULONG KtRan[MAXIMUM_PROCESSORS][PER_CPU];
static KDPC KtDpc[MAXIMUM_PROCESSORS][PER_CPU];

/* Slow on purpose: a flush that did not wait would find these still queued. */
static VOID slow_routine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeStallExecutionProcessor(2000);
    __atomic_add_fetch((volatile ULONG *)Context, 1, __ATOMIC_RELEASE);
}

TEST(dpcsync, flush_waits_for_every_queue_low_importance_included)
{
    LONG cpus = KeNumberProcessors;
    KIRQL old = KeRaiseIrqlToDpcLevel(); /* nothing runs here until all are queued */

    for (LONG n = 0; n < cpus; n++) {
        for (int i = 0; i < PER_CPU; i++) {
            KtRan[n][i] = 0;
            KeInitializeDpc(&KtDpc[n][i], slow_routine, (PVOID)&KtRan[n][i]);
            KeSetImportanceDpc(&KtDpc[n][i], LowImportance); /* asks no other CPU to drain */
            KeSetTargetProcessorDpc(&KtDpc[n][i], (CCHAR)n);
            CHECK(KeInsertQueueDpc(&KtDpc[n][i], NULL, NULL));
        }
    }
    KeLowerIrql(old);
    KeFlushQueuedDpcs();
    for (LONG n = 0; n < cpus; n++)
        for (int i = 0; i < PER_CPU; i++) {
            CHECK_EQ(KtRan[n][i], 1);
            CHECK(KtDpc[n][i].DpcData == NULL);
        }
}

TEST(dpcsync, flush_with_nothing_queued_returns)
{
    KeFlushQueuedDpcs();
    for (LONG n = 0; n < KeNumberProcessors; n++)
        CHECK_EQ(KiProcessorBlock[n]->DpcData[0].DpcQueueDepth, 0);
}

static struct {
    volatile ULONG Calls;
    KIRQL Irql;
    ULONG Cpu;
    PKDPC Dpc;
    PVOID Context;
} KtCall[MAXIMUM_PROCESSORS];
static volatile ULONG KtSyncWinners, KtPastFirstBarrier;

static VOID call_routine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG n = KeGetCurrentProcessorNumber();

    KtCall[n].Calls++;
    KtCall[n].Irql = KeGetCurrentIrql();
    KtCall[n].Cpu = n;
    KtCall[n].Dpc = Dpc;
    KtCall[n].Context = Context;
    if (KeSignalCallDpcSynchronize(Arg2))
        __atomic_add_fetch(&KtSyncWinners, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&KtPastFirstBarrier, 1, __ATOMIC_RELAXED);
    if (KeSignalCallDpcSynchronize(Arg2)) /* the barrier is reusable */
        __atomic_add_fetch(&KtSyncWinners, 1, __ATOMIC_RELAXED);
    /* Everyone passed the first barrier before anyone left the second. */
    if (__atomic_load_n(&KtPastFirstBarrier, __ATOMIC_RELAXED) != (ULONG)KeNumberProcessors)
        KtCall[n].Calls += 100;
    KeSignalCallDpcDone(Arg1);
}

TEST(dpcsync, generic_call_runs_once_on_every_cpu_at_dispatch)
{
    LONG cpus = KeNumberProcessors;

    memset((void *)KtCall, 0, sizeof(KtCall));
    KtSyncWinners = KtPastFirstBarrier = 0;
    KeGenericCallDpc(call_routine, (PVOID)0x5a);
    CHECK_EQ(KtSyncWinners, 2); /* one per round */
    for (LONG n = 0; n < cpus; n++) {
        CHECK_EQ(KtCall[n].Calls, 1);
        CHECK_EQ(KtCall[n].Irql, DISPATCH_LEVEL);
        CHECK_EQ(KtCall[n].Cpu, n);
        CHECK(KtCall[n].Dpc == &KiProcessorBlock[n]->CallDpc);
        CHECK(KtCall[n].Context == (PVOID)0x5a);
    }
}
