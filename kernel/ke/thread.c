/*
 * thread.c - thread objects: initialising and starting one, its first
 * instructions, its end, its priority, and the threads every processor
 * starts with (NT's KeInitializeThread, KiThreadStartup, KeTerminateThread).
 *
 * Every processor has an idle thread (priority 0, never in a ready queue)
 * that runs KiIdleLoop.  An application processor's start-up context
 * becomes its idle thread; the boot processor's start-up context becomes
 * the initial thread, which runs the boot sequence and the tests at
 * priority 8 and then ends, and its idle thread gets a stack of its own.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/spinlock.h>
#include <irqlab/thread.h>
#include "ki.h"

#define SYSTEM_AFFINITY    (1u << 3)  /* KTHREAD.MiscFlags.SystemAffinityActive */
#define SYSTEM_THREAD      (1u << 10) /* KTHREAD.MiscFlags.SystemThread */
#define QUANTUM_RESET      6          /* NT's client quantum: 2 ticks of 3 units */
#define INITIAL_PRIORITY   8

KPROCESS KiSystemProcess;
static KTHREAD KiInitialThread;

/* The fields every thread starts with; StackTop 0 for a thread that runs on the stack it has. */
static VOID init_thread(PKTHREAD Thread, ULONG64 StackTop, ULONG StackPages, KPRIORITY Priority)
{
    memset(Thread, 0, sizeof(*Thread));
    Thread->Header.Type = ThreadObject;
    Thread->Header.Hand = 0;
    InitializeListHead(&Thread->Header.WaitListHead);
    InitializeListHead(&Thread->MutantListHead);
    Thread->InitialStack = Thread->StackBase = (PVOID)StackTop;
    Thread->StackLimit = (PVOID)(StackTop - (ULONG64)StackPages * PAGE_SIZE);
    Thread->Priority = Thread->BasePriority = (CHAR)Priority;
    Thread->QuantumReset = QUANTUM_RESET;
    Thread->QuantumTarget = QUANTUM_RESET;
    Thread->Affinity.Mask = ~0ull;
    Thread->UserAffinity.Mask = ~0ull;
    Thread->MiscFlags = SYSTEM_THREAD | KI_MISC_APC_QUEUEABLE;
    Thread->Process = &KiSystemProcess;
    InitializeListHead(&Thread->ApcState.ApcListHead[KernelMode]);
    InitializeListHead(&Thread->ApcState.ApcListHead[UserMode]);
    Thread->ApcState.Process = &KiSystemProcess;
    KeInitializeTimer(&Thread->Timer);
}

/* A new thread's first instructions, at SYNCH_LEVEL with interrupts off, as the switch left them. */
static VOID KiThreadStartup(PVOID StartRoutine, PVOID StartContext)
{
    arch_enable_interrupts();
    KeLowerIrql(PASSIVE_LEVEL);
    ((PKSTART_ROUTINE)StartRoutine)(StartContext);
    KIRQL irql = KeGetCurrentIrql();
    if (irql != PASSIVE_LEVEL) /* NT: a system thread must return at PASSIVE_LEVEL */
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)StartRoutine, irql, 0, (ULONG_PTR)StartRoutine);
    KeTerminateThread(0);
}

VOID KeInitializeThread(PKTHREAD Thread, PVOID KernelStack, ULONG StackPages, PKSTART_ROUTINE StartRoutine,
                        PVOID StartContext, KPRIORITY Priority)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ASSERT(Priority > LOW_PRIORITY && Priority <= HIGH_PRIORITY);
    init_thread(Thread, (ULONG64)KernelStack, StackPages, Priority);
    Thread->KernelStack = (PVOID)arch_thread_stack((ULONG64)KernelStack, KiThreadStartup, (PVOID)StartRoutine,
                                                   StartContext);
    Thread->State = Initialized;
}

VOID KeStartThread(PKTHREAD Thread)
{
    ASSERT(Thread->State == Initialized);
    KIRQL irql = KiAcquireDispatcherLock();
    InsertTailList(&KiSystemProcess.ThreadListHead, &Thread->ThreadListEntry);
    KiReadyThread(Thread);
    KiReleaseDispatcherLock(irql);
}

/* NT's KeTerminateThread: signal the thread object (its waiters run), leave the processor for good. */
VOID KeTerminateThread(KPRIORITY Increment)
{
    PKTHREAD self = KeGetCurrentThread();

    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    ASSERT(self != KeGetCurrentPrcb()->IdleThread);
    if (!IsListEmpty(&self->MutantListHead)) /* NT's KeRundownThread: a kernel mutex held to the end */
        KeBugCheckEx(THREAD_TERMINATE_HELD_MUTEX, (ULONG_PTR)self,
                     (ULONG_PTR)CONTAINING_RECORD(self->MutantListHead.Flink, KMUTANT, MutantListEntry), 0, 0);
    KiRundownApcs();
    KiAcquireDispatcherLock();
    RemoveEntryList(&self->ThreadListEntry);
    self->State = Terminated;
    self->Header.SignalState = 1;
    KiWaitTest(&self->Header, Increment);
    KiSwapThread();
    KeBugCheckEx(HAL_INITIALIZATION_FAILED, 3, (ULONG_PTR)self, 0, 0); /* a terminated thread resumed */
}

KPRIORITY KeQueryPriorityThread(PKTHREAD Thread)
{
    return Thread->Priority;
}

KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ASSERT(Priority > LOW_PRIORITY && Priority <= HIGH_PRIORITY);
    KIRQL irql = KiAcquireDispatcherLock();
    KPRIORITY old = Thread->Priority;
    BOOLEAN queued = Thread->State == Ready && KiUnreadyThread(Thread);
    Thread->Priority = Thread->BasePriority = (CHAR)Priority;
    if (queued) /* back in line at its new priority: it may preempt someone now */
        KiReadyThread(Thread);
    else if (Thread->State == Running && Priority < old) /* a ready thread may now come before it */
        KiRequestQuantumEnd(Thread->NextProcessor);
    KiReleaseDispatcherLock(irql);
    return old;
}

/*
 * Lock held.  NT's unwait boost (Windows Internals, "Priority boosts"; the
 * WRK's KiDeferredReadyThread): a thread below the real-time range wakes at
 * its base priority plus the waker's increment, at most 15, if that is more
 * than it has; the boost gets a fresh quantum.  Real-time threads are never boosted.
 */
VOID KiBoostPriority(PKTHREAD Thread, KPRIORITY Increment)
{
    ASSERT(KeGetCurrentIrql() >= SYNCH_LEVEL); /* under the dispatcher lock */
    if (Thread->Priority >= LOW_REALTIME_PRIORITY || Increment <= 0)
        return;
    KPRIORITY boosted = Thread->BasePriority + Increment;
    if (boosted >= LOW_REALTIME_PRIORITY)
        boosted = LOW_REALTIME_PRIORITY - 1;
    if (boosted <= Thread->Priority)
        return;
    Thread->Priority = (CHAR)boosted;
    Thread->QuantumTarget = Thread->QuantumReset;
}

/* Lock held, at quantum end: a boosted thread loses one level, down to its base (the WRK's
 * KiComputeNewPriority with an adjustment of one). */
VOID KiDecayPriority(PKTHREAD Thread)
{
    ASSERT(KeGetCurrentIrql() >= SYNCH_LEVEL); /* under the dispatcher lock */
    if (Thread->Priority < LOW_REALTIME_PRIORITY && Thread->Priority > Thread->BasePriority)
        Thread->Priority--;
}

/* A mask KeSetSystemAffinityThreadEx accepts: only active processors, at least one of them. */
static BOOLEAN valid_affinity(KAFFINITY Affinity)
{
    return Affinity != 0 && (Affinity & ~KeQueryActiveProcessors()) == 0;
}

/* Lock held: the current thread's affinity becomes Mask; off this processor the DISPATCH interrupt
 * moves it, taken when the caller lowers below DISPATCH_LEVEL (Microsoft's documented deferral). */
static VOID set_affinity(PKTHREAD Self, KAFFINITY Mask)
{
    ULONG here = KeGetCurrentProcessorNumber();

    Self->Affinity.Mask = Mask;
    Self->AffinityVersion++;
    if (!(Mask & (1ull << here)))
        KiRequestReschedule(here);
}

/* Below DISPATCH_LEVEL the documented contract is that the caller returns on an allowed processor. */
static VOID wait_until_allowed(PKTHREAD Self, KIRQL Irql)
{
    while (Irql < DISPATCH_LEVEL && !(Self->Affinity.Mask & (1ull << KeGetCurrentProcessorNumber())))
        arch_pause();
}

KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity)
{
    PKTHREAD self = KeGetCurrentThread();

    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    KAFFINITY previous = (self->MiscFlags & SYSTEM_AFFINITY) ? self->Affinity.Mask : 0;
    if (valid_affinity(Affinity)) {
        self->MiscFlags |= SYSTEM_AFFINITY;
        set_affinity(self, Affinity);
    } else {
        DbgPrint("KeSetSystemAffinityThreadEx: %#llx names no active processor (active %#llx): no effect\n",
                 Affinity, KeQueryActiveProcessors());
    }
    KiReleaseDispatcherLock(irql);
    wait_until_allowed(self, irql);
    return previous;
}

VOID KeRevertToUserAffinityThreadEx(KAFFINITY Affinity)
{
    PKTHREAD self = KeGetCurrentThread();

    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    if (!(self->MiscFlags & SYSTEM_AFFINITY)) { /* documented: no effect without a system affinity */
        KiReleaseDispatcherLock(irql);
        return;
    }
    if (Affinity == 0) {
        self->MiscFlags &= ~SYSTEM_AFFINITY;
        set_affinity(self, self->UserAffinity.Mask);
    } else if (valid_affinity(Affinity)) {
        set_affinity(self, Affinity);
    }
    KiReleaseDispatcherLock(irql);
    wait_until_allowed(self, irql);
}

NTSTATUS ZwYieldExecution(VOID)
{
    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    KiRequestQuantumEnd(KeGetCurrentProcessorNumber()); /* the DISPATCH interrupt looks for a ready peer */
    KiReleaseDispatcherLock(irql);
    return STATUS_SUCCESS;
}

/* The idle thread's first instructions (the boot processor's, whose idle thread has a new stack). */
static VOID KiIdleThreadStartup(PVOID Unused1, PVOID Unused2)
{
    UNREFERENCED_PARAMETER(Unused1);
    UNREFERENCED_PARAMETER(Unused2);
    arch_write_cr8(DISPATCH_LEVEL);
    arch_enable_interrupts();
    KiIdleLoop();
}

/* Boot processor, phase 1: this context becomes the initial thread; the idle thread gets a stack. */
VOID KiInitializeBootThreads(PKI_PROCESSOR Processor)
{
    PKPRCB prcb = &Processor->Pcr.Prcb;
    ULONG64 idle_stack = (ULONG64)MmCreateKernelStack(KERNEL_STACK_PAGES);

    if (idle_stack == 0)
        KeBugCheckEx(INSTALL_MORE_MEMORY, MmGetFreePageCount(), 0, 0, 0);
    InitializeListHead(&KiSystemProcess.ThreadListHead);
    KiSystemProcess.Header.Type = ProcessObject;
    InitializeListHead(&KiSystemProcess.Header.WaitListHead);
    KeInitializeSpinLock(&KiDispatcherLock);
    init_thread(&KiInitialThread, Processor->StackTop[KI_STACK_KERNEL], KERNEL_STACK_PAGES, INITIAL_PRIORITY);
    KiInitialThread.Affinity.Mask = prcb->GroupSetMember; /* the boot sequence and the tests stay on CPU 0 */
    KiInitialThread.UserAffinity.Mask = prcb->GroupSetMember;
    KiInitialThread.State = Running;
    KiInitialThread.Running = 1;
    InsertTailList(&KiSystemProcess.ThreadListHead, &KiInitialThread.ThreadListEntry);
    init_thread(&Processor->IdleThread, idle_stack, KERNEL_STACK_PAGES, LOW_PRIORITY);
    Processor->IdleThread.KernelStack = (PVOID)arch_thread_stack(idle_stack, KiIdleThreadStartup, NULL, NULL);
    Processor->IdleThread.State = Ready;
    Processor->IdleThread.Affinity.Mask = prcb->GroupSetMember;
    prcb->IdleThread = &Processor->IdleThread;
    prcb->CurrentThread = &KiInitialThread;
}

/* An application processor, on itself: its start-up context is its idle thread, running now. */
VOID KiInitializeIdleThread(PKI_PROCESSOR Processor)
{
    PKTHREAD idle = &Processor->IdleThread;

    init_thread(idle, Processor->StackTop[KI_STACK_KERNEL], KERNEL_STACK_PAGES, LOW_PRIORITY);
    idle->MiscFlags &= ~KI_MISC_APC_QUEUEABLE; /* it never runs below DISPATCH_LEVEL to take one */
    idle->State = Running;
    idle->Running = 1;
    idle->Affinity.Mask = Processor->Pcr.Prcb.GroupSetMember;
    idle->NextProcessor = Processor->Pcr.Prcb.Number;
    Processor->Pcr.Prcb.IdleThread = idle;
    Processor->Pcr.Prcb.CurrentThread = idle;
}
