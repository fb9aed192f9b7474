/*
 * startup.c - what the boot sequence (kernel/init/) asks of Ke, in order:
 * the boot processor's KPCR and tables, its kernel stack, then the system's
 * interrupts, IPIs, DPCs, clock and run-time (NT's KiInitializeKernel and
 * KiSystemStartup's Ke half).  Starting the other processors is mp.c.
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/keboot.h>
#include <irqlab/mm.h>
#include <irqlab/vectors.h>
#include "ki.h"

ULONG64 KiBootTsc, KiProcessorsUpTsc;
static KINTERRUPT KiApicErrorInterrupt;

VOID KeInitializeBootProcessor(VOID)
{
    PKI_PROCESSOR boot = KiBootProcessorBlock();

    KiBootTsc = arch_rdtsc();
    /* GS and the descriptor tables first: from here a fault is a readable bugcheck. */
    KiInitializeProcessorBlock(boot, 0, 0);
    arch_cpu_init(boot->ArchTables, &boot->Pcr, NULL);
    boot->Pcr.Prcb.ClockOwner = TRUE;
    KiAddActiveProcessor(&boot->Pcr.Prcb);
    arch_serial_init();
    RtlSetDebugPrintRoutine(KiPrintRaw);
}

VOID KeSwitchToKernelStack(VOID (*Continue)(PVOID), PVOID Context)
{
    PKI_PROCESSOR boot = KiBootProcessorBlock();

    if (!KiAllocateProcessorStacks(boot))
        KeBugCheckEx(INSTALL_MORE_MEMORY, MmGetFreePageCount(), 0, 0, 0);
    arch_cpu_set_ist_stacks(boot->ArchTables, boot->StackTop[KI_STACK_DOUBLE_FAULT],
                            boot->StackTop[KI_STACK_NMI], boot->StackTop[KI_STACK_MACHINE_CHECK]);
    arch_switch_stack(boot->StackTop[KI_STACK_KERNEL], Continue, Context);
}

static BOOLEAN KiApicErrorService(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    DbgPrint("apic: error interrupt, ESR %08x (%u so far)\n", HalQueryApicError(), Interrupt->DispatchCount + 1);
    return TRUE;
}

VOID KeInitializeSystem(ULONG BootApicId)
{
    ASSERT(!(arch_read_flags() & ARCH_FLAGS_IF));
    KeGetCurrentPrcb()->InitialApicId = BootApicId;
    KiInitializeInterrupts();
    KiConnectSystemInterrupt(&KiApicErrorInterrupt, KiApicErrorService, APIC_ERROR_VECTOR);
    KiInitializeBootThreads(KiBootProcessorBlock());
    KiInitializeIpi();
    KiInitializeClock();
    KiInitializeRunTime();
    /* From here on the CPU takes interrupts; CR8 (IRQL) decides which. */
    arch_enable_interrupts();
}
