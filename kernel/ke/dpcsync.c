/*
 * dpcsync.c - waiting on other CPUs' DPC queues: KeFlushQueuedDpcs, and
 * KeGenericCallDpc with its two barriers (KeSignalCallDpcDone,
 * KeSignalCallDpcSynchronize).
 *
 * KeFlushQueuedDpcs queues a marker on every CPU and blocks until the last
 * one has run (Microsoft's page requires PASSIVE_LEVEL of its callers: it
 * waits), leaving the caller's processor to other threads meanwhile.  KeGenericCallDpc does what NT's published one does:
 * at DISPATCH_LEVEL it queues each other CPU's CallDpc at High importance,
 * calls the routine itself on this CPU, and spins until all are done.  One
 * caller at a time goes through either: NT serializes them with a fast
 * mutex, here a synchronization event that starts signaled (a fast mutex is
 * one underneath), waited on below DISPATCH_LEVEL.
 */
#include <arch/arch.h>
#include <irqlab/dpc.h>
#include "ki.h"

#define SIGNALED_SYNCHRONIZATION_EVENT(e) \
    { .Header = { .Type = EventSynchronizationObject, .SignalState = 1, \
                  .WaitListHead = { &(e).Header.WaitListHead, &(e).Header.WaitListHead } } }

static KEVENT KiDpcCallGate = SIGNALED_SYNCHRONIZATION_EVENT(KiDpcCallGate); /* NT's KiGenericCallDpcMutex */
static KEVENT KiFlushDone;
static KDPC KiFlushDpc[MAXIMUM_PROCESSORS], KiFlushThreadedDpc[MAXIMUM_PROCESSORS];
static volatile LONG KiFlushPending;

typedef struct _KI_CALL_BARRIER {
    volatile LONG Remaining;  /* CPUs yet to reach this round */
    volatile LONG Generation; /* rounds completed */
    LONG Total;
} KI_CALL_BARRIER;

/* Below DISPATCH_LEVEL, as NT's fast mutex requires (APC_LEVEL is allowed). */
static VOID enter(VOID)
{
    ASSERT(KeGetCurrentIrql() <= APC_LEVEL); /* it waits: not from a DPC or an ISR */
    KeWaitForSingleObject(&KiDpcCallGate, Executive, KernelMode, FALSE, NULL);
}

static VOID leave(VOID)
{
    KeSetEvent(&KiDpcCallGate, IO_NO_INCREMENT, FALSE);
}

static VOID wait_for_zero(volatile LONG *Count)
{
    while (__atomic_load_n(Count, __ATOMIC_ACQUIRE) != 0)
        arch_pause();
}

static VOID flush_marker(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    if (__atomic_sub_fetch(&KiFlushPending, 1, __ATOMIC_ACQ_REL) == 0)
        KeSetEvent(&KiFlushDone, IO_NO_INCREMENT, FALSE); /* the last marker wakes the caller */
}

/*
 * A Medium marker at the tail of every queue, normal and threaded, runs
 * after everything queued before it (only a later High DPC can pass it);
 * the DPC IPI makes every CPU drain now, Low-importance queues included.
 */
VOID KeFlushQueuedDpcs(VOID)
{
    LONG cpus = KeNumberProcessors;

    enter();
    KiFlushPending = 2 * cpus; /* a normal and a threaded marker each (threaded joins normal when off) */
    KeInitializeEvent(&KiFlushDone, SynchronizationEvent, FALSE);
    KIRQL old = KeRaiseIrqlToDpcLevel();
    for (LONG n = 0; n < cpus; n++) {
        KeInitializeDpc(&KiFlushDpc[n], flush_marker, NULL);
        KeInitializeThreadedDpc(&KiFlushThreadedDpc[n], flush_marker, NULL);
        KeSetTargetProcessorDpc(&KiFlushDpc[n], (CCHAR)n);
        KeSetTargetProcessorDpc(&KiFlushThreadedDpc[n], (CCHAR)n);
        KeInsertQueueDpc(&KiFlushDpc[n], NULL, NULL);
        KeInsertQueueDpc(&KiFlushThreadedDpc[n], NULL, NULL);
    }
    KiIpiSend(KeQueryActiveProcessors() & ~KeGetCurrentPrcb()->GroupSetMember, KI_IPI_DPC); /* Medium asks no other CPU */
    KeLowerIrql(old); /* this CPU's queue drains here */
    KeWaitForSingleObject(&KiFlushDone, Executive, KernelMode, FALSE, NULL);
    leave();
}

VOID KeGenericCallDpc(PKDEFERRED_ROUTINE Routine, PVOID Context)
{
    LONG cpus = KeNumberProcessors;
    volatile LONG done = cpus;
    KI_CALL_BARRIER sync = { cpus, 0, cpus };

    enter();
    KIRQL old = KeRaiseIrqlToDpcLevel();
    PKPRCB self = KeGetCurrentPrcb();
    for (LONG n = 0; n < cpus; n++) {
        PKDPC dpc = &KiProcessorBlock[n]->CallDpc;
        KeInitializeDpc(dpc, Routine, Context);
        if (KiProcessorBlock[n] == self)
            continue;
        KeSetImportanceDpc(dpc, HighImportance); /* interrupts every target now */
        KeSetTargetProcessorDpc(dpc, (CCHAR)n);
        KeInsertQueueDpc(dpc, (PVOID)&done, &sync);
    }
    Routine(&self->CallDpc, Context, (PVOID)&done, &sync); /* this CPU's share, called directly */
    wait_for_zero(&done);                                  /* spinning at DISPATCH_LEVEL, as NT */
    KeLowerIrql(old);
    leave();
}

VOID KeSignalCallDpcDone(PVOID SystemArgument1)
{
    __atomic_sub_fetch((volatile LONG *)SystemArgument1, 1, __ATOMIC_RELEASE);
}

/* A reusable barrier: every CPU waits here for the others; exactly one gets TRUE. */
BOOLEAN KeSignalCallDpcSynchronize(PVOID SystemArgument2)
{
    KI_CALL_BARRIER *b = SystemArgument2;
    LONG generation = __atomic_load_n(&b->Generation, __ATOMIC_ACQUIRE);

    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    if (__atomic_sub_fetch(&b->Remaining, 1, __ATOMIC_ACQ_REL) == 0) {
        b->Remaining = b->Total;
        __atomic_store_n(&b->Generation, generation + 1, __ATOMIC_RELEASE);
        return TRUE;
    }
    while (__atomic_load_n(&b->Generation, __ATOMIC_ACQUIRE) == generation)
        arch_pause();
    return FALSE;
}
