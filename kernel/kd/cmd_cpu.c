/*
 * cmd_cpu.c - per-processor commands in WinDbg's formats: !pcr, !prcb,
 * !irql and !idt, plus irqlab's !cpus (one line per processor).  What is
 * read of another CPU comes from a snapshot taken with every CPU stopped in
 * an IPI (kdsnap.c), as the debugger would see it.
 */
#include <arch/trapframe.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/vectors.h>
#include <irqlab/kequery.h>
#include "kd.h"

/* On the stopped machine: the trap frame holding the processor's registers (a breakpoint's or a
 * step's #BP/#DB, or the freeze NMI's), as .trap takes it. */
static VOID say_frame(ULONG N, PCSTR Indent)
{
    PKTRAP_FRAME f = KdStoppedFrame(N);
    CHAR where[96];

    if (f == NULL)
        return;
    KiFormatSymbol((ULONG_PTR)f->Rip, where, sizeof(where));
    DbgPrint("%sTrapFrame: %016llx (.trap it: stopped at %s)\n", Indent, (ULONG64)f, where);
}

KD_COMMAND(pcr, "!pcr", "!pcr [processor]", "the KPCR of a processor (default: this one)")
{
    ULONG n;

    if (!KdProcessorArgument(&Args, &n) || !KdNoMoreArguments(Args, "!pcr [processor]"))
        return;
    const KD_CPU_SNAPSHOT *s = &KdSnapshotProcessors()[n];
    PKPCR pcr = CONTAINING_RECORD(KiProcessorBlock[n], KPCR, Prcb);
    DbgPrint("KPCR for Processor %u at %016llx:\n", n, (ULONG64)pcr);
    DbgPrint("    Major %u Minor %u\n", pcr->MajorVersion, pcr->MinorVersion);
    DbgPrint("\t            SelfPcr: %016llx\n", (ULONG64)pcr->Self);
    DbgPrint("\t               Prcb: %016llx\n", (ULONG64)pcr->CurrentPrcb);
    DbgPrint("\t               Irql: %016llx\n", (ULONG64)s->Irql);
    say_frame(n, "\t          ");
    DbgPrint("\t                IDT: %016llx\n", (ULONG64)pcr->IdtBase);
    DbgPrint("\t                GDT: %016llx\n", (ULONG64)pcr->GdtBase);
    DbgPrint("\t                TSS: %016llx\n\n", (ULONG64)pcr->TssBase);
    DbgPrint("\t      CurrentThread: %016llx\n", (ULONG64)pcr->Prcb.CurrentThread);
    DbgPrint("\t         NextThread: %016llx\n", (ULONG64)pcr->Prcb.NextThread);
    DbgPrint("\t         IdleThread: %016llx\n\n", (ULONG64)pcr->Prcb.IdleThread);
    DbgPrint("\t          DpcQueue: ");
    for (ULONG i = 0; i < s->DpcEntries; i++) {
        CHAR symbol[96];
        if (!KiFormatSymbol((ULONG64)s->Dpcs[i].Routine, symbol, sizeof(symbol)))
            symbol[0] = '\0';
        DbgPrint("%s0x%016llx 0x%016llx %s\n", i ? "\t                    " : "", (ULONG64)s->Dpcs[i].Dpc,
                 (ULONG64)s->Dpcs[i].Routine, symbol);
    }
    if (s->DpcEntries == 0)
        DbgPrint("\n");
}

KD_COMMAND(prcb, "!prcb", "!prcb [processor]", "the KPRCB summary of a processor: DPC queue, counters, tunables")
{
    ULONG n;

    if (!KdProcessorArgument(&Args, &n) || !KdNoMoreArguments(Args, "!prcb [processor]"))
        return;
    const KD_CPU_SNAPSHOT *s = &KdSnapshotProcessors()[n];
    PKPRCB p = KiProcessorBlock[n];
    DbgPrint("PRCB for Processor %u at %016llx:\n", n, (ULONG64)p);
    DbgPrint("Current IRQL -- %u\n", s->Irql);
    say_frame(n, "");
    DbgPrint("Threads--  Current %016llx Next %016llx Idle %016llx\n", (ULONG64)p->CurrentThread,
             (ULONG64)p->NextThread, (ULONG64)p->IdleThread);
    DbgPrint("Processor Index %u Number (%u, %u) GroupSetMember %llx\n", p->Number, p->Group, p->GroupIndex,
             (ULONG64)p->GroupSetMember);
    DbgPrint("Interrupt Count -- %08x\n", p->InterruptCount);
    DbgPrint("Times -- Dpc    %08x Interrupt %08x \n", p->DpcTime, p->InterruptTime);
    DbgPrint("         Kernel %08x User      %08x \n", p->KernelTime, p->UserTime);
}

KD_COMMAND(irql, "!irql", "!irql [processor]", "the IRQL a processor was at when the debugger stopped it")
{
    ULONG n;

    if (!KdProcessorArgument(&Args, &n) || !KdNoMoreArguments(Args, "!irql [processor]"))
        return;
    KIRQL irql = KdSnapshotProcessors()[n].Irql;
    DbgPrint("Debugger saved IRQL for processor 0x%x -- %u (%s)\n", n, irql, KeIrqlName(irql));
}

KD_COMMAND(cpus, "!cpus", "!cpus", "every processor: APIC id, IRQL, halted, interrupts, DPC queue, clock")
{
    if (!KdNoMoreArguments(Args, "!cpus"))
        return;
    const KD_CPU_SNAPSHOT *snap = KdSnapshotProcessors();
    DbgPrint("CPU APIC IRQL Idle Interrupts   Clock      DpcQueue DpcCount   IPIs\n");
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        PKPRCB p = KiProcessorBlock[n];
        DbgPrint("%3d %4u %4u %4s %10u %10u %8d %10u %6llu\n", n, p->InitialApicId, snap[n].Irql,
                 p->IdleHalt ? "hlt" : "-", p->InterruptCount, p->ClockInterrupts, snap[n].DpcQueueDepth,
                 snap[n].DpcCount, p->Irqlab.IpiCount);
    }
}

/* The handler an IDT gate points at, read from this CPU's IDT (16-byte gates). */
static BOOLEAN gate_target(ULONG Vector, ULONG64 *Target)
{
    UCHAR gate[16];

    if (!KdReadMemory((ULONG64)KeGetPcr()->IdtBase + Vector * 16ull, gate, sizeof(gate)))
        return FALSE;
    *Target = (ULONG64)(gate[0] | gate[1] << 8) | (ULONG64)(gate[6] | gate[7] << 8) << 16 |
              (ULONG64)(gate[8] | gate[9] << 8 | gate[10] << 16 | (ULONG)gate[11] << 24) << 32;
    return TRUE;
}

static VOID dump_vector(ULONG Vector, BOOLEAN Always)
{
    PKINTERRUPT chain[8];
    ULONG count = KiQueryVectorInterrupts(Vector, chain, ARRAYSIZE(chain));
    CHAR symbol[96];
    ULONG64 target;

    if (!Always && count == 0 && Vector >= 32 && Vector != DISPATCH_VECTOR)
        return;
    if (!gate_target(Vector, &target)) {
        KdMemoryError((ULONG64)KeGetPcr()->IdtBase + Vector * 16ull);
        return;
    }
    if (!KiFormatSymbol(target, symbol, sizeof(symbol)))
        symbol[0] = '\0';
    ULONG_PTR own;
    if (Vector == DISPATCH_VECTOR && KiFindSymbol("KiDpcInterrupt", 14, &own)) { /* its own entry, as in NT */
        DbgPrint("%02x:\t%016llx irqlab!KiDpcInterrupt\n", Vector, (ULONG64)own);
        return;
    }
    if (count == 0) {
        DbgPrint("%02x:\t%016llx %s\n", Vector, target, symbol);
        return;
    }
    for (ULONG i = 0; i < count; i++) {
        if (!KiFormatSymbol((ULONG64)chain[i]->ServiceRoutine, symbol, sizeof(symbol)))
            symbol[0] = '\0';
        DbgPrint("%02x:\t%016llx %s (KINTERRUPT %016llx) IRQL %u\n", Vector, target, symbol, (ULONG64)chain[i],
                 chain[i]->Irql);
    }
}

KD_COMMAND(idt, "!idt", "!idt [vector]", "the interrupt descriptor table: exceptions and connected vectors")
{
    ULONG64 vector = 0;
    BOOLEAN one = !KdAtEnd(Args);

    if (one && (!KdNextValue(&Args, &vector, TRUE, "vector") || !KdNoMoreArguments(Args, "!idt [vector]")))
        return;
    if (vector > 0xff) {
        DbgPrint("Vector %llx is out of range (00-ff)\n", vector);
        return;
    }
    DbgPrint("Dumping IDT: %016llx\n\n", (ULONG64)KeGetPcr()->IdtBase);
    if (one) {
        dump_vector((ULONG)vector, TRUE);
        return;
    }
    for (ULONG v = 0; v < 256; v++)
        dump_vector(v, v < 32);
}
