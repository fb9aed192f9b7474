/*
 * wait.c - dispatcher objects and waits (include/irqlab/wait.h): events,
 * KeWaitForSingleObject, KeWaitForMultipleObjects, KeDelayExecutionThread.
 *
 * As in NT, a wait that cannot be satisfied at once links one wait block
 * per object on the object's WaitListHead (the thread's own WaitBlock[0-2],
 * or the caller's array), plus WaitBlock[3] on the thread's timer for a
 * timeout, and the thread leaves the processor (KiSwapThread).  Whoever
 * signals the object runs KiWaitTest under the dispatcher lock, which ends
 * the waits the new state satisfies: a synchronization object's one signal
 * goes to exactly one waiter.  What NT forbids is kept forbidden and made
 * loud: a wait that would block at DISPATCH_LEVEL bugchecks, inside a DPC
 * routine with 0xB8 because the switch really is attempted.
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/thread.h>
#include <irqlab/timer.h>
#include "ki.h"

#define WAIT_NEXT (1u << 2) /* KTHREAD.MiscFlags.WaitNext: KeSetEvent(Wait TRUE) kept the lock */

VOID KeInitializeEvent(PRKEVENT Event, EVENT_TYPE Type, BOOLEAN State)
{
    ASSERT(Type == NotificationEvent || Type == SynchronizationEvent);
    Event->Header.Type = Type == NotificationEvent ? EventNotificationObject : EventSynchronizationObject;
    Event->Header.TimerControlFlags = 0;
    Event->Header.Hand = 0;
    Event->Header.TimerMiscFlags = 0;
    Event->Header.SignalState = State ? 1 : 0;
    InitializeListHead(&Event->Header.WaitListHead);
}

/* Lock held.  Does the object satisfy a wait by Thread?  A mutex does for its owner too. */
static BOOLEAN signaled_for(const DISPATCHER_HEADER *Header, PKTHREAD Thread)
{
    if (Header->Type == MutantObject)
        return Header->SignalState > 0 || ((const KMUTANT *)Header)->OwnerThread == Thread;
    return Header->SignalState > 0;
}

/* Lock held.  What a satisfied wait takes: a synchronization object's signal, a semaphore's unit,
 * a mutex's ownership (once more, for its owner); a notification object keeps its state. */
static VOID take_for(DISPATCHER_HEADER *Header, PKTHREAD Thread)
{
    if (Header->Type == EventSynchronizationObject || Header->Type == TimerSynchronizationObject) {
        Header->SignalState = 0;
    } else if (Header->Type == SemaphoreObject) {
        Header->SignalState--;
    } else if (Header->Type == MutantObject && --Header->SignalState == 0) {
        PKMUTANT mutant = (PKMUTANT)Header;
        mutant->OwnerThread = Thread;
        InsertHeadList(&Thread->MutantListHead, &mutant->MutantListEntry);
        Thread->KernelApcDisable -= mutant->ApcDisable; /* the WRK's KiWaitSatisfyMutant: a critical region */
    }
}

/* Lock held.  Ends Thread's wait with Status: off every wait list, its timer cancelled, boosted, ready. */
VOID KiUnwaitThread(PKTHREAD Thread, LONG_PTR Status, KPRIORITY Increment)
{
    for (ULONG i = 0; i < Thread->WaitBlockCount; i++) {
        PKWAIT_BLOCK wb = &Thread->WaitBlockList[i];
        if (wb->BlockState)
            RemoveEntryList(&wb->WaitListEntry);
        wb->BlockState = 0;
    }
    PKWAIT_BLOCK timer = &Thread->WaitBlock[TIMER_WAIT_BLOCK];
    if (timer->BlockState) {
        RemoveEntryList(&timer->WaitListEntry);
        timer->BlockState = 0;
        KiCancelTimerLocked(&Thread->Timer);
    }
    Thread->WaitStatus = Status;
    KiBoostPriority(Thread, Increment);
    KiReadyThread(Thread);
}

/* Lock held.  WaitAll: are all of the thread's objects signaled for it?  Then take them. */
static BOOLEAN take_all(PKTHREAD Thread)
{
    for (ULONG i = 0; i < Thread->WaitBlockCount; i++)
        if (!signaled_for(Thread->WaitBlockList[i].Object, Thread))
            return FALSE;
    for (ULONG i = 0; i < Thread->WaitBlockCount; i++)
        take_for(Thread->WaitBlockList[i].Object, Thread);
    return TRUE;
}

/* Lock held.  NT's KiWaitTest: ends the waits on Object that its state now satisfies, in order. */
VOID KiWaitTest(DISPATCHER_HEADER *Object, KPRIORITY Increment)
{
    PLIST_ENTRY e = Object->WaitListHead.Flink;

    while (e != &Object->WaitListHead && Object->SignalState > 0) {
        PKWAIT_BLOCK wb = CONTAINING_RECORD(e, KWAIT_BLOCK, WaitListEntry);
        e = e->Flink; /* KiUnwaitThread unlinks wb */
        if (wb->WaitType == WaitAll) {
            if (take_all(wb->Thread))
                KiUnwaitThread(wb->Thread, STATUS_WAIT_0, Increment);
            continue;
        }
        take_for(Object, wb->Thread);
        KiUnwaitThread(wb->Thread, wb->WaitKey, Increment);
    }
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 1;
    KiWaitTest(&Event->Header, Increment);
    KiEndSignal(irql, Wait);
    return previous;
}

/* The end of a KeSetEvent, KeReleaseMutex or KeReleaseSemaphore: with Wait TRUE, NT's contract keeps
 * the dispatcher lock (and the raised IRQL) for the wait the caller makes next. */
VOID KiEndSignal(KIRQL OldIrql, BOOLEAN Wait)
{
    if (!Wait) {
        KiReleaseDispatcherLock(OldIrql);
        return;
    }
    PKTHREAD self = KeGetCurrentThread();
    self->WaitIrql = OldIrql;
    self->MiscFlags |= WAIT_NEXT;
}

LONG KeResetEvent(PRKEVENT Event)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    LONG previous = Event->Header.SignalState;
    Event->Header.SignalState = 0;
    KiReleaseDispatcherLock(irql);
    return previous;
}

VOID KeClearEvent(PRKEVENT Event)
{
    __atomic_store_n(&Event->Header.SignalState, 0, __ATOMIC_RELEASE);
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    return __atomic_load_n(&Event->Header.SignalState, __ATOMIC_ACQUIRE);
}

/*
 * A wait that would have to block at Irql and is not in a DPC routine: NT
 * documents the rule, but what it does there without Driver Verifier is
 * not public; irqlab stops at once with a line that names the object.
 */
static DECLSPEC_NORETURN VOID wait_at_raised_irql(PCSTR Routine, PVOID Object, KIRQL Irql, PVOID Caller)
{
    DbgPrint("%s(%016llx) at IRQL %u (%s): a wait may block only at APC_LEVEL or below\n", Routine,
             (ULONG64)Object, Irql, KeIrqlName(Irql));
    KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Object, Irql, 0, (ULONG_PTR)Caller);
}

/* Lock held.  Satisfied at once?  WaitAny: the first signaled object's index; WaitAll: 0; else -1. */
static LONG satisfy_now(PKTHREAD Thread, ULONG Count, PVOID Objects[], WAIT_TYPE WaitType)
{
    if (WaitType == WaitAny) {
        for (ULONG i = 0; i < Count; i++) {
            if (signaled_for(Objects[i], Thread)) {
                take_for(Objects[i], Thread);
                return (LONG)i;
            }
        }
        return -1;
    }
    for (ULONG i = 0; i < Count; i++)
        if (!signaled_for(Objects[i], Thread))
            return -1;
    for (ULONG i = 0; i < Count; i++)
        take_for(Objects[i], Thread);
    return 0;
}

/* Lock held.  Links the thread's wait blocks (and its timer's, for a timeout) and blocks. */
static VOID block(PKTHREAD Thread, ULONG Count, PVOID Objects[], WAIT_TYPE WaitType, PKWAIT_BLOCK Blocks,
                  ULONG64 Due, KWAIT_REASON WaitReason)
{
    for (ULONG i = 0; i < Count; i++) {
        PKWAIT_BLOCK wb = &Blocks[i];
        wb->Thread = Thread;
        wb->Object = Objects[i];
        wb->WaitKey = (USHORT)i;
        wb->WaitType = (UCHAR)WaitType;
        wb->BlockState = 1;
        InsertTailList(&((DISPATCHER_HEADER *)Objects[i])->WaitListHead, &wb->WaitListEntry);
    }
    Thread->WaitBlockList = Blocks;
    Thread->WaitBlockCount = (UCHAR)Count;
    if (Due != ~0ull) {
        PKWAIT_BLOCK wb = &Thread->WaitBlock[TIMER_WAIT_BLOCK];
        wb->Thread = Thread;
        wb->Object = &Thread->Timer;
        wb->WaitKey = (USHORT)STATUS_TIMEOUT;
        wb->WaitType = WaitAny;
        wb->BlockState = 1;
        InsertTailList(&Thread->Timer.Header.WaitListHead, &wb->WaitListEntry);
        KiSetTimerLocked(&Thread->Timer, Due);
    }
    Thread->State = Waiting;
    Thread->WaitReason = (UCHAR)WaitReason;
    Thread->WaitTime = (ULONG)KeTickCount;
    KiSwapThread();
}

/* The interrupt time a Timeout ends at: ~0 for none. */
static ULONG64 deadline(PLARGE_INTEGER Timeout)
{
    if (Timeout == NULL)
        return ~0ull;
    if (Timeout->QuadPart < 0)
        return KeQueryInterruptTime() + (ULONG64)-Timeout->QuadPart;
    return (ULONG64)Timeout->QuadPart; /* absolute: irqlab's system time is the interrupt time */
}

/* The dispatcher lock, from KeSetEvent(Wait TRUE) or taken now; the caller's IRQL in *Irql. */
static VOID lock_for_wait(PKTHREAD Self, KIRQL *Irql)
{
    if (Self->MiscFlags & WAIT_NEXT) {
        Self->MiscFlags &= ~WAIT_NEXT;
        *Irql = Self->WaitIrql;
        return;
    }
    *Irql = KiAcquireDispatcherLock();
}

/* Lock held.  A kernel APC this thread could take now, if it waited at PASSIVE_LEVEL (NT's check
 * before every wait): the caller lets the lock go, so that the APC interrupt requested here runs. */
static BOOLEAN apc_first(PKTHREAD Self, KIRQL Irql)
{
    if (!Self->ApcState.KernelApcPending || Self->SpecialApcDisable != 0 || Irql != PASSIVE_LEVEL)
        return FALSE;
    HalRequestSoftwareInterrupt(APC_LEVEL);
    return TRUE;
}

/* The common wait.  Count 0 with a timeout is a delay.  A wait that gives way to a kernel APC
 * (STATUS_KERNEL_APC) starts again once the APC has run, with the same deadline. */
static NTSTATUS wait(ULONG Count, PVOID Objects[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                     PLARGE_INTEGER Timeout, PKWAIT_BLOCK Blocks, PCSTR Routine, PVOID Caller)
{
    PKTHREAD self = KeGetCurrentThread();
    ULONG64 due = deadline(Timeout);
    KIRQL irql;

    for (;;) {
        lock_for_wait(self, &irql);
        if (irql > DISPATCH_LEVEL)
            wait_at_raised_irql(Routine, Count ? Objects[0] : NULL, irql, Caller);
        if (apc_first(self, irql)) {
            KiReleaseDispatcherLock(irql);
            continue;
        }
        LONG index = Count ? satisfy_now(self, Count, Objects, WaitType) : -1;
        if (index >= 0 || (Timeout != NULL && (Timeout->QuadPart == 0 || KeQueryInterruptTime() >= due))) {
            KiReleaseDispatcherLock(irql);
            return index >= 0 ? STATUS_WAIT_0 + index : STATUS_TIMEOUT;
        }
        if (irql == DISPATCH_LEVEL && !KeGetCurrentPrcb()->DpcRoutineActive)
            wait_at_raised_irql(Routine, Count ? Objects[0] : NULL, irql, Caller);
        self->WaitIrql = irql;
        block(self, Count, Objects, WaitType, Blocks, due, WaitReason);
        arch_enable_interrupts();
        KeLowerIrql(irql); /* a kernel APC that ended the wait runs here */
        if (self->WaitStatus != STATUS_KERNEL_APC)
            return (NTSTATUS)self->WaitStatus;
    }
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    PVOID objects[1] = { Object };

    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    return wait(1, objects, WaitAny, WaitReason, Timeout, KeGetCurrentThread()->WaitBlock, "KeWaitForSingleObject",
                __builtin_return_address(0));
}

NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray)
{
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    /* NT: more than THREAD_WAIT_OBJECTS needs the caller's wait blocks; never more than 64. */
    if (Count > MAXIMUM_WAIT_OBJECTS || (Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL))
        KeBugCheckEx(MAXIMUM_WAIT_OBJECTS_EXCEEDED, Count, (ULONG_PTR)WaitBlockArray, 0, 0);
    if (Count == 0)
        return STATUS_INVALID_PARAMETER;
    ASSERT(WaitType == WaitAll || WaitType == WaitAny);
    PKWAIT_BLOCK blocks = WaitBlockArray ? WaitBlockArray : KeGetCurrentThread()->WaitBlock;
    return wait(Count, Object, WaitType, WaitReason, Timeout, blocks, "KeWaitForMultipleObjects",
                __builtin_return_address(0));
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    KIRQL irql = KeGetCurrentIrql();
    if (irql > APC_LEVEL)
        wait_at_raised_irql("KeDelayExecutionThread", Interval, irql, __builtin_return_address(0));
    if (Interval == NULL) /* NT requires one; without it the delay would never end */
        return STATUS_INVALID_PARAMETER;
    NTSTATUS status = wait(0, NULL, WaitAny, DelayExecution, Interval, NULL, "KeDelayExecutionThread",
                           __builtin_return_address(0));
    return status == STATUS_TIMEOUT ? STATUS_SUCCESS : status;
}
