/*
 * dpc.c - deferred procedure calls: queueing (KeInsertQueueDpc, at any
 * IRQL), removal, and retiring the queue at DISPATCH_LEVEL.
 *
 * Each CPU's queue is KPRCB.DpcData[0]: a singly linked list with a tail
 * pointer, guarded by DpcLock, touched only at HIGH_LEVEL or with interrupts
 * off, as in NT.  A DPC's DpcData field is the claim: non-NULL means queued,
 * so a second insert changes nothing and returns FALSE.  Asking for the
 * queue to run is the DISPATCH software interrupt, a self-IPI on vector 0x2F
 * that the APIC holds until CR8 drops below DISPATCH_LEVEL, or an IPI for
 * another CPU.  Retiring runs on the CPU's DpcStack from the 0x2F handler,
 * and from the idle loop.
 */
#include <irqlab/hal.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/vectors.h>
#include "kx.h"

/*
 * A threaded DPC goes to DpcData[1] where the target's ThreadDpcEnable is
 * set, to run at PASSIVE_LEVEL in that CPU's DPC thread (dpcthread.c); with
 * it clear (threadeddpcs=0) it joins DpcData[0] and runs at DISPATCH_LEVEL,
 * as NT's do when threaded DPCs are turned off.
 */
#define NORMAL_QUEUE   0
#define THREADED_QUEUE 1
#define THREAD_BITS    (DPC_THREAD_ACTIVE | DPC_THREAD_REQUESTED | DPC_NORMAL_THREAD_SIGNAL)


VOID KeInitializeDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    Dpc->Type = DpcObject;
    Dpc->Importance = MediumImportance;
    Dpc->Number = 0;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
    Dpc->DpcData = NULL;
}

VOID KeInitializeThreadedDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    KeInitializeDpc(Dpc, DeferredRoutine, DeferredContext);
    Dpc->Type = ThreadedDpcObject;
}

VOID KeSetImportanceDpc(PKDPC Dpc, KDPC_IMPORTANCE Importance)
{
    Dpc->Importance = (UCHAR)Importance;
}

VOID KeSetTargetProcessorDpc(PKDPC Dpc, CCHAR Number)
{
    /* As Windows 10's: a queued DPC keeps its target; the number is stored with its bias. */
    if (__atomic_load_n(&Dpc->DpcData, __ATOMIC_ACQUIRE) == NULL)
        Dpc->Number = (USHORT)((UCHAR)Number + KDPC_TARGET_BIAS);
}

NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber)
{
    if (ProcNumber->Group != 0 || ProcNumber->Number >= (UCHAR)KeNumberProcessors)
        return STATUS_INVALID_PARAMETER;
    KeSetTargetProcessorDpc(Dpc, (CCHAR)ProcNumber->Number);
    return STATUS_SUCCESS;
}

/* The KPRCB whose queue the DPC goes to: its target, or this CPU when it has none. */
static PKPRCB target_of(PKDPC Dpc, PKPRCB Self)
{
    ULONG n = Dpc->Number;

    if (n < KDPC_TARGET_BIAS)
        return Self;
    n -= KDPC_TARGET_BIAS;
    ASSERT(n < (ULONG)KeNumberProcessors); /* KeSetTargetProcessorDpc named no such CPU */
    return n < (ULONG)KeNumberProcessors ? KiProcessorBlock[n] : Self;
}

static void push(KDPC_LIST *List, PKDPC Dpc)
{
    PSINGLE_LIST_ENTRY e = &Dpc->DpcListEntry;

    if (Dpc->Importance == HighImportance) { /* High goes to the head, the rest to the tail */
        e->Next = List->ListHead.Next;
        List->ListHead.Next = e;
        if (List->LastEntry == &List->ListHead)
            List->LastEntry = e;
    } else {
        e->Next = NULL;
        List->LastEntry->Next = e;
        List->LastEntry = e;
    }
}

static PKDPC pop(KDPC_LIST *List)
{
    PSINGLE_LIST_ENTRY e = List->ListHead.Next;

    if (e == NULL)
        return NULL;
    List->ListHead.Next = e->Next;
    if (List->LastEntry == e)
        List->LastEntry = &List->ListHead;
    return CONTAINING_RECORD(e, KDPC, DpcListEntry);
}

static BOOLEAN unlink(KDPC_LIST *List, PKDPC Dpc)
{
    for (PSINGLE_LIST_ENTRY prev = &List->ListHead; prev->Next; prev = prev->Next) {
        if (prev->Next != &Dpc->DpcListEntry)
            continue;
        prev->Next = Dpc->DpcListEntry.Next;
        if (List->LastEntry == &Dpc->DpcListEntry)
            List->LastEntry = prev;
        return TRUE;
    }
    return FALSE;
}

/* NT's policy: whether this insert asks the target to drain its queue now (lock held). */
static BOOLEAN should_request(PKDPC Dpc, PKPRCB Target, PKPRCB Self, PKDPC_DATA Data)
{
    /* The insert must be visible before the target's state is read: KiRetireDpcList stores
     * DpcRoutineActive, then reads the depth, and without a full barrier on both sides each
     * could miss the other (a store-load reordering, Intel SDM vol. 3, 9.2.3.4), leaving the
     * DPC to the next tick.  NT's published KeInsertQueueDpc has the same barrier. */
    if (Target != Self)
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (Target->DpcRoutineActive || (Target->DpcRequestSummary & DPC_NORMAL_PROCESSING_REQUESTED))
        return FALSE; /* it is draining, or already asked to */
    BOOLEAN deep = Data->DpcQueueDepth >= Target->MaximumDpcQueueDepth;
    if (Target == Self)
        return Dpc->Importance != LowImportance || deep || Target->DpcRequestRate < Target->MinimumDpcRate;
    /* Another CPU starts at once for MediumHigh and High, or a deep queue (Microsoft's "Organization
     * of DPC Queues"); Low and Medium wait for its next tick, which requests its queue. */
    return Dpc->Importance == HighImportance || Dpc->Importance == MediumHighImportance || deep;
}

/* A threaded DPC: wake the target's DPC thread unless it is draining or already asked (lock held). */
static BOOLEAN should_signal_thread(PKPRCB Target)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* the insert before the read: the thread's own loop re-reads */
    return !(__atomic_load_n(&Target->DpcRequestSummary, __ATOMIC_ACQUIRE) & (DPC_THREAD_ACTIVE | DPC_THREAD_REQUESTED));
}

BOOLEAN KeInsertQueueDpc(PKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    KIRQL old = KxRaiseIrql(HIGH_LEVEL); /* NT raises to HIGH_LEVEL first, whatever the caller's level */
    PKPRCB self = KeGetCurrentPrcb(), target = target_of(Dpc, self);
    BOOLEAN threaded = Dpc->Type == ThreadedDpcObject && target->ThreadDpcEnable;
    PKDPC_DATA data = &target->DpcData[threaded ? THREADED_QUEUE : NORMAL_QUEUE];
    PVOID unclaimed = NULL;
    BOOLEAN request = FALSE;

    KxAcquireSpinLock(&data->DpcLock, HIGH_LEVEL);
    BOOLEAN queued = __atomic_compare_exchange_n(&Dpc->DpcData, &unclaimed, data, FALSE,
                                                 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    if (queued) {
        Dpc->SystemArgument1 = SystemArgument1;
        Dpc->SystemArgument2 = SystemArgument2;
        data->DpcQueueDepth++;
        data->DpcCount++;
        push(&data->DpcList, Dpc);
        request = threaded ? should_signal_thread(target) : should_request(Dpc, target, self, data);
        if (request) /* the target's DISPATCH interrupt drains the normal queue or signals its DPC thread */
            __atomic_or_fetch(&target->DpcRequestSummary,
                              threaded ? DPC_THREAD_REQUESTED | DPC_NORMAL_THREAD_SIGNAL
                                       : DPC_NORMAL_PROCESSING_REQUESTED, __ATOMIC_RELAXED);
    }
    KI_TRACE(KTRACE_CAT_DPC, KTRACE_DPC_INSERT, HIGH_LEVEL, /* under the lock: before the target can begin it */
             target->Number | Dpc->Importance << 8 | request << 10 | queued << 11, data->DpcQueueDepth, Dpc);
    KxReleaseSpinLock(&data->DpcLock);
    if (request && target == self)
        HalRequestSoftwareInterrupt(DISPATCH_LEVEL); /* held in the IRR until CR8 < DISPATCH_LEVEL */
    else if (request)
        KiIpiSend(target->GroupSetMember, KI_IPI_DPC);
    KxLowerIrql(HIGH_LEVEL, old);
    return queued;
}

BOOLEAN KeRemoveQueueDpc(PKDPC Dpc)
{
    KIRQL old = KxRaiseIrql(HIGH_LEVEL);
    PKDPC_DATA data = __atomic_load_n((PKDPC_DATA *)&Dpc->DpcData, __ATOMIC_ACQUIRE);
    BOOLEAN removed = FALSE;

    if (data) {
        KxAcquireSpinLock(&data->DpcLock, HIGH_LEVEL);
        if (Dpc->DpcData == data && unlink(&data->DpcList, Dpc)) { /* it may have just been retired */
            data->DpcQueueDepth--;
            __atomic_store_n(&Dpc->DpcData, NULL, __ATOMIC_RELEASE);
            removed = TRUE;
        }
        KxReleaseSpinLock(&data->DpcLock);
    }
    KxLowerIrql(HIGH_LEVEL, old);
    return removed;
}

/* The longest DPC this CPU ran (interrupts included): the watchdog's figure, in TSC cycles. */
static inline void note_duration(PKPRCB Prcb, PKDEFERRED_ROUTINE Routine, ULONG64 Cycles)
{
    if (Cycles > Prcb->Irqlab.LongestDpcCycles) {
        Prcb->Irqlab.LongestDpcCycles = Cycles;
        Prcb->Irqlab.LongestDpcRoutine = (PVOID)Routine;
    }
}

BOOLEAN KiTakeDpc(PKDPC_DATA Data, KIRQL Irql, KI_DPC_CALL *Call)
{
    KxAcquireSpinLock(&Data->DpcLock, Irql);
    PKDPC dpc = pop(&Data->DpcList);
    if (dpc != NULL) {
        *Call = (KI_DPC_CALL){ dpc, dpc->DeferredRoutine, dpc->DeferredContext, dpc->SystemArgument1,
                               dpc->SystemArgument2 };
        /* Cleared before the call, so the routine may queue its own DPC again. */
        __atomic_store_n(&dpc->DpcData, NULL, __ATOMIC_RELEASE);
        Data->DpcQueueDepth--;
    }
    KxReleaseSpinLock(&Data->DpcLock);
    return dpc != NULL;
}

/* Pops and runs DPCs until the queue is empty; interrupts off except around each routine. */
static void KiExecuteAllDpcs(PKPRCB Prcb, PKDPC_DATA Data)
{
    KI_DPC_CALL call;

    while (__atomic_load_n(&Data->DpcQueueDepth, __ATOMIC_ACQUIRE) != 0 && KiTakeDpc(Data, DISPATCH_LEVEL, &call)) {
        arch_enable_interrupts();
        KiCallDpcRoutine(Prcb, call.Dpc, call.Routine, call.Context, call.Arg1, call.Arg2);
        arch_disable_interrupts();
    }
}

VOID KiCallDpcRoutine(PKPRCB Prcb, PKDPC Dpc, PKDEFERRED_ROUTINE Routine, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    Prcb->DpcData[NORMAL_QUEUE].ActiveDpc = Dpc;
    Prcb->DpcTimeCount = Prcb->DpcTimeLimit; /* the watchdog's allowance, per DPC */
    /* The checked build's begin reads CR8 (a TCG helper call) rather than trusting the callers, so the
     * converter's "no DPC begins above DISPATCH_LEVEL" checks the machine; DBG=0 records the level its
     * callers hold by contract, as an ASSERT is checked only in the checked build. */
    KI_TRACE(KTRACE_CAT_DPC, KTRACE_DPC_BEGIN, DBG ? KI_TRACE_READ_IRQL : DISPATCH_LEVEL,
             Prcb->DpcData[NORMAL_QUEUE].DpcQueueDepth, Routine, Dpc);
    ULONG64 start = arch_rdtsc();
    Routine(Dpc, Context, Arg1, Arg2);
    note_duration(Prcb, Routine, arch_rdtsc() - start);
    KIRQL irql = KeGetCurrentIrql(); /* one CR8 read for the record and the check (a TCG helper call) */
    KI_TRACE(KTRACE_CAT_DPC, KTRACE_DPC_END, irql, 0, Routine, Dpc);
    if (irql != DISPATCH_LEVEL) /* NT: the routine changed IRQL and did not restore it */
        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, irql, DISPATCH_LEVEL, 0, (ULONG_PTR)Routine);
    Prcb->DpcData[NORMAL_QUEUE].ActiveDpc = NULL;
}

/* The normal queue's request bits give way to ACTIVE; the DPC thread's bits stay.  Returns the old. */
static LONG begin_normal_processing(PKPRCB Prcb)
{
    LONG old = __atomic_load_n(&Prcb->DpcRequestSummary, __ATOMIC_RELAXED);

    while (!__atomic_compare_exchange_n(&Prcb->DpcRequestSummary, &old, (old & THREAD_BITS) | DPC_NORMAL_PROCESSING_ACTIVE,
                                        FALSE, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        ;
    return old;
}

VOID KiRetireDpcList(PKPRCB Prcb)
{
    PKDPC_DATA data = &Prcb->DpcData[NORMAL_QUEUE];
    ULONG64 flags = arch_save_disable();
    LONG summary;

    ASSERT(KeGetCurrentIrql() == DISPATCH_LEVEL);
    do {
        Prcb->DpcRoutineActive = TRUE;
        summary = begin_normal_processing(Prcb);
        if (summary & DPC_NORMAL_TIMER_EXPIRATION) /* NT: timers first, their DPCs join the queue */
            KiTimerExpiration(Prcb);
        KiExecuteAllDpcs(Prcb, data);
        Prcb->DpcRoutineActive = FALSE;
        /* A locked operation: the depth read below cannot pass the store above. */
        summary = __atomic_and_fetch(&Prcb->DpcRequestSummary,
                                     ~(DPC_NORMAL_PROCESSING_ACTIVE | DPC_NORMAL_PROCESSING_REQUESTED),
                                     __ATOMIC_ACQ_REL);
    } while (__atomic_load_n(&data->DpcQueueDepth, __ATOMIC_ACQUIRE) != 0 ||
             (summary & DPC_NORMAL_TIMER_EXPIRATION));
    /* Only when the last read saw the signal: a later one comes with a DISPATCH interrupt of its own. */
    if ((summary & DPC_NORMAL_THREAD_SIGNAL) &&
        (__atomic_fetch_and(&Prcb->DpcRequestSummary, ~DPC_NORMAL_THREAD_SIGNAL, __ATOMIC_ACQ_REL) &
         DPC_NORMAL_THREAD_SIGNAL))
        KiSignalDpcThread(Prcb); /* threaded DPCs were queued: this CPU's DPC thread runs them next */
    arch_restore(flags);
}

static void retire_on_dpc_stack(void *Context)
{
    KiRetireDpcList(Context);
}

/*
 * Vector 0x2F, NT's KiDpcInterrupt, from the trap handler (not a KINTERRUPT:
 * it may switch threads, and an interrupt object's dispatcher would send
 * the EOI only after the switch, leaving 0x2F in service for the next
 * thread).  At DISPATCH_LEVEL: the EOI first, the DPC queue on this CPU's
 * DPC stack, then the thread this processor should run now (KiDispatchInterrupt's
 * order); the interrupted IRQL comes back when this thread resumes.
 */
VOID KiDpcInterrupt(PKTRAP_FRAME TrapFrame)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    KIRQL old = (KIRQL)arch_read_cr8();

    UNREFERENCED_PARAMETER(TrapFrame);
    ASSERT(old < DISPATCH_LEVEL); /* the APIC holds 0x2F while CR8 >= 2 */
    prcb->InterruptCount++;
    prcb->Irqlab.InterruptsAtIrql[DISPATCH_LEVEL]++;
    KIRQL outer = prcb->Irqlab.PreviousIrql;
    prcb->Irqlab.PreviousIrql = old;
    arch_write_cr8(DISPATCH_LEVEL);
    HalPerformEndOfInterrupt();
    arch_enable_interrupts();
    arch_call_on_stack((ULONG64)prcb->DpcStack, retire_on_dpc_stack, prcb);
    arch_disable_interrupts();
    KiDispatchNextThread(prcb);
    prcb = KeGetCurrentPrcb(); /* this thread may have resumed on another processor */
    prcb->Irqlab.PreviousIrql = outer;
    arch_write_cr8(old);
}
