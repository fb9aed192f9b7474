/*
 * dispatch.c - the thread dispatcher: per-processor ready queues, choosing
 * the next thread, and the switch itself.
 *
 * As in NT, each KPRCB keeps 32 ready queues (DispatcherReadyListHead, one
 * per priority) with ReadySummary's bit n set while queue n holds a thread,
 * and NextThread, the thread chosen to run there next (NT's Standby).  One
 * dispatcher lock, taken at SYNCH_LEVEL, guards the queues, the thread
 * states and every wait list: the design of NT up to Windows 7 (later NT
 * splits it into per-object and per-processor locks; docs/deviations.md).
 *
 * A switch is a call: arch_switch_context saves the callee-saved registers
 * and RSP of the old thread and resumes the new one where it last called
 * it, with interrupts off and IRQL at SYNCH_LEVEL; each place a thread can
 * resume (a wait, the DISPATCH interrupt, the idle loop, a new thread's
 * start) puts its own IRQL back.  KTHREAD.Running keeps another CPU from
 * resuming a thread whose registers are still being saved.
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
#include <irqlab/spinlock.h>
#include <irqlab/thread.h>
#include "kx.h"

KSPIN_LOCK KiDispatcherLock;
static volatile LONG KiReadyCount; /* threads in any ready queue, so an idle CPU knows to look */

KIRQL KiAcquireDispatcherLock(VOID)
{
    KIRQL old = KeGetCurrentIrql();

    if (old < SYNCH_LEVEL)
        KxRaiseIrqlFrom(old, SYNCH_LEVEL);
    KxAcquireSpinLock(&KiDispatcherLock, old < SYNCH_LEVEL ? SYNCH_LEVEL : old);
    return old;
}

VOID KiReleaseDispatcherLock(KIRQL OldIrql)
{
    KxReleaseSpinLock(&KiDispatcherLock);
    if (OldIrql < SYNCH_LEVEL)
        KxLowerIrql(SYNCH_LEVEL, OldIrql);
}

/* Lock held.  Front: a preempted thread goes back to the head of its queue (NT), others to the tail. */
static VOID queue_ready(PKPRCB Prcb, PKTHREAD Thread, BOOLEAN Front)
{
    PLIST_ENTRY head = &Prcb->DispatcherReadyListHead[(UCHAR)Thread->Priority];

    if (Front)
        InsertHeadList(head, &Thread->WaitListEntry);
    else
        InsertTailList(head, &Thread->WaitListEntry);
    Prcb->ReadySummary |= 1u << Thread->Priority;
    Thread->State = Ready;
    Thread->NextProcessor = Prcb->Number;
    __atomic_add_fetch(&KiReadyCount, 1, __ATOMIC_RELAXED);
}

/* Lock held.  The first ready thread on Prcb's queues at or above Minimum that may run on Cpu. */
static PKTHREAD take_ready(PKPRCB Prcb, LONG Minimum, ULONG Cpu)
{
    for (LONG p = HIGH_PRIORITY; p >= Minimum; p--) {
        PLIST_ENTRY head = &Prcb->DispatcherReadyListHead[p];
        if (!(Prcb->ReadySummary & (1u << p)))
            continue;
        for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink) {
            PKTHREAD t = CONTAINING_RECORD(e, KTHREAD, WaitListEntry);
            if (!(t->Affinity.Mask & (1ull << Cpu)))
                continue;
            RemoveEntryList(e);
            if (IsListEmpty(head))
                Prcb->ReadySummary &= ~(1u << p);
            __atomic_sub_fetch(&KiReadyCount, 1, __ATOMIC_RELAXED);
            return t;
        }
    }
    return NULL;
}

/* Lock held.  The thread to run next on Prcb: its standby one, its own queues, then another CPU's. */
static PKTHREAD select_next(PKPRCB Prcb, LONG Minimum)
{
    PKTHREAD next = Prcb->NextThread;

    if (next) {
        Prcb->NextThread = NULL;
        return next;
    }
    if ((next = take_ready(Prcb, Minimum, Prcb->Number)) != NULL)
        return next;
    for (LONG n = 0; n < KeNumberProcessors && KiReadyCount; n++)
        if (KiProcessorBlock[n] != Prcb && (next = take_ready(KiProcessorBlock[n], Minimum, Prcb->Number)))
            return next;
    return NULL;
}

/* Asks processor Number to look at its NextThread: the DISPATCH interrupt, here or by IPI. */
static VOID request_dispatch(ULONG Number)
{
    if (Number == KeGetCurrentProcessorNumber())
        HalRequestSoftwareInterrupt(DISPATCH_LEVEL);
    else
        KiIpiSend(1ull << Number, KI_IPI_DPC);
}

/* Lock held.  Takes a Ready thread off its queue; FALSE if it was on none. */
BOOLEAN KiUnreadyThread(PKTHREAD Thread)
{
    PKPRCB prcb = KiProcessorBlock[Thread->NextProcessor];
    PLIST_ENTRY head = &prcb->DispatcherReadyListHead[(UCHAR)Thread->Priority];

    if (Thread->State != Ready)
        return FALSE;
    RemoveEntryList(&Thread->WaitListEntry);
    if (IsListEmpty(head))
        prcb->ReadySummary &= ~(1u << Thread->Priority);
    __atomic_sub_fetch(&KiReadyCount, 1, __ATOMIC_RELAXED);
    Thread->State = Initialized;
    return TRUE;
}

/* Lock held.  Processor Number looks for a ready thread of its running thread's priority or more. */
VOID KiRequestQuantumEnd(ULONG Number)
{
    KiProcessorBlock[Number]->QuantumEnd = TRUE;
    request_dispatch(Number);
}

/* Lock held.  Processor Number looks again at its running thread (whose affinity has changed). */
VOID KiRequestReschedule(ULONG Number)
{
    request_dispatch(Number);
}

/* The priority a processor runs at, counting the thread already chosen for it. */
static LONG running_priority(PKPRCB Prcb)
{
    PKTHREAD t = Prcb->NextThread ? Prcb->NextThread : Prcb->CurrentThread;

    return t == Prcb->IdleThread ? -1 : t->Priority;
}

/*
 * Lock held.  NT's KiReadyThread: an idle processor the thread may run on
 * takes it; else the one running the lowest priority below the thread's is
 * preempted; else it waits in the ready queue of the processor it last ran
 * on (or the first it may run on).
 */
VOID KiReadyThread(PKTHREAD Thread)
{
    KAFFINITY allowed = Thread->Affinity.Mask & KeQueryActiveProcessors();
    PKPRCB victim = NULL;

    ASSERT(allowed != 0);
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        PKPRCB p = KiProcessorBlock[n];
        if (!(allowed & (1ull << n)))
            continue;
        LONG priority = running_priority(p);
        if (victim == NULL || priority < running_priority(victim))
            victim = p;
        if (priority < 0) /* an idle processor: nothing does better */
            break;
    }
    if (victim && running_priority(victim) < Thread->Priority) {
        if (victim->NextThread) /* displaced from standby: back in line */
            queue_ready(victim, victim->NextThread, TRUE);
        victim->NextThread = Thread;
        Thread->State = Standby;
        Thread->NextProcessor = victim->Number;
        request_dispatch(victim->Number);
        return;
    }
    ULONG home = Thread->NextProcessor;
    if (!(allowed & (1ull << home)))
        home = (ULONG)__builtin_ctzll(allowed);
    queue_ready(KiProcessorBlock[home], Thread, FALSE);
}

/* Interrupts off, IRQL >= DISPATCH_LEVEL, lock released.  Resumes Next here; returns when Old resumes. */
static VOID switch_to(PKTHREAD Old, PKTHREAD Next)
{
    if (Old == Next) {
        Next->State = Running;
        return;
    }
    while (__atomic_load_n(&Next->Running, __ATOMIC_ACQUIRE)) /* still being saved on its last CPU */
        arch_pause();
    KI_TRACE(KTRACE_CAT_CSWITCH, KTRACE_CONTEXT_SWITCH, KI_TRACE_READ_IRQL, Old->State | Old->WaitReason << 8, 0,
             Next); /* interrupts off: the two records stay together */
    KI_TRACE(KTRACE_CAT_CSWITCH, KTRACE_EXTENSION, KI_TRACE_READ_IRQL, 0, 0, Old);
    Next->Running = 1;
    Next->ContextSwitches++;
    arch_switch_context((ULONG64 *)&Old->KernelStack, (ULONG64)Next->KernelStack, &Old->Running);
}

/* Lock held: makes Next the running thread here and switches to it; releases the lock. */
static VOID run_next(PKPRCB Prcb, PKTHREAD Old, PKTHREAD Next)
{
    Prcb->CurrentThread = Next;
    Next->State = Running;
    Next->NextProcessor = Prcb->Number;
    Next->WaitPrcb = NULL;
    if (Next->ApcState.KernelApcPending && Next->SpecialApcDisable == 0) /* NT's SwapContext: its APC */
        HalRequestSoftwareInterrupt(APC_LEVEL);                           /* interrupt, taken at PASSIVE */
    KxReleaseSpinLock(&KiDispatcherLock);
    arch_disable_interrupts();
    switch_to(Old, Next);
}

/*
 * Lock held at SYNCH_LEVEL; the current thread has left the Running state
 * (it waits or has terminated).  Runs the next thread; returns, with the
 * lock released, interrupts off and IRQL at SYNCH_LEVEL, once this thread
 * is resumed.  NT's KiSwapThread; inside a DPC routine it is NT's 0xB8.
 */
VOID KiSwapThread(VOID)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    PKTHREAD old = prcb->CurrentThread, next = select_next(prcb, 0);

    if (next == NULL)
        next = prcb->IdleThread;
    if (prcb->DpcRoutineActive) /* a DPC borrowed this thread: there is nothing it may switch from */
        KeBugCheckEx(ATTEMPTED_SWITCH_FROM_DPC, (ULONG_PTR)old, (ULONG_PTR)next, (ULONG_PTR)old->InitialStack, 0);
    run_next(prcb, old, next);
}

/*
 * The DISPATCH interrupt's second half (NT's KiDispatchInterrupt), after the
 * DPC queue, interrupts off at DISPATCH_LEVEL: run the thread chosen for
 * this processor, or at quantum end a ready one of the same priority.
 */
VOID KiDispatchNextThread(PKPRCB Prcb)
{
    PKTHREAD old = Prcb->CurrentThread;
    BOOLEAN leave = old != Prcb->IdleThread && !(old->Affinity.Mask & Prcb->GroupSetMember);

    if (Prcb->NextThread == NULL && !Prcb->QuantumEnd && !leave)
        return;
    KIRQL irql = KiAcquireDispatcherLock();
    BOOLEAN quantum_end = Prcb->QuantumEnd;
    Prcb->QuantumEnd = FALSE;
    if (quantum_end) {
        old->QuantumTarget = old->QuantumReset;
        KiDecayPriority(old);
    }
    PKTHREAD next = select_next(Prcb, leave ? 0 : quantum_end ? old->Priority : HIGH_PRIORITY + 1);
    if (next == NULL && leave) /* its new affinity excludes this processor: it goes even to idle */
        next = Prcb->IdleThread;
    if (next == NULL || old == Prcb->IdleThread) {
        if (next) /* the idle loop switches by itself */
            Prcb->NextThread = next;
        KiReleaseDispatcherLock(irql);
        return;
    }
    old->Preempted = !quantum_end && !leave;
    if (leave)
        KiReadyThread(old); /* to a processor its affinity allows */
    else
        queue_ready(Prcb, old, !quantum_end);
    run_next(Prcb, old, next);
    KxLowerIrql(SYNCH_LEVEL, irql);
}

/* The idle thread, at DISPATCH_LEVEL: a thread chosen for it, or one in its own ready queues?  (A
 * thread queued elsewhere is taken by a processor that goes idle, in KiSwapThread.) */
BOOLEAN KiIdleHasWork(PKPRCB Prcb)
{
    return Prcb->NextThread != NULL || Prcb->ReadySummary != 0;
}

/* The idle thread leaves the processor to a ready thread, if one may run here. */
VOID KiIdleSchedule(PKPRCB Prcb)
{
    KIRQL irql = KiAcquireDispatcherLock();
    PKTHREAD next = select_next(Prcb, 0);

    if (next == NULL) {
        KiReleaseDispatcherLock(irql);
        return;
    }
    run_next(Prcb, Prcb->IdleThread, next);
    KxLowerIrql(SYNCH_LEVEL, irql);
}

ULONG KiQueryReadyThreads(ULONG Processor, PKTHREAD *Threads, ULONG Max)
{
    PKPRCB prcb = KiProcessorBlock[Processor];
    ULONG n = 0;

    KIRQL irql = KiAcquireDispatcherLock();
    for (LONG p = HIGH_PRIORITY; p >= 0; p--) {
        PLIST_ENTRY head = &prcb->DispatcherReadyListHead[p];
        for (PLIST_ENTRY e = head->Flink; e != head && n < Max; e = e->Flink)
            Threads[n++] = CONTAINING_RECORD(e, KTHREAD, WaitListEntry);
    }
    KiReleaseDispatcherLock(irql);
    return n;
}
