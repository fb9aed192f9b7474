/*
 * cmd_labthread.c - lab 07's experiments with the dispatcher (docs/labs/
 * 07-threads-and-dispatch-level.md): !labthread preempt|dispatch|quantum
 * run one and report what the threads saw; park/unpark leave a thread
 * waiting (KdLabParked) for !thread, !ready and !running to look at.
 *
 * Every lab thread is held to this processor (the console's, CPU 0), so
 * what happens is decided by priorities and the IRQL alone.
 */
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include <irqlab/thread.h>
#include <irqlab/timer.h>
#include <irqlab/kequery.h>
#include "kd.h"

#define LABTHREAD_USAGE "!labthread preempt | dispatch | quantum | park | unpark"
#define SPIN_TICKS 20 /* the console's loop: about 300 ms at 64 Hz */

KTHREAD KdLabParked;                /* a global, so `!thread KdLabParked` finds it */
static KTHREAD KdLabThread[2];
static PVOID KdLabStack[2], KdParkedStack;
static KEVENT KdLabGo, KdParkEvent;
static KTIMER KdLabTimer;
static KDPC KdLabDpc;
static volatile ULONG64 KdReadyAt, KdReadiedTick, KdRanTick, KdLoops[2];
static volatile LONG KdStop;

/* A lab thread on this processor at Priority; FALSE (and said) when no stack is left. */
static BOOLEAN start(PKTHREAD Thread, PVOID *Stack, PKSTART_ROUTINE Routine, PVOID Context, KPRIORITY Priority)
{
    if ((*Stack = MmCreateKernelStack(KERNEL_STACK_PAGES)) == NULL) {
        DbgPrint("!labthread: no memory for a thread stack\n");
        return FALSE;
    }
    KeInitializeThread(Thread, *Stack, KERNEL_STACK_PAGES, Routine, Context, Priority);
    Thread->Affinity.Mask = Thread->UserAffinity.Mask = KeGetCurrentPrcb()->GroupSetMember;
    KeStartThread(Thread);
    return TRUE;
}

/* Waits for a lab thread's end and its leaving the processor; then its stack can go. */
static VOID reap(PKTHREAD Thread, PVOID Stack)
{
    KeWaitForSingleObject(Thread, Executive, KernelMode, FALSE, NULL);
    while (__atomic_load_n(&Thread->Running, __ATOMIC_ACQUIRE))
        KeStallExecutionProcessor(100);
    MmDeleteKernelStack(Stack, KERNEL_STACK_PAGES);
}

static VOID ready_from_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    while (KeTickCount < KdReadyAt) /* on CPU 1: two ticks into the console's loop */
        KeStallExecutionProcessor(100);
    KdReadiedTick = KeTickCount;
    KeSetEvent(&KdLabGo, IO_NO_INCREMENT, FALSE); /* readies the priority-12 thread */
}

static VOID wakes_and_notes(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KdLabGo, Executive, KernelMode, FALSE, NULL);
    KdRanTick = KeTickCount;
}

/* A priority-12 thread waits; a DPC on CPU 1 readies it two ticks into this thread's (8) loop at Irql.
 * With one CPU a timer's DPC does, and at DISPATCH_LEVEL it waits for the loop's end itself. */
static VOID preempt(KIRQL Irql)
{
    LARGE_INTEGER due = { .QuadPart = -2 * (LONGLONG)KeQueryTimeIncrement() };
    KIRQL old;

    KdReadiedTick = KdRanTick = 0;
    KeInitializeEvent(&KdLabGo, SynchronizationEvent, FALSE);
    if (!start(&KdLabThread[0], &KdLabStack[0], wakes_and_notes, NULL, 12))
        return;
    DbgPrint("thread %p (priority 12) waits; the console (priority 8) spins at IRQL %u (%s) for %u ticks\n",
             &KdLabThread[0], Irql, KeIrqlName(Irql), SPIN_TICKS);
    KeInitializeDpc(&KdLabDpc, ready_from_dpc, NULL);
    KeSetTargetProcessorDpc(&KdLabDpc, (CCHAR)(KeNumberProcessors > 1));
    KeSetImportanceDpc(&KdLabDpc, HighImportance);
    KeInitializeTimer(&KdLabTimer);
    KeRaiseIrql(Irql, &old);
    ULONG64 start_tick = KeTickCount;
    KdReadyAt = start_tick + 2;
    if (KeNumberProcessors > 1)
        KeInsertQueueDpc(&KdLabDpc, NULL, NULL); /* CPU 1 is not held by this CPU's IRQL */
    else
        KeSetTimer(&KdLabTimer, due, &KdLabDpc); /* a timer expires here: at DISPATCH_LEVEL, late */
    while (KeTickCount - start_tick < SPIN_TICKS)
        KeStallExecutionProcessor(100);
    ULONG64 end_tick = KeTickCount;
    KeLowerIrql(old);
    reap(&KdLabThread[0], KdLabStack[0]);
    DbgPrint("a DPC readied it %llu ticks into the loop; it ran %llu ticks into the loop\n",
             KdReadiedTick - start_tick, KdRanTick - start_tick);
    if (KdRanTick < end_tick)
        DbgPrint("preempted: it ran at once, while the console was still in its loop\n");
    else
        DbgPrint("no switch while the console held DISPATCH_LEVEL: it ran when the console lowered (tick %llu)\n",
                 end_tick - start_tick);
}

static VOID spins_counting(PVOID Context)
{
    ULONG i = (ULONG)(ULONG_PTR)Context;

    while (!__atomic_load_n(&KdStop, __ATOMIC_ACQUIRE))
        KdLoops[i]++;
}

/* Two priority-8 threads that never wait; the console (raised to 9) sleeps, then counts their turns. */
static VOID quantum(VOID)
{
    LARGE_INTEGER sleep = { .QuadPart = -SPIN_TICKS * (LONGLONG)KeQueryTimeIncrement() };
    PKTHREAD self = KeGetCurrentThread();

    KdStop = 0;
    KdLoops[0] = KdLoops[1] = 0;
    KPRIORITY mine = KeSetPriorityThread(self, 9);
    if (!start(&KdLabThread[0], &KdLabStack[0], spins_counting, (PVOID)0, 8))
        goto out;
    if (!start(&KdLabThread[1], &KdLabStack[1], spins_counting, (PVOID)1, 8)) {
        KdStop = 1;
        reap(&KdLabThread[0], KdLabStack[0]);
        goto out;
    }
    KeDelayExecutionThread(KernelMode, FALSE, &sleep);
    ULONG switches[2] = { KdLabThread[0].ContextSwitches, KdLabThread[1].ContextSwitches };
    __atomic_store_n(&KdStop, 1, __ATOMIC_RELEASE);
    reap(&KdLabThread[0], KdLabStack[0]);
    reap(&KdLabThread[1], KdLabStack[1]);
    DbgPrint("two priority-8 threads shared processor %u for %u ticks (a quantum is %u units, 3 a tick)\n",
             KeGetCurrentProcessorNumber(), SPIN_TICKS, KdLabThread[0].QuantumReset);
    for (ULONG i = 0; i < 2; i++)
        DbgPrint("  thread %p: switched in %u times, %llu loops\n", &KdLabThread[i], switches[i], KdLoops[i]);
out:
    KeSetPriorityThread(self, mine);
}

static VOID parked(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KdParkEvent, Executive, KernelMode, FALSE, NULL);
}

static VOID park(BOOLEAN Park)
{
    if (Park == (KdParkedStack != NULL)) {
        DbgPrint("!labthread: %s\n", Park ? "a thread is parked already (KdLabParked)" : "no thread is parked");
        return;
    }
    if (!Park) {
        KeSetEvent(&KdParkEvent, IO_NO_INCREMENT, FALSE);
        reap(&KdLabParked, KdParkedStack);
        KdParkedStack = NULL;
        DbgPrint("KdLabParked (%p) was woken and has ended\n", &KdLabParked);
        return;
    }
    KeInitializeEvent(&KdParkEvent, NotificationEvent, FALSE);
    if (start(&KdLabParked, &KdParkedStack, parked, NULL, 10))
        DbgPrint("KdLabParked (%p, priority 10) waits on event %p: !thread KdLabParked, then !labthread unpark\n",
                 &KdLabParked, &KdParkEvent);
}

KD_COMMAND(labthread, "!labthread", LABTHREAD_USAGE, "lab: threads, priorities and DISPATCH_LEVEL (lab 07)")
{
    static const PCSTR names[] = { "preempt", "dispatch", "quantum", "park", "unpark" };
    CHAR word[16];
    ULONG n;

    if (!KdNextWord(&Args, word, sizeof(word)) || !KdNoMoreArguments(Args, LABTHREAD_USAGE)) {
        DbgPrint("usage: %s\n", LABTHREAD_USAGE);
        return;
    }
    for (n = 0; n < ARRAYSIZE(names) && strcmp(word, names[n]) != 0; n++)
        ;
    switch (n) {
    case 0: preempt(PASSIVE_LEVEL); break;
    case 1: preempt(DISPATCH_LEVEL); break;
    case 2: quantum(); break;
    case 3: park(TRUE); break;
    case 4: park(FALSE); break;
    default: DbgPrint("!labthread: no experiment '%s'; usage: %s\n", word, LABTHREAD_USAGE); break;
    }
}
