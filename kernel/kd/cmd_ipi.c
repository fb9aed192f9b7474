/*
 * cmd_ipi.c - !ipi [processor]: each processor's interprocessor-interrupt
 * state, after WinDbg's !ipi
 * (https://learn.microsoft.com/windows-hardware/drivers/debuggercmds/-ipi):
 * the requests senders have set and it has not taken yet
 * (KPRCB.Irqlab.IpiRequests, KI_IPI_* bits), the IPIs it has received, and
 * NT's packet fields at their 19041 offsets (PacketBarrier, TargetCount,
 * IpiFrozen).  The fields are read live, not through KdSnapshotProcessors:
 * a snapshot is itself an IPI to every processor and would change them.
 */
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/kequery.h>
#include "kd.h"

/* The KI_IPI_* bits by name ("none" when clear); bits irqlab does not define print in hex. */
static VOID request_names(ULONG Requests, CHAR *Out, ULONG Size)
{
    static const struct { ULONG Bit; PCSTR Name; } names[] = {
        { KI_IPI_GENERIC_CALL, "generic" }, { KI_IPI_DPC, "dpc" }, { KI_IPI_APC, "apc" },
    };
    ULONG used = 0;

    Out[0] = '\0';
    for (ULONG i = 0; i < ARRAYSIZE(names); i++)
        if (Requests & names[i].Bit) {
            used += (ULONG)RtlFormat(Out + used, Size - used, "%s%s", used ? "|" : "", names[i].Name);
            Requests &= ~names[i].Bit;
            if (used >= Size)
                return;
        }
    if (Requests)
        RtlFormat(Out + used, Size - used, "%s%x", used ? "|" : "", Requests);
    else if (used == 0)
        RtlFormat(Out, Size, "none");
}

static VOID print_processor(ULONG Number)
{
    PKPRCB prcb = KiProcessorBlock[Number];
    CHAR address[24], requests[40];

    KdFormatAddress((ULONG64)(ULONG_PTR)prcb, address, sizeof(address));
    request_names(__atomic_load_n(&prcb->Irqlab.IpiRequests, __ATOMIC_ACQUIRE), requests, sizeof(requests));
    DbgPrint("%3x %s %-16s %-12llu %-13d %-11d %u\n", Number, address, requests,
             __atomic_load_n(&prcb->Irqlab.IpiCount, __ATOMIC_RELAXED),
             __atomic_load_n(&prcb->PacketBarrier, __ATOMIC_RELAXED),
             __atomic_load_n(&prcb->TargetCount, __ATOMIC_RELAXED),
             __atomic_load_n(&prcb->IpiFrozen, __ATOMIC_RELAXED));
}

KD_COMMAND(ipi, "!ipi", "!ipi [processor]", "IPI state: pending requests, IPIs received, NT's packet fields")
{
    ULONG number;
    BOOLEAN all = KdAtEnd(Args);

    if (!all && (!KdProcessorArgument(&Args, &number) || !KdNoMoreArguments(Args, "!ipi [processor]")))
        return;
    DbgPrint("CPU KPRCB             Requests         Received     PacketBarrier TargetCount IpiFrozen\n");
    for (ULONG n = 0; n < (ULONG)KeNumberProcessors; n++)
        if ((all || n == number) && KiProcessorBlock[n] != NULL)
            print_processor(n);
}
