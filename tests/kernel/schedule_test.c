/*
 * schedule_test.c - where and at what priority threads run: system
 * affinity (KeSetSystemAffinityThreadEx / KeRevertToUserAffinityThreadEx
 * as Microsoft documents them), the unwait boost a waker's increment
 * gives and its decay at quantum end, and a storm of short-lived threads.
 */
#include <irqlab/interrupt.h>
#include <irqlab/kequery.h>
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/ps.h>
#include <irqlab/test.h>
#include <irqlab/thread.h>

#define TICK_100NS ((LONGLONG)KeQueryTimeIncrement())

static KAFFINITY cpu(ULONG Number)
{
    return 1ull << Number;
}

/* The test thread (bound to CPU 0) visits every processor and comes back when it reverts. */
TEST(affinity, the_caller_returns_on_the_processor_it_asked_for)
{
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        KAFFINITY previous = KeSetSystemAffinityThreadEx(cpu(n));
        CHECK_EQ(KeGetCurrentProcessorNumber(), (ULONG)n);
        KeRevertToUserAffinityThreadEx(previous);
        CHECK_EQ(KeGetCurrentProcessorNumber(), 0);
    }
    CHECK_EQ(KeGetCurrentThread()->Affinity.Mask, cpu(0)); /* its user affinity again */
}

TEST(affinity, each_call_returns_the_previous_system_affinity)
{
    KAFFINITY last = cpu((ULONG)KeNumberProcessors - 1);

    CHECK_EQ(KeSetSystemAffinityThreadEx(cpu(0)), 0);   /* none before: 0 */
    CHECK_EQ(KeSetSystemAffinityThreadEx(last), cpu(0)); /* nested: the outer one */
    CHECK_EQ(KeGetCurrentProcessorNumber(), (ULONG)KeNumberProcessors - 1);
    KeRevertToUserAffinityThreadEx(cpu(0));             /* back to the outer one */
    CHECK_EQ(KeGetCurrentThread()->Affinity.Mask, cpu(0));
    KeRevertToUserAffinityThreadEx(0);                  /* back to the user affinity */
    CHECK_EQ(KeGetCurrentProcessorNumber(), 0);
}

TEST(affinity, a_mask_without_an_active_processor_changes_nothing)
{
    KAFFINITY before = KeGetCurrentThread()->Affinity.Mask;

    CHECK_EQ(KeSetSystemAffinityThreadEx(0), 0);
    CHECK_EQ(KeGetCurrentThread()->Affinity.Mask, before);
    if (KeNumberProcessors < 64) {
        CHECK_EQ(KeSetSystemAffinityThreadEx(cpu((ULONG)KeNumberProcessors)), 0);
        CHECK_EQ(KeGetCurrentThread()->Affinity.Mask, before);
    }
    KeRevertToUserAffinityThreadEx(0); /* without a system affinity: no effect either */
    CHECK_EQ(KeGetCurrentThread()->Affinity.Mask, before);
    CHECK_EQ(KeGetCurrentProcessorNumber(), 0);
}

/* Documented: at DISPATCH_LEVEL the move waits until the caller lowers the IRQL. */
TEST(affinity, at_dispatch_level_the_move_waits_until_the_caller_lowers)
{
    KIRQL old;

    SKIP_UNLESS(KeNumberProcessors >= 2, "one processor: there is nowhere to move");
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KAFFINITY previous = KeSetSystemAffinityThreadEx(cpu(1));
    KtWaitTicks(2);
    CHECK_EQ(KeGetCurrentProcessorNumber(), 0); /* still here, a tick later */
    KeLowerIrql(old);
    CHECK_EQ(KeGetCurrentProcessorNumber(), 1);
    KeRevertToUserAffinityThreadEx(previous);
    CHECK_EQ(KeGetCurrentProcessorNumber(), 0);
}

/* ---- the unwait boost ----------------------------------------------------------------- */

static KTHREAD KsThread;
static KEVENT KsWake;
static volatile LONG KsSeen[8], KsSeenCount;

static VOID note_priority(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KsWake, Executive, KernelMode, FALSE, NULL);
    KsSeen[0] = KeQueryPriorityThread(KeGetCurrentThread());
}

/* Its end is signaled before it has left its stack: free the stack once no processor runs on it. */
static VOID release_stack(PVOID Stack)
{
    while (__atomic_load_n(&KsThread.Running, __ATOMIC_ACQUIRE))
        KtWaitTicks(1);
    MmDeleteKernelStack(Stack, KERNEL_STACK_PAGES);
}

/* A thread of priority Base waits; KeSetEvent with Increment wakes it: the priority it woke at. */
static LONG woken_priority(KPRIORITY Base, KPRIORITY Increment)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };
    PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);

    if (stack == NULL)
        return -1;
    KsSeen[0] = -1;
    KeInitializeEvent(&KsWake, SynchronizationEvent, FALSE);
    KeInitializeThread(&KsThread, stack, KERNEL_STACK_PAGES, note_priority, NULL, Base);
    KeStartThread(&KsThread);
    while (KsThread.State != Waiting)
        KtWaitTicks(1);
    KeSetEvent(&KsWake, Increment, FALSE);
    if (KeWaitForSingleObject(&KsThread, Executive, KernelMode, FALSE, &limit) != STATUS_SUCCESS)
        return -2;
    release_stack(stack);
    return KsSeen[0];
}

TEST(priority, a_woken_thread_runs_at_its_base_plus_the_increment)
{
    CHECK_EQ(woken_priority(8, IO_NO_INCREMENT), 8);
    CHECK_EQ(woken_priority(8, EVENT_INCREMENT), 9);
    CHECK_EQ(woken_priority(8, IO_KEYBOARD_INCREMENT), 14);
}

TEST(priority, a_boost_stops_below_the_real_time_range_and_skips_real_time_threads)
{
    CHECK_EQ(woken_priority(12, IO_KEYBOARD_INCREMENT), 15); /* 18 capped at 15 */
    CHECK_EQ(woken_priority(16, IO_KEYBOARD_INCREMENT), 16); /* real time: no boost */
    CHECK_EQ(woken_priority(24, IO_SOUND_INCREMENT), 24);
}

/* Woken at 8 + 6 on CPU 0, it spins, noting each priority it has, until it is back at 8. */
static VOID note_decay(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KsWake, Executive, KernelMode, FALSE, NULL);
    ULONG64 stop = KeQueryInterruptTime() + 200 * (ULONG64)TICK_100NS;
    LONG last = -1;
    while (KeQueryInterruptTime() < stop && KsSeenCount < 8) {
        LONG now = KeQueryPriorityThread(KeGetCurrentThread());
        if (now != last)
            KsSeen[KsSeenCount++] = last = now;
        if (now == 8)
            break;
    }
}

TEST(priority, a_boost_decays_one_level_per_quantum_end_down_to_the_base)
{
    LARGE_INTEGER limit = { .QuadPart = -400 * TICK_100NS };
    PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);

    REQUIRE(stack != NULL);
    KsSeenCount = 0;
    KeInitializeEvent(&KsWake, SynchronizationEvent, FALSE);
    KeInitializeThread(&KsThread, stack, KERNEL_STACK_PAGES, note_decay, NULL, 8);
    KeStartThread(&KsThread);
    while (KsThread.State != Waiting)
        KtWaitTicks(1);
    KeSetEvent(&KsWake, IO_KEYBOARD_INCREMENT, FALSE);
    REQUIRE_EQ(KeWaitForSingleObject(&KsThread, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    release_stack(stack);
    REQUIRE_EQ(KsSeenCount, 7);
    for (LONG i = 0; i < 7; i++)
        CHECK_EQ(KsSeen[i], 14 - i); /* 14, 13, ... 8: one level at a time */
}

/* ---- a storm of threads ----------------------------------------------------------------- */

#define STORM_ROUNDS  8
#define STORM_THREADS 64

KE_COMMAND_LINE_OPTION(threads, "threads", "threads=<n>: rounds of 64 threads for the thread storm (test=thread.*; default 8)");

static KSEMAPHORE KsGate;
static volatile LONG KsDone;

static VOID pass_gate(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KsGate, Executive, KernelMode, FALSE, NULL);
    __atomic_add_fetch(&KsDone, 1, __ATOMIC_RELAXED);
}

/* One round: threads that block on a semaphore, are released together and end. */
static VOID storm_round(VOID)
{
    LARGE_INTEGER limit = { .QuadPart = -400 * TICK_100NS };
    static HANDLE handles[STORM_THREADS];

    KeInitializeSemaphore(&KsGate, 0, STORM_THREADS);
    for (ULONG i = 0; i < STORM_THREADS; i++)
        REQUIRE_EQ(PsCreateSystemThread(&handles[i], THREAD_ALL_ACCESS, NULL, NULL, NULL, pass_gate, NULL),
                   STATUS_SUCCESS);
    KeReleaseSemaphore(&KsGate, SEMAPHORE_INCREMENT, STORM_THREADS, FALSE);
    for (ULONG i = 0; i < STORM_THREADS; i++) {
        PETHREAD t;
        REQUIRE_EQ(ObReferenceObjectByHandle(handles[i], THREAD_ALL_ACCESS, *PsThreadType, KernelMode, (PVOID *)&t,
                                             NULL), STATUS_SUCCESS);
        CHECK_EQ(KeWaitForSingleObject(t, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
        ObDereferenceObject(t);
        ZwClose(handles[i]);
    }
}

/* After a first round has grown the pool, more rounds change neither the thread count nor free pages. */
TEST(thread, a_storm_of_threads_loses_none_and_leaks_no_stack)
{
    ULONG rounds = KeGetCommandLineValue("threads") ? (ULONG)KeGetCommandLineNumber("threads", 2, 100000, STORM_ROUNDS)
                                                    : STORM_ROUNDS;

    KsDone = 0;
    storm_round();
    KtWaitTicks(2); /* every thread has left its processor: the next call reaps them all */
    ULONG live = PsQueryLiveThreadCount();
    ULONG64 pages = MmGetFreePageCount();
    for (ULONG round = 1; round < rounds; round++)
        storm_round();
    CHECK_EQ(KsDone, (LONG)(rounds * STORM_THREADS));
    KtWaitTicks(2);
    CHECK_EQ(PsQueryLiveThreadCount(), live);
    CHECK_EQ(MmGetFreePageCount(), pages);
    DbgPrint("    # thread storm: %u threads created, woken and reaped in %u rounds on %d CPUs\n",
             KsDone, rounds, KeNumberProcessors);
}
