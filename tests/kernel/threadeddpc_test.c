/*
 * threadeddpc_test.c - threaded DPCs with the DPC threads on (the default):
 * the routine runs at PASSIVE_LEVEL in its processor's priority-31 DPC
 * thread, from DpcData[1]; a normal DPC preempts it, a ready thread of
 * priority 30 does not; KeRemoveQueueDpc and KeFlushQueuedDpcs cover the
 * threaded queue too.  With threadeddpcs=0 these skip and
 * dpc.threaded_dpc_runs_as_a_normal_one_when_they_are_off runs instead.
 */
#include <arch/arch.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/thread.h>
#include <irqlab/timer.h>

#define TICK_100NS ((LONGLONG)KeQueryTimeIncrement())

static struct {
    volatile LONG Runs, NormalRan, NormalRanInside, ThreadRan, ThreadRanInside;
    KIRQL Irql;
    PKTHREAD Thread;
    ULONG Cpu;
    KPRIORITY Priority;
    PVOID Queue;
} Kt;
static KDPC KtThreaded, KtNormal;
static KTIMER KtTimer;

static VOID reset(VOID)
{
    memset((PVOID)&Kt, 0, sizeof(Kt));
}

static VOID record(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    Kt.Irql = KeGetCurrentIrql();
    Kt.Thread = KeGetCurrentThread();
    Kt.Priority = Kt.Thread->Priority;
    Kt.Cpu = KeGetCurrentProcessorNumber();
    Kt.Queue = KeGetCurrentPrcb()->DpcData[1].ActiveDpc == Dpc ? &KeGetCurrentPrcb()->DpcData[1] : NULL;
    __atomic_add_fetch(&Kt.Runs, 1, __ATOMIC_RELEASE);
}

static BOOLEAN until(volatile LONG *Flag, ULONG Ticks)
{
    for (ULONG i = 0; i < Ticks && !__atomic_load_n(Flag, __ATOMIC_ACQUIRE); i++)
        KtWaitTicks(1);
    return *Flag != 0;
}

TEST(threadeddpc, runs_at_passive_level_in_the_dpc_thread)
{
    ULONG last = (ULONG)KeNumberProcessors - 1;
    KIRQL old;

    SKIP_UNLESS(KeGetCurrentPrcb()->ThreadDpcEnable, "threaded DPCs are off (threadeddpcs=0)");
    reset();
    KeInitializeThreadedDpc(&KtThreaded, record, NULL);
    KeSetTargetProcessorDpc(&KtThreaded, (CCHAR)last);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK(KeInsertQueueDpc(&KtThreaded, NULL, NULL)); /* another CPU's thread may take it at once */
    KeLowerIrql(old);
    REQUIRE(until(&Kt.Runs, 100));
    CHECK_EQ(Kt.Irql, PASSIVE_LEVEL);
    CHECK_EQ(Kt.Cpu, last);
    CHECK_EQ(Kt.Priority, HIGH_PRIORITY);
    CHECK(Kt.Thread != KiProcessorBlock[last]->IdleThread);
    CHECK(Kt.Queue == &KiProcessorBlock[last]->DpcData[1]);
}

TEST(threadeddpc, queued_at_dispatch_level_here_it_waits_for_the_lower)
{
    KIRQL old;

    SKIP_UNLESS(KeGetCurrentPrcb()->ThreadDpcEnable, "threaded DPCs are off (threadeddpcs=0)");
    reset();
    KeInitializeThreadedDpc(&KtThreaded, record, NULL);
    KeSetTargetProcessorDpc(&KtThreaded, (CCHAR)KeGetCurrentProcessorNumber());
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeInsertQueueDpc(&KtThreaded, NULL, NULL);
    KtStallTicks(2);
    CHECK_EQ(Kt.Runs, 0);
    KeLowerIrql(old); /* 0x2F signals the DPC thread; priority 31 preempts this thread at once */
    CHECK_EQ(Kt.Runs, 1);
    CHECK(Kt.Thread != KeGetCurrentThread());
}

TEST(threadeddpc, removed_before_it_runs_never_runs)
{
    KIRQL old;

    SKIP_UNLESS(KeGetCurrentPrcb()->ThreadDpcEnable, "threaded DPCs are off (threadeddpcs=0)");
    reset();
    KeInitializeThreadedDpc(&KtThreaded, record, NULL);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeInsertQueueDpc(&KtThreaded, NULL, NULL);
    CHECK_EQ(KeGetCurrentPrcb()->DpcData[1].DpcQueueDepth, 1);
    CHECK(KeRemoveQueueDpc(&KtThreaded));
    CHECK_EQ(KeGetCurrentPrcb()->DpcData[1].DpcQueueDepth, 0);
    KeLowerIrql(old);
    KtWaitTicks(2);
    CHECK_EQ(Kt.Runs, 0);
}

static VOID normal_marks(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    Kt.NormalRan = 1;
}

/* At PASSIVE_LEVEL in the DPC thread: a normal DPC (the timer's, on this CPU) runs in the middle. */
static VOID waits_for_a_normal_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    for (ULONG i = 0; i < 200 && !Kt.NormalRan; i++)
        KtStallTicks(1);
    Kt.NormalRanInside = Kt.NormalRan;
    __atomic_add_fetch(&Kt.Runs, 1, __ATOMIC_RELEASE);
}

TEST(threadeddpc, a_normal_dpc_preempts_it)
{
    LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS };
    ULONG cpu = (ULONG)KeNumberProcessors - 1;

    SKIP_UNLESS(KeGetCurrentPrcb()->ThreadDpcEnable, "threaded DPCs are off (threadeddpcs=0)");
    reset();
    KeInitializeThreadedDpc(&KtThreaded, waits_for_a_normal_dpc, NULL);
    KeSetTargetProcessorDpc(&KtThreaded, (CCHAR)cpu);
    KeInitializeDpc(&KtNormal, normal_marks, NULL);
    KeSetTargetProcessorDpc(&KtNormal, (CCHAR)cpu);
    KeSetImportanceDpc(&KtNormal, HighImportance);
    KeInitializeTimer(&KtTimer);
    KeSetTimer(&KtTimer, due, &KtNormal); /* first: on one CPU the threaded DPC preempts this thread */
    KeInsertQueueDpc(&KtThreaded, NULL, NULL);
    REQUIRE(until(&Kt.Runs, 400));
    CHECK(Kt.NormalRanInside);
}

static VOID ready_thread_marks(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    Kt.ThreadRan = 1;
}

/* A priority-30 thread for the same CPU is readied from inside: it runs only once the DPC returns. */
static VOID readies_a_thread(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    PKTHREAD t = Context;

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    t->Affinity.Mask = KeGetCurrentPrcb()->GroupSetMember;
    KeStartThread(t);
    KtStallTicks(3);
    Kt.ThreadRanInside = Kt.ThreadRan;
    __atomic_add_fetch(&Kt.Runs, 1, __ATOMIC_RELEASE);
}

TEST(threadeddpc, another_thread_does_not_preempt_it)
{
    static KTHREAD thread;
    LARGE_INTEGER limit = { .QuadPart = -200 * TICK_100NS };
    PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);

    SKIP_UNLESS(KeGetCurrentPrcb()->ThreadDpcEnable, "threaded DPCs are off (threadeddpcs=0)");
    REQUIRE(stack != NULL);
    reset();
    KeInitializeThread(&thread, stack, KERNEL_STACK_PAGES, ready_thread_marks, NULL, 30);
    KeInitializeThreadedDpc(&KtThreaded, readies_a_thread, &thread);
    KeSetTargetProcessorDpc(&KtThreaded, (CCHAR)(KeNumberProcessors - 1));
    KeInsertQueueDpc(&KtThreaded, NULL, NULL);
    REQUIRE(until(&Kt.Runs, 400));
    CHECK_EQ(KeWaitForSingleObject(&thread, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    MmDeleteKernelStack(stack, KERNEL_STACK_PAGES);
    CHECK_EQ(Kt.ThreadRanInside, 0);
    CHECK_EQ(Kt.ThreadRan, 1);
}

static VOID slow(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KtStallTicks(3);
    __atomic_add_fetch(&Kt.Runs, 1, __ATOMIC_RELEASE);
}

TEST(threadeddpc, a_flush_waits_for_threaded_dpcs_too)
{
    reset();
    KeInitializeThreadedDpc(&KtThreaded, slow, NULL);
    KeSetTargetProcessorDpc(&KtThreaded, (CCHAR)(KeNumberProcessors - 1));
    KeInsertQueueDpc(&KtThreaded, NULL, NULL);
    KeFlushQueuedDpcs();
    CHECK_EQ(Kt.Runs, 1);
}
