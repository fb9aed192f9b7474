/*
 * thread_test.c - threads and the dispatcher: a thread runs and ends,
 * signalling its object; a higher priority readied by a DPC preempts a
 * PASSIVE thread at once, but not one at DISPATCH_LEVEL; equal priorities
 * take turns by quantum; every processor has a current and an idle thread.
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

static KTHREAD KtThread[2];
static KEVENT KtGo;
static KDPC KtSetDpc;
static KTIMER KtTimer;
static volatile LONG KtRan[2], KtStop;

/* A thread of the test: priority, CPU 0 only or not, routine and context. */
static PKTHREAD start(ULONG Index, KPRIORITY Priority, BOOLEAN OnCpu0, PKSTART_ROUTINE Routine)
{
    PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);

    if (stack == NULL)
        return NULL;
    KeInitializeThread(&KtThread[Index], stack, KERNEL_STACK_PAGES, Routine, (PVOID)(ULONG_PTR)Index, Priority);
    if (OnCpu0)
        KtThread[Index].Affinity.Mask = 1;
    KeStartThread(&KtThread[Index]);
    return &KtThread[Index];
}

static VOID mark(PVOID Context)
{
    KtRan[(ULONG_PTR)Context] = 1;
}

TEST(thread, a_thread_runs_and_its_end_signals_its_object)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };

    KtRan[0] = 0;
    PKTHREAD t = start(0, 8, FALSE, mark);
    REQUIRE(t != NULL);
    CHECK_EQ(KeWaitForSingleObject(t, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    CHECK_EQ(KtRan[0], 1);
    CHECK_EQ(t->State, Terminated);
    CHECK(t->Header.SignalState > 0);
}

static VOID wait_then_mark(PVOID Context)
{
    KeWaitForSingleObject(&KtGo, Executive, KernelMode, FALSE, NULL);
    KtRan[(ULONG_PTR)Context] = 1;
}

static VOID set_go(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeSetEvent(&KtGo, IO_NO_INCREMENT, FALSE);
}

/* A priority-12 thread on CPU 0 waits; a timer's DPC sets its event while this priority-8 thread spins. */
static VOID arm(KIRQL SpinIrql, ULONG *SeenWhileSpinning)
{
    LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS };
    KIRQL old;

    KtRan[1] = 0;
    KeInitializeEvent(&KtGo, NotificationEvent, FALSE);
    start(1, 12, TRUE, wait_then_mark);
    KeInitializeDpc(&KtSetDpc, set_go, NULL);
    KeInitializeTimer(&KtTimer);
    KeRaiseIrql(SpinIrql, &old);
    KeSetTimer(&KtTimer, due, &KtSetDpc);
    ULONG spins = 0;
    for (; spins < 20000 && !KtRan[1]; spins++) /* about 8 ticks if nothing preempts */
        KeStallExecutionProcessor(50);
    *SeenWhileSpinning = KtRan[1];
    KeLowerIrql(old);
}

TEST(thread, a_higher_priority_thread_readied_by_a_dpc_preempts_at_once)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };
    ULONG seen;

    arm(PASSIVE_LEVEL, &seen);
    CHECK_EQ(seen, 1); /* it ran while this thread was still in its loop */
    CHECK_EQ(KeWaitForSingleObject(&KtThread[1], Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
}

TEST(thread, no_preemption_while_the_running_thread_holds_dispatch_level)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };
    ULONG seen;

    arm(DISPATCH_LEVEL, &seen);
    CHECK_EQ(seen, 0); /* readied, but this thread kept the processor */
    CHECK_EQ(KtRan[1], 1); /* lowering let the DISPATCH interrupt switch to it */
    CHECK_EQ(KeWaitForSingleObject(&KtThread[1], Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
}

static VOID spin_counting(PVOID Context)
{
    while (!__atomic_load_n(&KtStop, __ATOMIC_ACQUIRE))
        __atomic_add_fetch(&KtRan[(ULONG_PTR)Context], 1, __ATOMIC_RELAXED);
}

/* Two priority-8 threads that never wait, on CPU 0: each quantum end hands the processor to the other. */
TEST(thread, equal_priorities_take_turns_by_quantum)
{
    LARGE_INTEGER sleep = { .QuadPart = -12 * TICK_100NS }, limit = { .QuadPart = -64 * TICK_100NS };
    PKTHREAD self = KeGetCurrentThread();
    KPRIORITY mine = KeSetPriorityThread(self, 9); /* above them: this thread still gets to run */

    KtRan[0] = KtRan[1] = KtStop = 0;
    start(0, 8, TRUE, spin_counting);
    start(1, 8, TRUE, spin_counting);
    KeDelayExecutionThread(KernelMode, FALSE, &sleep);
    LONG first = KtRan[0], second = KtRan[1];
    __atomic_store_n(&KtStop, 1, __ATOMIC_RELEASE);
    CHECK_EQ(KeWaitForSingleObject(&KtThread[0], Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    CHECK_EQ(KeWaitForSingleObject(&KtThread[1], Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    KeSetPriorityThread(self, mine);
    CHECK_GT(first, 0);
    CHECK_GT(second, 0);
}

TEST(thread, every_processor_has_a_current_and_an_idle_thread)
{
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        PKPRCB prcb = KiProcessorBlock[n];
        CHECK(prcb->CurrentThread != NULL);
        CHECK(prcb->IdleThread != NULL);
        CHECK_EQ(prcb->IdleThread->Priority, 0);
    }
    CHECK(KeGetCurrentThread() != KeGetCurrentPrcb()->IdleThread);
    CHECK_EQ(KeGetCurrentThread()->State, Running);
}

/* ---- PsCreateSystemThread, handles, reaping ------------------------------------------ */
#include <irqlab/ps.h>

static volatile LONG KtSystemRuns;

static VOID count_and_end(PVOID Context)
{
    __atomic_add_fetch(&KtSystemRuns, 1, __ATOMIC_RELAXED);
    if (Context)
        PsTerminateSystemThread(STATUS_SUCCESS); /* the explicit way out; returning is the other */
}

TEST(thread, system_threads_run_end_and_are_reaped)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };
    HANDLE handles[8];
    CLIENT_ID cid;

    KtSystemRuns = 0;
    ULONG before = PsQueryLiveThreadCount();
    for (ULONG i = 0; i < ARRAYSIZE(handles); i++)
        REQUIRE_EQ(PsCreateSystemThread(&handles[i], THREAD_ALL_ACCESS, NULL, NULL, &cid, count_and_end,
                                        (PVOID)(ULONG_PTR)(i & 1)), STATUS_SUCCESS);
    CHECK(cid.UniqueThread != NULL);
    for (ULONG i = 0; i < ARRAYSIZE(handles); i++) {
        PETHREAD t;
        REQUIRE_EQ(ObReferenceObjectByHandle(handles[i], THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&t,
                                             NULL), STATUS_SUCCESS);
        CHECK_EQ(KeWaitForSingleObject(t, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
        ObDereferenceObject(t);
        CHECK_EQ(ZwClose(handles[i]), STATUS_SUCCESS);
        CHECK_EQ(ZwClose(handles[i]), STATUS_INVALID_HANDLE);
    }
    CHECK_EQ(KtSystemRuns, ARRAYSIZE(handles));
    KtWaitTicks(1); /* the last one has left its processor by now */
    CHECK_EQ(PsQueryLiveThreadCount(), before);
}

TEST(thread, bad_handles_are_refused)
{
    PVOID object;

    CHECK_EQ(ObReferenceObjectByHandle((HANDLE)0x1000, 0, *PsThreadType, KernelMode, &object, NULL),
             STATUS_INVALID_HANDLE);
    CHECK_EQ(ObReferenceObjectByHandle((HANDLE)3, 0, *PsThreadType, KernelMode, &object, NULL), STATUS_INVALID_HANDLE);
    CHECK_EQ(ZwClose(NULL), STATUS_INVALID_HANDLE);
    CHECK(PsGetCurrentThreadId() == NULL); /* the initial thread is the processor's, not an ETHREAD */
}
