/*
 * apc.c - kernel APCs: queueing (KeInsertQueueApc), the APC software
 * interrupt (vector 0x1F), delivery (KiDeliverApc) and the regions that hold
 * delivery back.
 *
 * As on x64 NT, requesting an APC is a self-IPI on vector 0x1F: its class is
 * 1, so the local APIC holds it while CR8 >= APC_LEVEL and delivers it the
 * moment the IRQL drops to PASSIVE_LEVEL.  A thread running on another
 * processor is asked by IPI; a thread waiting at PASSIVE_LEVEL is woken with
 * STATUS_KERNEL_APC and its wait resumes after delivery (wait.c); any other
 * thread finds KernelApcPending set when it is next switched in, and the
 * switch requests the interrupt for it (dispatch.c).  The queues are guarded
 * by the dispatcher lock (NT: also a per-thread ApcQueueLock).
 */
#include <irqlab/apc.h>
#include <irqlab/hal.h>
#include "ki.h"
#include "kitrace.h"

#define KERNEL_APC_IN_PROGRESS  0x1 /* KAPC_STATE.InProgressFlags */
#define SPECIAL_APC_IN_PROGRESS 0x2

VOID KeInitializeApc(PRKAPC Apc, PRKTHREAD Thread, KAPC_ENVIRONMENT Environment, PKKERNEL_ROUTINE KernelRoutine,
                     PKRUNDOWN_ROUTINE RundownRoutine, PKNORMAL_ROUTINE NormalRoutine, KPROCESSOR_MODE ApcMode,
                     PVOID NormalContext)
{
    UNREFERENCED_PARAMETER(Environment);
    ASSERT(KernelRoutine != NULL);
    memset(Apc, 0, sizeof(*Apc));
    Apc->Type = ApcObject;
    Apc->Size = sizeof(*Apc);
    Apc->Thread = Thread;
    Apc->KernelRoutine = KernelRoutine;
    Apc->RundownRoutine = RundownRoutine;
    Apc->NormalRoutine = NormalRoutine;
    /* NT: a special APC is always kernel mode and has no context. */
    Apc->ApcMode = NormalRoutine ? ApcMode : KernelMode;
    Apc->NormalContext = NormalRoutine ? NormalContext : NULL;
    Apc->ApcStateIndex = (CCHAR)Thread->ApcStateIndex;
}

static BOOLEAN is_special(PKAPC Apc)
{
    return Apc->NormalRoutine == NULL;
}

/* Lock held.  Specials go after the specials already queued, normals at the tail (NT's order). */
static VOID link_apc(PKTHREAD Thread, PKAPC Apc)
{
    PLIST_ENTRY head = &Thread->ApcState.ApcListHead[KernelMode], e = head->Flink;

    if (!is_special(Apc)) {
        InsertTailList(head, &Apc->ApcListEntry);
        return;
    }
    while (e != head && is_special(CONTAINING_RECORD(e, KAPC, ApcListEntry)))
        e = e->Flink;
    InsertTailList(e, &Apc->ApcListEntry); /* before e: after the last special */
}

/* Lock held.  Could a wait at PASSIVE_LEVEL give way to this APC now?  (NT's test in KiInsertQueueApc.) */
static BOOLEAN may_interrupt_wait(PKTHREAD Thread, PKAPC Apc)
{
    if (Thread->State != Waiting || Thread->WaitIrql != PASSIVE_LEVEL || Thread->SpecialApcDisable != 0)
        return FALSE;
    return is_special(Apc) ||
           (Thread->KernelApcDisable == 0 && !(Thread->ApcState.InProgressFlags & KERNEL_APC_IN_PROGRESS));
}

/* Lock held.  Tells Thread an APC waits for it: interrupt it, wake it, or leave it for its next switch. */
static VOID signal_thread(PKTHREAD Thread, PKAPC Apc, KPRIORITY Increment)
{
    Thread->ApcState.KernelApcPending = TRUE;
    if (Thread->State == Running) {
        if (Thread->NextProcessor == KeGetCurrentProcessorNumber())
            HalRequestSoftwareInterrupt(APC_LEVEL); /* held in the APIC until this CPU is at PASSIVE */
        else
            KiIpiSend(1ull << Thread->NextProcessor, KI_IPI_APC);
    } else if (may_interrupt_wait(Thread, Apc)) {
        KiUnwaitThread(Thread, STATUS_KERNEL_APC, Increment);
    }
}

BOOLEAN KeInsertQueueApc(PRKAPC Apc, PVOID SystemArgument1, PVOID SystemArgument2, KPRIORITY Increment)
{
    PKTHREAD thread = Apc->Thread;

    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    ASSERT(Apc->Type == ApcObject);
    KIRQL irql = KiAcquireDispatcherLock();
    BOOLEAN queued = (thread->MiscFlags & KI_MISC_APC_QUEUEABLE) && !Apc->Inserted && Apc->ApcMode == KernelMode;
    if (queued) {
        Apc->SystemArgument1 = SystemArgument1;
        Apc->SystemArgument2 = SystemArgument2;
        Apc->Inserted = TRUE;
        link_apc(thread, Apc);
        signal_thread(thread, Apc, Increment);
    }
    KiReleaseDispatcherLock(irql);
    return queued;
}

BOOLEAN KeRemoveQueueApc(PKAPC Apc)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    BOOLEAN was = Apc->Inserted;
    if (was) {
        PKTHREAD thread = Apc->Thread;
        RemoveEntryList(&Apc->ApcListEntry);
        Apc->Inserted = FALSE;
        if (IsListEmpty(&thread->ApcState.ApcListHead[KernelMode]))
            thread->ApcState.KernelApcPending = FALSE;
    }
    KiReleaseDispatcherLock(irql);
    return was;
}

/* 0xC8 IRQL_UNEXPECTED_VALUE, Microsoft's parameters: UniqueValue 0 after the KernelRoutine, 1 after
 * the NormalRoutine (which of the two NT gives which is not public). */
static VOID check_irql(KIRQL Expected, ULONG Unique, PKAPC Apc, PKKERNEL_ROUTINE Kernel, PKNORMAL_ROUTINE Normal)
{
    KIRQL now = KeGetCurrentIrql();

    if (now != Expected)
        KeBugCheckEx(IRQL_UNEXPECTED_VALUE, (ULONG_PTR)now << 16 | (ULONG_PTR)Expected << 8 | Unique,
                     (ULONG_PTR)Kernel, (ULONG_PTR)Apc, (ULONG_PTR)Normal);
}

/* Lock held (released on return).  Runs the APC at the head of the queue, whose copy the routines may
 * change: the KernelRoutine at APC_LEVEL, then for a normal APC its NormalRoutine at PASSIVE_LEVEL. */
static VOID run_apc(PKTHREAD Thread, PKAPC Apc, KIRQL LockIrql)
{
    PKKERNEL_ROUTINE kernel = Apc->KernelRoutine;
    PKNORMAL_ROUTINE normal = Apc->NormalRoutine;
    PVOID context = Apc->NormalContext, arg1 = Apc->SystemArgument1, arg2 = Apc->SystemArgument2;
    UCHAR flag = normal ? KERNEL_APC_IN_PROGRESS : SPECIAL_APC_IN_PROGRESS;

    RemoveEntryList(&Apc->ApcListEntry);
    Apc->Inserted = FALSE;
    KiReleaseDispatcherLock(LockIrql);
    KI_TRACE(KTRACE_CAT_APC, KTRACE_APC_DELIVER, APC_LEVEL, normal != NULL, kernel, Apc);
    Thread->ApcState.InProgressFlags |= flag;
    kernel(Apc, &normal, &context, &arg1, &arg2); /* it may free the KAPC: only the copies are used after */
    check_irql(APC_LEVEL, 0, Apc, kernel, normal);
    if (flag == KERNEL_APC_IN_PROGRESS && normal != NULL) {
        KeLowerIrql(PASSIVE_LEVEL);
        normal(context, arg1, arg2);
        check_irql(PASSIVE_LEVEL, 1, Apc, kernel, normal);
        KfRaiseIrql(APC_LEVEL);
    }
    Thread->ApcState.InProgressFlags &= ~flag;
}

/*
 * APC_LEVEL.  NT's KiDeliverApc for kernel mode: every special APC unless
 * the thread is in a guarded region, then the normal ones unless it is in
 * a critical region or already inside a normal APC.  Each is taken off the
 * queue under the lock and run with the lock released.
 */
VOID KiDeliverApc(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();
    PLIST_ENTRY head = &thread->ApcState.ApcListHead[KernelMode];

    ASSERT(KeGetCurrentIrql() == APC_LEVEL);
    if (thread->SpecialApcDisable != 0)
        return;
    for (;;) {
        KIRQL irql = KiAcquireDispatcherLock();
        thread->ApcState.KernelApcPending = FALSE;
        PKAPC apc = IsListEmpty(head) ? NULL : CONTAINING_RECORD(head->Flink, KAPC, ApcListEntry);
        if (apc == NULL || (!is_special(apc) && (thread->KernelApcDisable != 0 ||
                                                  (thread->ApcState.InProgressFlags & KERNEL_APC_IN_PROGRESS)))) {
            KiReleaseDispatcherLock(irql);
            return;
        }
        run_apc(thread, apc, irql);
    }
}

/* Vector 0x1F, NT's KiApcInterrupt: taken only at PASSIVE_LEVEL (the APIC holds it above), delivers at
 * APC_LEVEL with interrupts on; a normal APC may wait, so this may return on another processor. */
VOID KiApcInterrupt(PKTRAP_FRAME TrapFrame)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    KIRQL old = (KIRQL)arch_read_cr8();

    UNREFERENCED_PARAMETER(TrapFrame);
    ASSERT(old == PASSIVE_LEVEL);
    prcb->InterruptCount++;
    prcb->Irqlab.InterruptsAtIrql[APC_LEVEL]++;
    arch_write_cr8(APC_LEVEL);
    HalPerformEndOfInterrupt();
    arch_enable_interrupts();
    KiDeliverApc();
    arch_disable_interrupts();
    arch_write_cr8(old);
}

/* What waited for a region's end or a mutex's release: deliver now at PASSIVE_LEVEL (NT's
 * KiCheckForKernelApcDelivery), else mark it pending and request the interrupt for later. */
VOID KiCheckForKernelApcDelivery(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();

    if (IsListEmpty(&thread->ApcState.ApcListHead[KernelMode]))
        return;
    if (KeGetCurrentIrql() == PASSIVE_LEVEL) {
        KfRaiseIrql(APC_LEVEL);
        KiDeliverApc();
        KeLowerIrql(PASSIVE_LEVEL);
        return;
    }
    thread->ApcState.KernelApcPending = TRUE;
    HalRequestSoftwareInterrupt(APC_LEVEL);
}

VOID KeEnterCriticalRegion(VOID)
{
    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    KeGetCurrentThread()->KernelApcDisable--; /* NT counts down: -n is n regions deep */
}

VOID KeLeaveCriticalRegion(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();

    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    ASSERT(thread->KernelApcDisable < 0);
    if (++thread->KernelApcDisable == 0 && thread->SpecialApcDisable == 0)
        KiCheckForKernelApcDelivery();
}

VOID KeEnterGuardedRegion(VOID)
{
    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    KeGetCurrentThread()->SpecialApcDisable--;
}

VOID KeLeaveGuardedRegion(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();

    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    ASSERT(thread->SpecialApcDisable < 0);
    if (++thread->SpecialApcDisable == 0)
        KiCheckForKernelApcDelivery();
}

BOOLEAN KeAreApcsDisabled(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();

    return thread->KernelApcDisable != 0 || thread->SpecialApcDisable != 0;
}

BOOLEAN KeAreAllApcsDisabled(VOID)
{
    return KeGetCurrentThread()->SpecialApcDisable != 0 || KeGetCurrentIrql() >= APC_LEVEL;
}

/*
 * IRQL: <= APC_LEVEL, the current thread ending.  No APC may be queued to it
 * from now on; what it can still take it takes now.  One left queued, or a
 * critical or guarded region never left, is NT's 0x20
 * KERNEL_APC_PENDING_DURING_EXIT (the APC, the disable count, the IRQL).
 */
VOID KiRundownApcs(VOID)
{
    PKTHREAD thread = KeGetCurrentThread();
    PLIST_ENTRY head = &thread->ApcState.ApcListHead[KernelMode];

    KIRQL irql = KiAcquireDispatcherLock();
    thread->MiscFlags &= ~KI_MISC_APC_QUEUEABLE;
    KiReleaseDispatcherLock(irql);
    if (thread->KernelApcDisable == 0 && thread->SpecialApcDisable == 0)
        KiCheckForKernelApcDelivery();
    if (IsListEmpty(head) && thread->KernelApcDisable == 0 && thread->SpecialApcDisable == 0)
        return;
    DbgPrint("thread %p ends with APCs %s (critical region depth %d, guarded %d, IRQL %u)\n", thread,
             IsListEmpty(head) ? "disabled" : "still queued", -thread->KernelApcDisable, -thread->SpecialApcDisable,
             KeGetCurrentIrql());
    KeBugCheckEx(KERNEL_APC_PENDING_DURING_EXIT,
                 IsListEmpty(head) ? 0 : (ULONG_PTR)CONTAINING_RECORD(head->Flink, KAPC, ApcListEntry),
                 (ULONG_PTR)(LONG_PTR)thread->KernelApcDisable, KeGetCurrentIrql(), 0);
}

/* Lock held.  Is Thread one of the System process's live threads?  (The debugger names threads by
 * address: a wrong one must not be followed into its lists.) */
static BOOLEAN is_live_thread(PKTHREAD Thread)
{
    PLIST_ENTRY head = &KiSystemProcess.ThreadListHead;

    for (PLIST_ENTRY e = head->Flink; e != head; e = e->Flink)
        if (CONTAINING_RECORD(e, KTHREAD, ThreadListEntry) == Thread)
            return TRUE;
    return FALSE;
}

ULONG KiQueryApcs(struct _KTHREAD *Thread, KI_APC_INFO *Apcs, ULONG Max)
{
    ULONG n = 0;

    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    if (!is_live_thread(Thread)) {
        KiReleaseDispatcherLock(irql);
        return (ULONG)-1;
    }
    PLIST_ENTRY head = &Thread->ApcState.ApcListHead[KernelMode];
    for (PLIST_ENTRY e = head->Flink; e != head && n < Max; e = e->Flink, n++) {
        PKAPC apc = CONTAINING_RECORD(e, KAPC, ApcListEntry);
        Apcs[n] = (KI_APC_INFO){ apc, (PVOID)apc->KernelRoutine, (PVOID)apc->NormalRoutine,
                                 apc->SystemArgument1, apc->SystemArgument2 };
    }
    KiReleaseDispatcherLock(irql);
    return n;
}

ULONG KiQueryThreads(struct _KTHREAD **Threads, ULONG Max)
{
    PLIST_ENTRY head = &KiSystemProcess.ThreadListHead;
    ULONG n = 0;

    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    KIRQL irql = KiAcquireDispatcherLock();
    for (PLIST_ENTRY e = head->Flink; e != head && n < Max; e = e->Flink)
        Threads[n++] = CONTAINING_RECORD(e, KTHREAD, ThreadListEntry);
    KiReleaseDispatcherLock(irql);
    return n;
}
