/*
 * dpcsync_test.c - KeFlushQueuedDpcs waits for every queued DPC on every
 * CPU, Low importance included; KeGenericCallDpc runs once per CPU at
 * DISPATCH_LEVEL with working barriers.
 */
#include <irqlab/dpc.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/timer.h>

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

/* NT's KeGenericCallDpc calls the caller's share itself (no DPC queued here) and allows APC_LEVEL. */
TEST(dpcsync, generic_call_runs_this_cpus_share_directly_even_from_apc_level)
{
    PKPRCB self = KeGetCurrentPrcb();
    ULONG before = self->DpcData[0].DpcCount;
    KIRQL old;

    memset((void *)KtCall, 0, sizeof(KtCall));
    KeRaiseIrql(APC_LEVEL, &old);
    KeGenericCallDpc(call_routine, (PVOID)0x5a);
    KeLowerIrql(old);
    CHECK_EQ(KtCall[self->Number].Calls, 1);
    CHECK_EQ(KtCall[self->Number].Irql, DISPATCH_LEVEL);
    CHECK_EQ(self->DpcData[0].DpcCount, before); /* nothing was queued on this CPU */
    for (LONG n = 0; n < KeNumberProcessors; n++)
        CHECK_EQ(KtCall[n].Calls, 1);
}

/* ---- KeCancelTimer, then KeFlushQueuedDpcs: Microsoft's recipe before freeing a timer's DPC ---- */
#define TIMERS 16
#define ROUNDS 40

static KTIMER KtTimer[TIMERS];
static KDPC KtTimerDpc[TIMERS], KtArmDpc;
static volatile LONG KtFlushed, KtLateRuns, KtArmed, KtEntered, KtLeft;

/* Counts a run that came after the test cancelled and flushed: the recipe's promise broken. */
static VOID timer_routine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    __atomic_add_fetch(&KtEntered, 1, __ATOMIC_ACQ_REL);
    if (__atomic_load_n(&KtFlushed, __ATOMIC_ACQUIRE))
        __atomic_add_fetch(&KtLateRuns, 1, __ATOMIC_RELAXED);
    KeStallExecutionProcessor(20); /* long enough to be seen running */
    __atomic_add_fetch(&KtLeft, 1, __ATOMIC_ACQ_REL);
}

/* After the flush returned: none of the timers' DPCs may be queued or running. */
static BOOLEAN any_left(VOID)
{
    BOOLEAN left = __atomic_load_n(&KtEntered, __ATOMIC_ACQUIRE) != __atomic_load_n(&KtLeft, __ATOMIC_ACQUIRE);

    for (ULONG i = 0; i < TIMERS; i++)
        left |= __atomic_load_n(&KtTimerDpc[i].DpcData, __ATOMIC_ACQUIRE) != NULL;
    return left;
}

/* On the last CPU: the timers go on its list, every other one's DPC targeted back at CPU 0. */
static VOID arm_timers(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    for (ULONG i = 0; i < TIMERS; i++)
        KeSetTimerEx(&KtTimer[i], (LARGE_INTEGER){ .QuadPart = -1 }, 1, &KtTimerDpc[i]); /* every tick */
    __atomic_store_n(&KtArmed, 1, __ATOMIC_RELEASE);
}

TEST(dpcsync, no_timer_dpc_runs_after_cancel_and_flush)
{
    CCHAR last = (CCHAR)(KeNumberProcessors - 1);

    KtLateRuns = 0;
    for (ULONG round = 0; round < ROUNDS; round++) {
        KtFlushed = 0;
        KtArmed = 0;
        for (ULONG i = 0; i < TIMERS; i++) {
            KeInitializeTimer(&KtTimer[i]);
            KeInitializeDpc(&KtTimerDpc[i], timer_routine, NULL);
            if (i % 2)
                KeSetTargetProcessorDpc(&KtTimerDpc[i], 0);
        }
        KeInitializeDpc(&KtArmDpc, arm_timers, NULL);
        KeSetImportanceDpc(&KtArmDpc, HighImportance);
        KeSetTargetProcessorDpc(&KtArmDpc, last);
        KeInsertQueueDpc(&KtArmDpc, NULL, NULL);
        while (!__atomic_load_n(&KtArmed, __ATOMIC_ACQUIRE))
            KeStallExecutionProcessor(10);
        KeStallExecutionProcessor(round * 397 % 20000); /* cancel somewhere in a tick */
        for (ULONG i = 0; i < TIMERS; i++)
            KeCancelTimer(&KtTimer[i]);
        KeFlushQueuedDpcs();
        __atomic_store_n(&KtFlushed, 1, __ATOMIC_RELEASE);
        if (any_left())
            __atomic_add_fetch(&KtLateRuns, 1, __ATOMIC_RELAXED);
    }
    KtStallTicks(2);
    CHECK_EQ(KtLateRuns, 0);
}

/* ---- the flush blocks its caller --------------------------------------------------------- */
#include <irqlab/interrupt.h>
#include <irqlab/mm.h>
#include <irqlab/thread.h>

static KTHREAD KtLowThread;
static KDPC KtLongDpc;
static volatile LONG KtLowRan;

static VOID long_routine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeStallExecutionProcessor(60000); /* about 4 ticks with CPU 1's queue held */
}

static VOID note_low(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KtLowRan = 1;
}

/* While CPU 1's queue is busy, a priority-4 thread on CPU 0 runs: the flushing thread (8) blocked. */
TEST(dpcsync, flush_blocks_the_caller_so_a_lower_priority_thread_runs)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * (LONGLONG)KeQueryTimeIncrement() };
    SKIP_UNLESS(KeNumberProcessors >= 2, "one processor: no other queue to wait for");
    PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);
    REQUIRE(stack != NULL);
    KtLowRan = 0;
    KeInitializeDpc(&KtLongDpc, long_routine, NULL);
    KeSetImportanceDpc(&KtLongDpc, HighImportance);
    KeSetTargetProcessorDpc(&KtLongDpc, 1);
    KeInitializeThread(&KtLowThread, stack, KERNEL_STACK_PAGES, note_low, NULL, 4);
    KtLowThread.Affinity.Mask = 1; /* CPU 0, where this thread flushes */
    KeStartThread(&KtLowThread); /* ready, below this thread: it waits for the processor */
    KeInsertQueueDpc(&KtLongDpc, NULL, NULL);
    KeFlushQueuedDpcs();
    CHECK_EQ(KtLowRan, 1); /* it ran while the flush waited for CPU 1 */
    CHECK_EQ(KeWaitForSingleObject(&KtLowThread, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    while (__atomic_load_n(&KtLowThread.Running, __ATOMIC_ACQUIRE))
        KtWaitTicks(1);
    MmDeleteKernelStack(stack, KERNEL_STACK_PAGES);
}
