/*
 * processor.c - the per-CPU KPCR/KPRCB (include/irqlab/prcb.h) and the
 * routines that find them.  GS holds the current CPU's KPCR, as on x64 NT,
 * so KeGetCurrentPrcb is one GS-relative load of KPCR.CurrentPrcb.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include "ki.h"

#define PCR_VERSION  1 /* NT's PCR_MAJOR_VERSION / PRCB_MAJOR_VERSION on x64 */
#define PRCB_BUILD_DEBUG 1

/* The boot CPU's, in .bss: it needs one before memory management exists. */
static KI_PROCESSOR KiBootProcessor;

PKPRCB KiProcessorBlock[MAXIMUM_PROCESSORS];
volatile CCHAR KeNumberProcessors;

PKPCR KeGetPcr(VOID)
{
    return (PKPCR)arch_gs_read64(offsetof(KPCR, Self));
}

ULONG KeGetCurrentProcessorNumber(VOID)
{
    return KeGetCurrentPrcb()->Number;
}

ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
    ULONG n = KeGetCurrentProcessorNumber();

    if (ProcNumber) {
        ProcNumber->Group = 0; /* one group: irqlab stops at 64 CPUs */
        ProcNumber->Number = (UCHAR)n;
        ProcNumber->Reserved = 0;
    }
    return n;
}

KAFFINITY KeQueryActiveProcessors(VOID)
{
    ULONG n = (ULONG)KeNumberProcessors;
    return n >= 64 ? ~0ull : (1ull << n) - 1;
}

ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors)
{
    if (ActiveProcessors)
        *ActiveProcessors = KeQueryActiveProcessors();
    return (ULONG)KeNumberProcessors;
}

/* The NT defaults a fresh PRCB starts from (KiInitializeProcessor / KiInitializeDpc...). */
static void init_prcb(PKPRCB Prcb, ULONG Number, ULONG ApicId)
{
    char vendor[13];

    Prcb->Number = Number;
    Prcb->LegacyNumber = (UCHAR)Number;
    Prcb->GroupIndex = (UCHAR)Number;
    Prcb->GroupSetMember = 1ull << Number;
    Prcb->InitialApicId = ApicId;
    Prcb->MajorVersion = PCR_VERSION;
    Prcb->MinorVersion = PCR_VERSION;
    Prcb->BuildType = DBG ? PRCB_BUILD_DEBUG : 0;
    KiInitializeRunTimeProcessor(Prcb);
    KiInitializeTimerProcessor(Prcb);
    for (ULONG i = 0; i < ARRAYSIZE(Prcb->DispatcherReadyListHead); i++)
        InitializeListHead(&Prcb->DispatcherReadyListHead[i]);
    for (ULONG i = 0; i < ARRAYSIZE(Prcb->DpcData); i++)
        Prcb->DpcData[i].DpcList.LastEntry = &Prcb->DpcData[i].DpcList.ListHead;
    arch_cpu_vendor(vendor);
    memcpy(Prcb->VendorString, vendor, sizeof(Prcb->VendorString));
}

VOID KiInitializeProcessorBlock(PKI_PROCESSOR Processor, ULONG Number, ULONG ApicId)
{
    PKPCR pcr = &Processor->Pcr;

    memset(pcr, 0, sizeof(*pcr));
    memset(Processor->ArchTables, 0, sizeof(Processor->ArchTables));
    pcr->Self = pcr;
    pcr->CurrentPrcb = &pcr->Prcb;
    pcr->GdtBase = arch_cpu_gdt(Processor->ArchTables);
    pcr->TssBase = arch_cpu_tss(Processor->ArchTables);
    pcr->IdtBase = arch_cpu_idt(Processor->ArchTables);
    pcr->MajorVersion = PCR_VERSION;
    pcr->MinorVersion = PCR_VERSION;
    init_prcb(&pcr->Prcb, Number, ApicId);
    pcr->Prcb.Irqlab.ArchTables = Processor->ArchTables;
}

BOOLEAN KiAllocateProcessorStacks(PKI_PROCESSOR Processor)
{
    PKPRCB prcb = &Processor->Pcr.Prcb;

    for (ULONG i = 0; i < KI_STACK_COUNT; i++) {
        if (Processor->StackTop[i] == 0)
            Processor->StackTop[i] = (ULONG64)MmCreateKernelStack(KERNEL_STACK_PAGES);
        if (Processor->StackTop[i] == 0)
            return FALSE;
    }
    prcb->Irqlab.KernelStackTop = Processor->StackTop[KI_STACK_KERNEL];
    prcb->DpcStack = (PVOID)Processor->StackTop[KI_STACK_DPC];
    for (ULONG i = 0; i < 3; i++)
        prcb->Irqlab.IstStackTop[i] = Processor->StackTop[KI_STACK_DOUBLE_FAULT + i];
    return TRUE;
}

/* Publishes a CPU that is up: from now on IPIs and the debugger see it. */
VOID KiAddActiveProcessor(PKPRCB Prcb)
{
    KiProcessorBlock[Prcb->Number] = Prcb;
    __atomic_store_n(&KeNumberProcessors, (CCHAR)(Prcb->Number + 1), __ATOMIC_RELEASE);
}

PKI_PROCESSOR KiBootProcessorBlock(VOID)
{
    return &KiBootProcessor;
}

/* Writes KPCR.Irql and KPRCB.DebuggerSavedIRQL from CR8 for the debugger; never read back. */
VOID KiSnapshotIrql(VOID)
{
    ULONG64 flags = arch_save_disable();
    PKPCR pcr = KeGetPcr();
    pcr->Irql = (KIRQL)arch_read_cr8();
    pcr->Prcb.DebuggerSavedIRQL = pcr->Irql;
    arch_restore(flags);
}
