/*
 * dpcthread.c - threaded DPCs: each processor's DPC thread, bound to it at
 * priority 31, runs the DPCs queued on its KPRCB.DpcData[1] at
 * PASSIVE_LEVEL, so interrupts and normal DPCs preempt a threaded DPC and
 * no other thread does (Microsoft's "Introduction to Threaded DPCs").
 *
 * KeInsertQueueDpc (dpc.c) queues a threaded DPC there only where
 * ThreadDpcEnable is set, marks DpcThreadRequested and DpcNormalThreadSignal
 * and asks for the DISPATCH interrupt; its retire step sees the signal and
 * sets the thread's event.  The thread drains with DpcThreadActive set and
 * reads the depth again after clearing it, so an insert that saw it active
 * is not left behind.  threadeddpcs=0 leaves ThreadDpcEnable clear: threaded
 * DPCs then run as normal ones, as NT's do when they are turned off.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include "ki.h"
#include "kitrace.h"

KE_COMMAND_LINE_OPTION(threadeddpcs, "threadeddpcs",
                       "threadeddpcs=0: threaded DPCs run as normal DPCs at DISPATCH_LEVEL (default 1: in DPC threads)");

static PKI_PROCESSOR processor_of(PKPRCB Prcb)
{
    return CONTAINING_RECORD(CONTAINING_RECORD(Prcb, KPCR, Prcb), KI_PROCESSOR, Pcr);
}

VOID KiSignalDpcThread(PKPRCB Prcb)
{
    if (Prcb->ThreadDpcEnable)
        KeSetEvent(&processor_of(Prcb)->DpcEvent, IO_NO_INCREMENT, FALSE);
}

/* PASSIVE_LEVEL.  One threaded DPC: its routine must return at the level it was called at. */
static VOID call_threaded(PKDPC_DATA Data, const KI_DPC_CALL *Call)
{
    Data->ActiveDpc = Call->Dpc;
    KI_TRACE(KTRACE_CAT_DPC, KTRACE_DPC_BEGIN, PASSIVE_LEVEL, Data->DpcQueueDepth, Call->Routine, Call->Dpc);
    Call->Routine(Call->Dpc, Call->Context, Call->Arg1, Call->Arg2);
    KI_TRACE(KTRACE_CAT_DPC, KTRACE_DPC_END, KI_TRACE_READ_IRQL, 0, Call->Routine, Call->Dpc);
    KIRQL irql = KeGetCurrentIrql();
    if (irql != PASSIVE_LEVEL) /* as a normal DPC's check, at the threaded DPC's own level */
        KeBugCheckEx(IRQL_NOT_GREATER_OR_EQUAL, irql, PASSIVE_LEVEL, 0, (ULONG_PTR)Call->Routine);
    Data->ActiveDpc = NULL;
}

/* PASSIVE_LEVEL.  Takes each DPC off under the queue's lock at HIGH_LEVEL, as inserts do. */
static VOID drain(PKDPC_DATA Data)
{
    KI_DPC_CALL call;

    for (;;) {
        KIRQL old = KfRaiseIrql(HIGH_LEVEL);
        BOOLEAN taken = KiTakeDpc(Data, HIGH_LEVEL, &call);
        KeLowerIrql(old);
        if (!taken)
            return;
        call_threaded(Data, &call);
    }
}

/* NT's KiExecuteDpc, for one processor: wait for a signal, drain DpcData[1], wait again. */
static VOID KiDpcThread(PVOID Context)
{
    PKPRCB prcb = Context;
    PKDPC_DATA data = &prcb->DpcData[1];

    for (;;) {
        KeWaitForSingleObject(&processor_of(prcb)->DpcEvent, Executive, KernelMode, FALSE, NULL);
        do {
            __atomic_or_fetch(&prcb->DpcRequestSummary, DPC_THREAD_ACTIVE, __ATOMIC_ACQ_REL);
            __atomic_and_fetch(&prcb->DpcRequestSummary, ~DPC_THREAD_REQUESTED, __ATOMIC_ACQ_REL);
            drain(data);
            /* A locked operation: the depth read below cannot pass it (an insert may have seen ACTIVE). */
            __atomic_and_fetch(&prcb->DpcRequestSummary, ~DPC_THREAD_ACTIVE, __ATOMIC_ACQ_REL);
        } while (__atomic_load_n(&data->DpcQueueDepth, __ATOMIC_ACQUIRE) != 0);
    }
}

/* PASSIVE_LEVEL, at boot once every processor runs: a DPC thread for each, unless threadeddpcs=0. */
VOID KeStartDpcThreads(VOID)
{
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    if (KeGetCommandLineValue("threadeddpcs") && KeGetCommandLineNumber("threadeddpcs", 0, 1, 1) == 0) {
        DbgPrint("dpc: threadeddpcs=0: threaded DPCs run as normal DPCs\n");
        return;
    }
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        PKI_PROCESSOR p = processor_of(KiProcessorBlock[n]);
        PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);
        if (stack == NULL) { /* that CPU runs its threaded DPCs as normal ones */
            DbgPrint("dpc: no stack for processor %d's DPC thread: its threaded DPCs run as normal DPCs\n", n);
            continue;
        }
        KeInitializeEvent(&p->DpcEvent, SynchronizationEvent, FALSE);
        KeInitializeThread(&p->DpcThread, stack, KERNEL_STACK_PAGES, KiDpcThread, KiProcessorBlock[n],
                           HIGH_PRIORITY);
        p->DpcThread.Affinity.Mask = 1ull << n;
        KeStartThread(&p->DpcThread);
        __atomic_store_n(&KiProcessorBlock[n]->ThreadDpcEnable, 1, __ATOMIC_RELEASE);
    }
}
