/*
 * wait.c - events and waits (include/irqlab/wait.h).
 *
 * NT blocks the waiting thread and lets the scheduler run another; irqlab
 * has one flow of control per CPU and no scheduler, so a wait polls the
 * object with interrupts on, and the DPCs and ISRs that signal it run in
 * between.  A single-object wait registers itself in its CPU's slot
 * (KiWaiter), and KeSetEvent hands the signal to a registered waiter as
 * NT's KiWaitTest does: a synchronization event's one signal to exactly
 * one waiter, a notification event's to all.  What NT forbids is kept
 * forbidden and made loud: a wait that would block at DISPATCH_LEVEL or
 * above has no thread to switch from, and bugchecks (in a DPC routine with
 * NT's own code, 0xB8).
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/timer.h>
#include "ki.h"

/* Each CPU's blocking wait, if any (one at most: waits below DISPATCH_LEVEL never nest): the
 * object's address, with bit 0 set once a KeSetEvent has handed it the signal. */
#define KI_GRANTED 1ull
static volatile ULONG_PTR KiWaiter[MAXIMUM_PROCESSORS];

/* Hands the signal to registered waiters: the first one found (All FALSE), or every one. */
static BOOLEAN grant_waiters(PVOID Object, BOOLEAN All)
{
    BOOLEAN granted = FALSE;

    for (LONG n = 0; n < KeNumberProcessors; n++) {
        ULONG_PTR waiting = (ULONG_PTR)Object;
        if (__atomic_compare_exchange_n(&KiWaiter[n], &waiting, waiting | KI_GRANTED, FALSE, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            granted = TRUE;
            if (!All)
                break;
        }
    }
    return granted;
}

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

/* A synchronization event's signal goes to one registered waiter, and the event stays unsignaled. */
static LONG set_synchronization(PRKEVENT Event)
{
    LONG previous = __atomic_load_n(&Event->Header.SignalState, __ATOMIC_ACQUIRE);

    if (previous == 0 && grant_waiters(Event, FALSE))
        return 0;
    return __atomic_exchange_n(&Event->Header.SignalState, 1, __ATOMIC_ACQ_REL);
}

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    if (Event->Header.Type == EventSynchronizationObject)
        return set_synchronization(Event);
    LONG previous = __atomic_exchange_n(&Event->Header.SignalState, 1, __ATOMIC_ACQ_REL);
    grant_waiters(Event, TRUE); /* released now, as NT releases them: a reset cannot take it back */
    return previous;
}

LONG KeResetEvent(PRKEVENT Event)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    return __atomic_exchange_n(&Event->Header.SignalState, 0, __ATOMIC_ACQ_REL);
}

VOID KeClearEvent(PRKEVENT Event)
{
    KeResetEvent(Event);
}

LONG KeReadStateEvent(PRKEVENT Event)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    return __atomic_load_n(&Event->Header.SignalState, __ATOMIC_ACQUIRE);
}

static BOOLEAN is_synchronization(const DISPATCHER_HEADER *Header)
{
    return Header->Type == EventSynchronizationObject || Header->Type == TimerSynchronizationObject;
}

static BOOLEAN is_event(const DISPATCHER_HEADER *Header)
{
    return Header->Type == EventNotificationObject || Header->Type == EventSynchronizationObject;
}

/* A synchronization object's signal taken, if it has one (NT: the wait is satisfied). */
static BOOLEAN take_signal(DISPATCHER_HEADER *Header)
{
    LONG signaled = 1;

    return __atomic_compare_exchange_n(&Header->SignalState, &signaled, 0, FALSE, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

/* TRUE when the object's state satisfies a wait; a synchronization object's signal is taken. */
static BOOLEAN try_satisfy(DISPATCHER_HEADER *Header)
{
    if (is_synchronization(Header))
        return take_signal(Header);
    return __atomic_load_n(&Header->SignalState, __ATOMIC_ACQUIRE) != 0;
}

/*
 * A wait that would have to block at Irql.  NT's context switch finds the DPC
 * (0xB8); outside one, what NT does is not public; irqlab stops at once, with
 * a line that names the object.
 */
static DECLSPEC_NORETURN VOID wait_at_raised_irql(PCSTR Routine, PVOID Object, KIRQL Irql, PVOID Caller)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 rsp = arch_stack_pointer();

    DbgPrint("%s(%016llx) at IRQL %u (%s)%s: a wait may block only at APC_LEVEL or below\n", Routine,
             (ULONG64)Object, Irql, KeIrqlName(Irql), prcb->DpcRoutineActive ? " in a DPC routine" : "");
    if (prcb->DpcRoutineActive) /* P1/P2 would be the old and new threads; irqlab has none */
        KeBugCheckEx(ATTEMPTED_SWITCH_FROM_DPC, 0, 0, rsp, 0);
    KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)Object, Irql, 0, (ULONG_PTR)Caller);
}

/* The interrupt time a Timeout ends at: ~0 for none, now for zero. */
static ULONG64 deadline(PLARGE_INTEGER Timeout)
{
    if (Timeout == NULL)
        return ~0ull;
    if (Timeout->QuadPart < 0)
        return KeQueryInterruptTime() + (ULONG64)-Timeout->QuadPart;
    return (ULONG64)Timeout->QuadPart; /* absolute: irqlab's system time is the interrupt time */
}

/* Microsoft's rule: at DISPATCH_LEVEL only a zero timeout; above it, no wait at all. */
static BOOLEAN may_block(PLARGE_INTEGER Timeout)
{
    return KeGetCurrentIrql() <= APC_LEVEL || (Timeout != NULL && Timeout->QuadPart == 0);
}

static VOID check_wait_irql(PCSTR Routine, PVOID Object, PVOID Caller)
{
    KIRQL irql = KeGetCurrentIrql();

    if (irql > DISPATCH_LEVEL)
        wait_at_raised_irql(Routine, Object, irql, Caller);
}

static BOOLEAN is_waitable(const DISPATCHER_HEADER *Header)
{
    return is_event(Header) || Header->Type == TimerNotificationObject || Header->Type == TimerSynchronizationObject;
}

/* The wait proper, registered in this CPU's slot; a signal handed over but not used is passed on. */
static NTSTATUS poll_registered(DISPATCHER_HEADER *Header, ULONG64 End)
{
    PULONG_PTR slot = (PULONG_PTR)&KiWaiter[KeGetCurrentProcessorNumber()];
    NTSTATUS status = STATUS_TIMEOUT;

    ASSERT(*slot == 0);
    __atomic_store_n(slot, (ULONG_PTR)Header, __ATOMIC_SEQ_CST);
    for (;; arch_pause()) {
        if (__atomic_load_n(slot, __ATOMIC_ACQUIRE) & KI_GRANTED) {
            __atomic_store_n(slot, 0, __ATOMIC_RELEASE);
            return STATUS_SUCCESS;
        }
        if (try_satisfy(Header)) {
            status = STATUS_SUCCESS;
            break;
        }
        if (KeQueryInterruptTime() >= End)
            break;
    }
    /* A set may have picked this slot just as the wait ended otherwise: that signal is not ours. */
    if ((__atomic_exchange_n(slot, 0, __ATOMIC_ACQ_REL) & KI_GRANTED) && Header->Type == EventSynchronizationObject)
        KeSetEvent((PRKEVENT)Header, 0, FALSE);
    return status;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    DISPATCHER_HEADER *header = Object;

    UNREFERENCED_PARAMETER(WaitReason);
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    check_wait_irql("KeWaitForSingleObject", Object, __builtin_return_address(0));
    ASSERT(is_waitable(header));
    /* NT satisfies a wait on a signaled object without a switch, whatever the timeout. */
    if (try_satisfy(header))
        return STATUS_SUCCESS;
    if (Timeout != NULL && Timeout->QuadPart == 0)
        return STATUS_TIMEOUT;
    if (!may_block(Timeout))
        wait_at_raised_irql("KeWaitForSingleObject", Object, KeGetCurrentIrql(), __builtin_return_address(0));
    return poll_registered(header, deadline(Timeout));
}

/*
 * WaitAll: every object signaled at one look, then the synchronization ones
 * taken; if another waiter took one first, the ones already taken are given
 * back and the wait goes on, so no object is consumed by a wait that fails.
 */
static BOOLEAN try_satisfy_all(DISPATCHER_HEADER **Headers, ULONG Count)
{
    for (ULONG i = 0; i < Count; i++)
        if (__atomic_load_n(&Headers[i]->SignalState, __ATOMIC_ACQUIRE) == 0)
            return FALSE;
    for (ULONG i = 0; i < Count; i++) {
        if (!is_synchronization(Headers[i]) || take_signal(Headers[i]))
            continue;
        while (i-- > 0)
            if (is_synchronization(Headers[i]))
                __atomic_store_n(&Headers[i]->SignalState, 1, __ATOMIC_RELEASE);
        return FALSE;
    }
    return TRUE;
}

NTSTATUS KeWaitForMultipleObjects(ULONG Count, PVOID Object[], WAIT_TYPE WaitType, KWAIT_REASON WaitReason,
                                  KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Timeout,
                                  PKWAIT_BLOCK WaitBlockArray)
{
    DISPATCHER_HEADER **headers = (DISPATCHER_HEADER **)Object;

    UNREFERENCED_PARAMETER(WaitReason);
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    check_wait_irql("KeWaitForMultipleObjects", Object, __builtin_return_address(0));
    /* NT: more than THREAD_WAIT_OBJECTS needs the caller's wait blocks; never more than 64. */
    if (Count > MAXIMUM_WAIT_OBJECTS || (Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL))
        KeBugCheckEx(MAXIMUM_WAIT_OBJECTS_EXCEEDED, Count, (ULONG_PTR)WaitBlockArray, 0, 0);
    if (Count == 0)
        return STATUS_INVALID_PARAMETER;
    ASSERT(WaitType == WaitAll || WaitType == WaitAny);
    for (ULONG i = 0; i < Count; i++)
        ASSERT(is_waitable(headers[i]));
    for (ULONG64 end = deadline(Timeout), look = 0;; arch_pause(), look++) {
        if (WaitType == WaitAll && try_satisfy_all(headers, Count))
            return STATUS_SUCCESS;
        for (ULONG i = 0; WaitType == WaitAny && i < Count; i++)
            if (try_satisfy(headers[i]))
                return STATUS_WAIT_0 + (NTSTATUS)i;
        if (look == 0 && !may_block(Timeout)) /* signaled at the first look: no switch, as NT */
            wait_at_raised_irql("KeWaitForMultipleObjects", Object, KeGetCurrentIrql(), __builtin_return_address(0));
        if (KeQueryInterruptTime() >= end)
            return STATUS_TIMEOUT;
    }
}

NTSTATUS KeDelayExecutionThread(KPROCESSOR_MODE WaitMode, BOOLEAN Alertable, PLARGE_INTEGER Interval)
{
    KIRQL irql = KeGetCurrentIrql();

    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    if (irql > APC_LEVEL)
        wait_at_raised_irql("KeDelayExecutionThread", Interval, irql, __builtin_return_address(0));
    if (Interval == NULL) /* NT requires one; without it the delay would never end */
        return STATUS_INVALID_PARAMETER;
    for (ULONG64 end = deadline(Interval); KeQueryInterruptTime() < end;)
        arch_pause();
    return STATUS_SUCCESS;
}
