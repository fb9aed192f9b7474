/*
 * wait.c - events and waits (include/irqlab/wait.h).
 *
 * NT blocks the waiting thread and lets the scheduler run another; irqlab
 * has one flow of control per CPU and no scheduler, so a wait polls the
 * object with interrupts on, and the DPCs and ISRs that signal it run in
 * between.  What NT forbids is kept forbidden and made loud: a wait that
 * would block at DISPATCH_LEVEL or above has no thread to switch from, and
 * bugchecks (in a DPC routine with NT's own code, 0xB8).
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/timer.h>
#include "ki.h"

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

LONG KeSetEvent(PRKEVENT Event, KPRIORITY Increment, BOOLEAN Wait)
{
    UNREFERENCED_PARAMETER(Increment);
    UNREFERENCED_PARAMETER(Wait);
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    LONG previous = __atomic_exchange_n(&Event->Header.SignalState, 1, __ATOMIC_ACQ_REL);
    __atomic_add_fetch(&Event->Header.Hand, 1, __ATOMIC_RELEASE); /* after the signal: seen even if reset at once */
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

/*
 * TRUE when the object is signaled; a synchronization object's signal is
 * taken (NT: the wait is satisfied).  NT releases a waiter at KeSetEvent
 * itself, so an event set since the wait began satisfies it even if it was
 * reset before this poll: Header.Hand counts the sets.
 */
static BOOLEAN take_signal(DISPATCHER_HEADER *Header)
{
    LONG signaled = 1;

    return __atomic_compare_exchange_n(&Header->SignalState, &signaled, 0, FALSE, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

static BOOLEAN try_satisfy(DISPATCHER_HEADER *Header, UCHAR SetsBefore)
{
    BOOLEAN synchronization = is_synchronization(Header);

    if (synchronization ? take_signal(Header) : __atomic_load_n(&Header->SignalState, __ATOMIC_ACQUIRE) != 0)
        return TRUE;
    if (!is_event(Header) || __atomic_load_n(&Header->Hand, __ATOMIC_ACQUIRE) == SetsBefore)
        return FALSE;
    /* Set since the wait began (KeSetEvent signals before it counts): a set still standing is ours to take. */
    if (synchronization)
        take_signal(Header);
    return TRUE;
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

/* DISPATCH_LEVEL allows only a zero timeout (a test that never blocks); above it, nothing. */
static VOID check_wait_irql(PCSTR Routine, PVOID Object, PLARGE_INTEGER Timeout, PVOID Caller)
{
    KIRQL irql = KeGetCurrentIrql();
    BOOLEAN poll_only = Timeout != NULL && Timeout->QuadPart == 0;

    if (irql > DISPATCH_LEVEL || (irql == DISPATCH_LEVEL && !poll_only))
        wait_at_raised_irql(Routine, Object, irql, Caller);
}

static BOOLEAN is_waitable(const DISPATCHER_HEADER *Header)
{
    return is_event(Header) || Header->Type == TimerNotificationObject || Header->Type == TimerSynchronizationObject;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode, BOOLEAN Alertable,
                               PLARGE_INTEGER Timeout)
{
    DISPATCHER_HEADER *header = Object;

    UNREFERENCED_PARAMETER(WaitReason);
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    check_wait_irql("KeWaitForSingleObject", Object, Timeout, __builtin_return_address(0));
    ASSERT(is_waitable(header));
    UCHAR sets = __atomic_load_n(&header->Hand, __ATOMIC_ACQUIRE);
    for (ULONG64 end = deadline(Timeout);; arch_pause()) {
        if (try_satisfy(header, sets))
            return STATUS_SUCCESS;
        if (KeQueryInterruptTime() >= end)
            return STATUS_TIMEOUT;
    }
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
    UCHAR sets[MAXIMUM_WAIT_OBJECTS];

    UNREFERENCED_PARAMETER(WaitReason);
    UNREFERENCED_PARAMETER(WaitMode);
    UNREFERENCED_PARAMETER(Alertable);
    check_wait_irql("KeWaitForMultipleObjects", Object, Timeout, __builtin_return_address(0));
    /* NT: more than THREAD_WAIT_OBJECTS needs the caller's wait blocks; never more than 64. */
    if (Count > MAXIMUM_WAIT_OBJECTS || (Count > THREAD_WAIT_OBJECTS && WaitBlockArray == NULL))
        KeBugCheckEx(MAXIMUM_WAIT_OBJECTS_EXCEEDED, Count, (ULONG_PTR)WaitBlockArray, 0, 0);
    if (Count == 0)
        return STATUS_INVALID_PARAMETER;
    ASSERT(WaitType == WaitAll || WaitType == WaitAny);
    for (ULONG i = 0; i < Count; i++) {
        ASSERT(is_waitable(headers[i]));
        sets[i] = __atomic_load_n(&headers[i]->Hand, __ATOMIC_ACQUIRE);
    }
    for (ULONG64 end = deadline(Timeout);; arch_pause()) {
        if (WaitType == WaitAll && try_satisfy_all(headers, Count))
            return STATUS_SUCCESS;
        for (ULONG i = 0; WaitType == WaitAny && i < Count; i++)
            if (try_satisfy(headers[i], sets[i]))
                return STATUS_WAIT_0 + (NTSTATUS)i;
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
