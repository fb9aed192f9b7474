/*
 * cmd_thread.c - the thread commands in WinDbg's spirit: !thread [address]
 * (state, priority, wait, stack), !running (what each processor runs) and
 * !ready (each processor's ready queues).  A thread is read through the
 * safe copy, so a wrong address gets a message, not a fault; the ready
 * queues are copied by Ke under its dispatcher lock.
 */
#include <irqlab/kequery.h>
#include <irqlab/rtl.h>
#include <irqlab/iomgr.h>
#include <irqlab/ps.h>
#include <irqlab/thread.h>
#include "kd.h"

static const PCSTR KdStates[] = { "INITIALIZED", "READY", "RUNNING", "STANDBY", "TERMINATED", "WAIT",
                                  "TRANSITION", "DEFERREDREADY" };

static PCSTR state_name(UCHAR State)
{
    return State < ARRAYSIZE(KdStates) ? KdStates[State] : "?";
}

/* Its saved frame (arch_switch_context's pushes): RBP at +0x28 under the return address, a frame
 * as any other, so the walk starts there. */
static VOID print_stack(const KTHREAD *Thread)
{
    KI_STACK_FRAME frames[16];

    if (Thread->State == Running)
        return;
    ULONG n = KiWalkStack(0, 0, (ULONG64)Thread->KernelStack + 0x28, frames, ARRAYSIZE(frames));
    if (n)
        KiPrintStack("        ", frames, n, 0);
}

static VOID print_waits(const KTHREAD *Thread)
{
    KWAIT_BLOCK blocks[MAXIMUM_WAIT_OBJECTS];
    ULONG count = Thread->WaitBlockCount;

    if (Thread->State != Waiting)
        return;
    DbgPrint("    WaitReason %u, WaitIrql %u, since tick %u\n", Thread->WaitReason, Thread->WaitIrql,
             Thread->WaitTime);
    if (count > MAXIMUM_WAIT_OBJECTS || !KdReadMemory((ULONG64)Thread->WaitBlockList, blocks, count * sizeof(blocks[0])))
        return;
    for (ULONG i = 0; i < count; i++)
        DbgPrint("        %016llx  %s\n", (ULONG64)blocks[i].Object, blocks[i].WaitType == WaitAll ? "WaitAll" : "WaitAny");
}

/* A system thread's IRPs not yet completed to it (ETHREAD.IrpList), as WinDbg's "IRP List". */
static VOID print_irps(ULONG64 Address, const KTHREAD *Thread)
{
    ULONG64 head = Address + offsetof(ETHREAD, IrpList), e;
    IRP irp;

    if (!(Thread->MiscFlags & PSP_ETHREAD) || !KdReadMemory(head, &e, sizeof(e)) || e == head)
        return;
    DbgPrint("    IRP List:\n");
    for (ULONG n = 0; e != head && n < 8; n++) {
        ULONG64 at = e - offsetof(IRP, ThreadListEntry);
        if (!KdReadMemory(at, &irp, sizeof(irp)))
            return;
        DbgPrint("        %016llx: (%04x,%04x) Flags: %08x  CurrentLocation %d of %d  (!irp %016llx)\n", at,
                 irp.Type, irp.Size, irp.Flags, irp.CurrentLocation, irp.StackCount, at);
        e = (ULONG64)irp.ThreadListEntry.Flink;
    }
}

/* A thread PsCreateSystemThread made: its client ID and routine, as WinDbg's Cid and Start Address lines. */
static VOID print_start(ULONG64 Address, const KTHREAD *Thread)
{
    ETHREAD e;
    CHAR name[96];

    if (!(Thread->MiscFlags & PSP_ETHREAD) || !KdReadMemory(Address, &e, sizeof(e)))
        return;
    KiFormatSymbol((ULONG_PTR)e.StartRoutine, name, sizeof(name));
    DbgPrint("    Cid %04llx.%04llx  Start Address %s (%016llx)\n", (ULONG64)e.Cid.UniqueProcess,
             (ULONG64)e.Cid.UniqueThread, name, (ULONG64)e.StartRoutine);
}

KD_COMMAND(thread, "!thread", "!thread [address]", "a thread: state, priority, wait, stack (default: this one)")
{
    ULONG64 address = (ULONG64)KeGetCurrentThread();
    KTHREAD t;

    if (!KdNextValue(&Args, &address, FALSE, "thread address") && !KdAtEnd(Args))
        return;
    if (!KdNoMoreArguments(Args, "!thread [address]"))
        return;
    if (!KdReadMemory(address, &t, sizeof(t))) {
        KdMemoryError(address);
        return;
    }
    if (t.Header.Type != ThreadObject) {
        DbgPrint("%016llx is not a thread (its header's Type is %u, a thread's is %u)\n", address, t.Header.Type,
                 ThreadObject);
        return;
    }
    DbgPrint("THREAD %016llx  %s on processor %u\n", address, state_name(t.State), t.NextProcessor);
    DbgPrint("    Priority %d BasePriority %d  Quantum %llu of %u  ContextSwitches %u  KernelTime %u ticks\n",
             t.Priority, t.BasePriority, t.QuantumTarget, t.QuantumReset, t.ContextSwitches, t.KernelTime);
    DbgPrint("    Affinity %llx  Stack %016llx - %016llx  Process %016llx\n", t.Affinity.Mask, (ULONG64)t.StackLimit,
             (ULONG64)t.StackBase, (ULONG64)t.Process);
    DbgPrint("    APCs: KernelApcPending %u, KernelApcDisable %d, SpecialApcDisable %d%s (!apc %016llx)\n",
             t.ApcState.KernelApcPending, t.KernelApcDisable, t.SpecialApcDisable,
             t.ApcState.InProgressFlags ? ", one running" : "", address);
    print_start(address, &t);
    print_waits(&t);
    print_irps(address, &t);
    print_stack(&t);
}

KD_COMMAND(running, "!running", "!running", "what each processor runs now, and what it runs next")
{
    const KD_CPU_SNAPSHOT *snap = KdSnapshotProcessors();

    if (!KdNoMoreArguments(Args, "!running"))
        return;
    DbgPrint("System Processors:  (%016llx)\n", (ULONG64)KeQueryActiveProcessors());
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        PKPRCB p = KiProcessorBlock[n];
        BOOLEAN idle = p->CurrentThread == p->IdleThread;
        DbgPrint("  %3d    %016llx  %016llx  %016llx  IRQL %u %s\n", n, (ULONG64)p, (ULONG64)p->CurrentThread,
                 (ULONG64)p->NextThread, snap[n].Irql, idle ? "(idle)" : "");
    }
}

KD_COMMAND(ready, "!ready", "!ready [processor]", "the ready queues, highest priority first")
{
    PKTHREAD threads[64];
    ULONG n;

    if (!KdProcessorArgument(&Args, &n) || !KdNoMoreArguments(Args, "!ready [processor]"))
        return;
    ULONG count = KiQueryReadyThreads(n, threads, ARRAYSIZE(threads));
    DbgPrint("Processor %u: %u ready thread%s (ReadySummary %08x)\n", n, count, count == 1 ? "" : "s",
             KiProcessorBlock[n]->ReadySummary);
    for (ULONG i = 0; i < count; i++)
        DbgPrint("    THREAD %016llx  Priority %d\n", (ULONG64)threads[i], threads[i]->Priority);
}
