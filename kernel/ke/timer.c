/*
 * timer.c - kernel timers (include/irqlab/timer.h).
 *
 * A set timer sits in the timer list of the CPU that set it, sorted by due
 * time, as in NT (where each KPRCB has a TimerTable).  The clock interrupt
 * on that CPU only compares the interrupt time with the list's first due
 * time, at CLOCK_LEVEL; when one is due it asks for the DISPATCH interrupt
 * with DpcRequestSummary's TimerExpiration bit, and the retire loop
 * (KiTimerExpiration, DISPATCH_LEVEL) takes the expired timers off, signals
 * them, re-arms periodic ones and calls their DPCs (or queues a DPC that
 * targets another CPU there).
 *
 * One lock guards every list and every timer's place in one: setting a
 * timer on one CPU may take it off another's.
 */
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/timer.h>
#include <irqlab/vectors.h>
#include "ki.h"
#include "kitrace.h"

#define TIMER_INSERTED 0x40 /* in Header.TimerMiscFlags */
#define NO_TIMER       (~0ull)
#define BATCH          16 /* timers expired per pass over the list */

static KSPIN_LOCK KiTimerLock;

VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime)
{
    CurrentTime->QuadPart = (LONGLONG)KeQueryInterruptTime();
}

VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type)
{
    ASSERT(Type == NotificationTimer || Type == SynchronizationTimer);
    Timer->Header.Type = Type == NotificationTimer ? TimerNotificationObject : TimerSynchronizationObject;
    Timer->Header.TimerControlFlags = 0;
    Timer->Header.Hand = 0;
    Timer->Header.TimerMiscFlags = 0;
    Timer->Header.SignalState = 0;
    InitializeListHead(&Timer->Header.WaitListHead);
    Timer->DueTime.QuadPart = 0;
    Timer->Dpc = NULL;
    Timer->Processor = 0;
    Timer->TimerType = (USHORT)Type;
    Timer->Period = 0;
}

VOID KeInitializeTimer(PKTIMER Timer)
{
    KeInitializeTimerEx(Timer, NotificationTimer);
}

VOID KiInitializeTimerProcessor(PKPRCB Prcb)
{
    InitializeListHead(&Prcb->Irqlab.TimerList);
    Prcb->Irqlab.NextTimerDue = NO_TIMER;
}

/* What the clock compares against, kept with the list (lock held). */
static VOID update_next_due(PKPRCB Prcb)
{
    PLIST_ENTRY first = Prcb->Irqlab.TimerList.Flink;

    Prcb->Irqlab.NextTimerDue = first == &Prcb->Irqlab.TimerList
                                    ? NO_TIMER
                                    : CONTAINING_RECORD(first, KTIMER, TimerListEntry)->DueTime.QuadPart;
}

/* Lock held.  Takes the timer off its CPU's list; TRUE if it was on one. */
static BOOLEAN remove_timer(PKTIMER Timer)
{
    if (!(Timer->Header.TimerMiscFlags & TIMER_INSERTED))
        return FALSE;
    RemoveEntryList(&Timer->TimerListEntry);
    Timer->Header.TimerMiscFlags &= ~TIMER_INSERTED;
    update_next_due(KiProcessorBlock[Timer->Processor]);
    return TRUE;
}

/* Lock held.  Sorted insert; equal due times keep the order they were set in. */
static VOID insert_timer(PKTIMER Timer, PKPRCB Prcb, ULONG64 Due)
{
    PLIST_ENTRY head = &Prcb->Irqlab.TimerList, e = head->Blink;

    while (e != head && CONTAINING_RECORD(e, KTIMER, TimerListEntry)->DueTime.QuadPart > Due)
        e = e->Blink;
    Timer->DueTime.QuadPart = Due;
    Timer->Processor = (USHORT)Prcb->Number;
    Timer->Header.TimerMiscFlags |= TIMER_INSERTED;
    InsertHeadList(e, &Timer->TimerListEntry); /* just after e */
    update_next_due(Prcb);
}

BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, PKDPC Dpc)
{
    ASSERT(Period >= 0);
    KIRQL old = KeAcquireSpinLockRaiseToDpc(&KiTimerLock); /* bugchecks 0x9 above DISPATCH_LEVEL */
    ULONG64 now = KeQueryInterruptTime();
    ULONG64 due = DueTime.QuadPart < 0 ? now + (ULONG64)-DueTime.QuadPart : (ULONG64)DueTime.QuadPart;

    BOOLEAN was_set = remove_timer(Timer);
    Timer->Header.SignalState = 0;
    Timer->Header.TimerControlFlags = DueTime.QuadPart >= 0; /* Absolute */
    Timer->Dpc = Dpc;
    Timer->Period = (ULONG)Period;
    insert_timer(Timer, KeGetCurrentPrcb(), due); /* already past: the next tick expires it */
    KeReleaseSpinLock(&KiTimerLock, old);
    return was_set;
}

BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, PKDPC Dpc)
{
    return KeSetTimerEx(Timer, DueTime, 0, Dpc);
}

/* IRQL >= DISPATCH_LEVEL (the dispatcher lock held): a thread's timeout; Due is absolute. */
VOID KiSetTimerLocked(PKTIMER Timer, ULONG64 Due)
{
    KeAcquireSpinLockAtDpcLevel(&KiTimerLock);
    remove_timer(Timer);
    Timer->Header.SignalState = 0;
    Timer->Dpc = NULL;
    Timer->Period = 0;
    insert_timer(Timer, KeGetCurrentPrcb(), Due);
    KeReleaseSpinLockFromDpcLevel(&KiTimerLock);
}

VOID KiCancelTimerLocked(PKTIMER Timer)
{
    KeAcquireSpinLockAtDpcLevel(&KiTimerLock);
    remove_timer(Timer);
    KeReleaseSpinLockFromDpcLevel(&KiTimerLock);
}

BOOLEAN KeCancelTimer(PKTIMER Timer)
{
    KIRQL old = KeAcquireSpinLockRaiseToDpc(&KiTimerLock);
    BOOLEAN was_set = remove_timer(Timer);

    KeReleaseSpinLock(&KiTimerLock, old);
    return was_set;
}

BOOLEAN KeReadStateTimer(PKTIMER Timer)
{
    return Timer->Header.SignalState != 0;
}

/* CLOCK_LEVEL, every tick on every CPU: one compare unless a timer is due. */
VOID KiCheckTimers(PKPRCB Prcb)
{
    if (KeQueryInterruptTime() < Prcb->Irqlab.NextTimerDue)
        return;
    if (!(__atomic_fetch_or(&Prcb->DpcRequestSummary, DPC_NORMAL_TIMER_EXPIRATION, __ATOMIC_RELAXED) &
          DPC_NORMAL_TIMER_EXPIRATION))
        HalRequestSoftwareInterrupt(DISPATCH_LEVEL);
}

/* An expired timer, and its DPC if it runs here, captured under the lock as NT's KiTimerExpiration does. */
typedef struct _KI_TIMER_CALL {
    PKTIMER Timer;
    PKDPC Dpc; /* NULL: none, or queued to its target CPU already */
    PKDEFERRED_ROUTINE Routine;
    PVOID Context;
} KI_TIMER_CALL;

/* This CPU's own DPC is called directly (NT's published KiTimerExpiration); one for another CPU
 * is queued there, still under the lock, so that a KeCancelTimer + KeFlushQueuedDpcs that comes
 * after the expiry always finds it queued ahead of its flush marker. */
static BOOLEAN call_here(PKDPC Dpc, PKPRCB Prcb, ULONG64 Now)
{
    if (Dpc->Number < KDPC_TARGET_BIAS || (ULONG)(Dpc->Number - KDPC_TARGET_BIAS) == Prcb->Number)
        return TRUE;
    KeInsertQueueDpc(Dpc, (PVOID)(Now & 0xffffffff), (PVOID)(Now >> 32)); /* FALSE: still queued, fine */
    return FALSE;
}

/* Lock held.  Expires up to BATCH due timers; the DPCs to call here go into Calls. */
static ULONG expire_some(PKPRCB Prcb, ULONG64 Now, KI_TIMER_CALL *Calls, BOOLEAN *More)
{
    PLIST_ENTRY head = &Prcb->Irqlab.TimerList;
    ULONG n = 0;

    *More = FALSE;
    while (head->Flink != head) {
        PKTIMER timer = CONTAINING_RECORD(head->Flink, KTIMER, TimerListEntry);
        if (timer->DueTime.QuadPart > Now)
            break;
        if (n == BATCH) {
            *More = TRUE;
            break;
        }
        remove_timer(timer);
        KI_TRACE(KTRACE_CAT_TIMER, KTRACE_TIMER_EXPIRE, DISPATCH_LEVEL, 0, timer->Dpc ? timer->Dpc->DeferredRoutine : NULL, timer);
        timer->Header.SignalState = 1;
        if (timer->Period) /* NT re-inserts a periodic timer one period from now, relative */
            insert_timer(timer, Prcb, Now + timer->Period * 10000ull);
        PKDPC dpc = timer->Dpc;
        if (dpc && call_here(dpc, Prcb, Now))
            Calls[n++] = (KI_TIMER_CALL){ timer, dpc, dpc->DeferredRoutine, dpc->DeferredContext };
        else
            Calls[n++] = (KI_TIMER_CALL){ timer, NULL, NULL, NULL };
    }
    return n;
}

/* The threads waiting on the expired timers (a timeout is a wait on the thread's own timer). */
static VOID wake_waiters(KI_TIMER_CALL *Calls, ULONG Count)
{
    KIRQL irql = KiAcquireDispatcherLock();

    for (ULONG i = 0; i < Count; i++)
        if (Calls[i].Timer->Header.SignalState > 0) /* not set again since it expired */
            KiWaitTest(&Calls[i].Timer->Header, IO_NO_INCREMENT); /* NT: a timer wakes with no boost */
    KiReleaseDispatcherLock(irql);
}

/*
 * DISPATCH_LEVEL, from the retire loop, which runs it with interrupts off;
 * NT's KiTimerExpiration, with interrupts on as NT's runs.  The DPCs of
 * this CPU's timers run right here, inside the retire loop, so they add
 * nothing to DpcCount or the request rate and no KeRemoveQueueDpc can
 * take them back, as in NT.
 */
VOID KiTimerExpiration(PKPRCB Prcb)
{
    ULONG64 now = KeQueryInterruptTime();
    KI_TIMER_CALL calls[BATCH];
    BOOLEAN more;

    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    arch_enable_interrupts();
    do {
        KeAcquireSpinLockAtDpcLevel(&KiTimerLock);
        ULONG n = expire_some(Prcb, now, calls, &more);
        KeReleaseSpinLockFromDpcLevel(&KiTimerLock);
        wake_waiters(calls, n);
        for (ULONG i = 0; i < n; i++)
            if (calls[i].Dpc)
                KiCallDpcRoutine(Prcb, calls[i].Dpc, calls[i].Routine, calls[i].Context,
                                 (PVOID)(now & 0xffffffff), (PVOID)(now >> 32));
    } while (more);
    arch_disable_interrupts();
}

ULONG KiQueryTimers(ULONG Processor, KI_TIMER_INFO *Timers, ULONG Max)
{
    PKPRCB prcb = KiProcessorBlock[Processor];
    ULONG n = 0;

    KIRQL old = KeAcquireSpinLockRaiseToDpc(&KiTimerLock);
    for (PLIST_ENTRY e = prcb->Irqlab.TimerList.Flink; e != &prcb->Irqlab.TimerList && n < Max; e = e->Flink) {
        PKTIMER timer = CONTAINING_RECORD(e, KTIMER, TimerListEntry);
        Timers[n].Timer = timer;
        Timers[n].DueTime = timer->DueTime.QuadPart;
        Timers[n].Period = timer->Period;
        Timers[n].Dpc = timer->Dpc;
        Timers[n].Routine = timer->Dpc ? timer->Dpc->DeferredRoutine : NULL;
        n++;
    }
    KeReleaseSpinLock(&KiTimerLock, old);
    return n;
}
