/*
 * kdsnap.c - a consistent look at every CPU's DPC state for the console.
 *
 * Reading another CPU's queue while it runs could see a list half linked.
 * repnz's post "Dumping DPC Queues" weighs the same problem for a driver
 * that walks the queues; here the processors are stopped first: KeIpiGenericCall brings every CPU into an IPI at
 * IPI_LEVEL, where none can be inside KeInsertQueueDpc (HIGH_LEVEL) or the
 * retire loop's locked part (interrupts off), and each copies its own state.
 * On a machine the debugger has stopped, they are stopped already: it reads them.
 */
#include "kd.h"

static KD_CPU_SNAPSHOT KdSnapshots[MAXIMUM_PROCESSORS];

/* Appends one queue's DPCs, in queue order, to the snapshot's list. */
static VOID copy_queue(KD_CPU_SNAPSHOT *S, PKDPC_DATA Data)
{
    S->DpcQueueDepth += Data->DpcQueueDepth;
    for (PSINGLE_LIST_ENTRY e = Data->DpcList.ListHead.Next; e; e = e->Next) {
        if (S->DpcEntries == KD_SNAPSHOT_DPCS) {
            S->DpcTruncated = TRUE;
            return;
        }
        PKDPC dpc = CONTAINING_RECORD(e, KDPC, DpcListEntry);
        KD_DPC_ENTRY *entry = &S->Dpcs[S->DpcEntries++];
        entry->Dpc = dpc;
        entry->Routine = dpc->DeferredRoutine;
        entry->Type = dpc->Type;
        entry->Importance = dpc->Importance;
    }
}

/* One processor's state into its snapshot, at Irql. */
static VOID copy_processor(PKPRCB prcb, KIRQL Irql)
{
    KD_CPU_SNAPSHOT *s = &KdSnapshots[prcb->Number];

    s->Taken = TRUE;
    s->Irql = Irql;
    s->DpcRoutineActive = prcb->DpcRoutineActive;
    s->DpcQueueDepth = 0;
    s->DpcCount = prcb->DpcData[0].DpcCount + prcb->DpcData[1].DpcCount;
    s->ActiveDpc = prcb->DpcData[0].ActiveDpc;
    s->DpcEntries = 0;
    s->DpcTruncated = FALSE;
    copy_queue(s, &prcb->DpcData[0]);
    copy_queue(s, &prcb->DpcData[1]); /* the threaded queue, after the normal one, as WinDbg lists them */
    prcb->DebuggerSavedIRQL = s->Irql; /* as NT's debugger saves it on entry */
    CONTAINING_RECORD(prcb, KPCR, Prcb)->Irql = s->Irql;
}

static ULONG_PTR take(ULONG_PTR Context)
{
    PKPRCB prcb = KeGetCurrentPrcb();

    /* What this IPI interrupted; the console's own CPU was not interrupted: its level is passed in. */
    copy_processor(prcb, (Context >> 8) == prcb->Number ? (KIRQL)Context : prcb->Irqlab.PreviousIrql);
    return 0;
}

const KD_CPU_SNAPSHOT *KdSnapshotProcessors(VOID)
{
    for (ULONG n = 0; n < MAXIMUM_PROCESSORS; n++)
        KdSnapshots[n].Taken = FALSE;
    if (KdIsStopped()) { /* every processor is stopped already: read each where it stopped */
        for (LONG n = 0; n < KeNumberProcessors; n++)
            copy_processor(KiProcessorBlock[n], KdStoppedIrqlOf((ULONG)n));
        return KdSnapshots;
    }
    KeIpiGenericCall(take, (ULONG_PTR)KeGetCurrentProcessorNumber() << 8 | KeGetCurrentIrql());
    return KdSnapshots;
}
