/*
 * kdsupport.c - Ke's half of the kernel debugger (kernel/kd/kdstop.c):
 * the breakpoint and debug traps handed to it, every other processor
 * stopped in an NMI with its registers saved and let go again (NT's
 * KeFreezeExecution and KeThawExecution), the clock's poll for a break-in
 * (NT's KdPollBreakIn, answered with a breakpoint where the clock
 * interrupted), and breakpoints written into the read-only kernel text
 * through the physical memory map, and the debug registers every processor
 * loads (ba).  Its code sits in the debugger's own text range (linker.ld):
 * no breakpoint may be set on it.
 */
#include <arch/arch.h>
#include <irqlab/hal.h>
#include <irqlab/memmap.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include "ki.h"

#define KD_TEXT __attribute__((section(".text.kdstop")))

extern const UCHAR __KernelStart[], __TextEnd[];

BOOLEAN KdDebuggerEnabled; /* NT's KD_DEBUGGER_ENABLED: a debugger takes int 3 and #DB */
static PKD_STOP_ROUTINE KiDebuggerStop;
static PKD_POLL_ROUTINE KiDebuggerPoll;
static volatile LONG KiFreezeRequested; /* the debugger holds the others while it is set */
static BOOLEAN KiFreezeHoldsPrint;      /* the stop holds DbgPrint's lock (print.c) */
static ULONG64 KiDebugAddress[4];        /* DR0-DR3 and DR7 as every running processor holds them; */
static ULONG64 KiDebugControl;           /* a stopped one holds DR7 0, so the debugger's reads never fire */

VOID KeConnectDebugger(PKD_STOP_ROUTINE Stop, PKD_POLL_ROUTINE PollBreakIn)
{
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KiDebuggerStop = Stop;
    KiDebuggerPoll = PollBreakIn;
    KdDebuggerEnabled = TRUE;
}

KD_TEXT BOOLEAN KiDebuggerTrap(PKTRAP_FRAME TrapFrame)
{
    return KiDebuggerStop != NULL && KiDebuggerStop(TrapFrame);
}

/* CPU 0's clock, CLOCK_LEVEL: a break-in stops the machine right here, where the clock came in. */
VOID KiPollDebugger(VOID)
{
    if (KiDebuggerPoll != NULL && KiDebuggerPoll())
        DbgBreakPoint();
}

static KD_TEXT VOID load_debug_registers(VOID)
{
    arch_write_debug_registers(KiDebugAddress, KiDebugControl);
}

static ULONG_PTR load_everywhere(ULONG_PTR Unused)
{
    UNREFERENCED_PARAMETER(Unused);
    load_debug_registers();
    return 0;
}

VOID KeSetDebugRegisters(const ULONG64 Address[4], ULONG64 Control)
{
    BOOLEAN held = __atomic_load_n(&KiFreezeRequested, __ATOMIC_ACQUIRE) || KiBugCheckInProgress();

    ASSERT(held || KeGetCurrentIrql() <= DISPATCH_LEVEL);
    memcpy(KiDebugAddress, Address, sizeof(KiDebugAddress));
    KiDebugControl = Control;
    if (!held) /* else each processor loads them as it is let go (never, after a bugcheck) */
        KeIpiGenericCall(load_everywhere, 0);
}

/* The NMI: TRUE when it was the debugger's, once this CPU has been let go. */
KD_TEXT BOOLEAN KiDebuggerFreezeNmi(PKTRAP_FRAME TrapFrame)
{
    PKPRCB prcb = KeGetCurrentPrcb();

    if (!__atomic_load_n(&KiFreezeRequested, __ATOMIC_ACQUIRE))
        return FALSE;
    arch_write_dr7(0);
    prcb->Irqlab.DebugFrame = TrapFrame;
    prcb->Irqlab.FrozenIrql = (KIRQL)arch_read_cr8();
    __atomic_store_n(&prcb->IpiFrozen, 1, __ATOMIC_RELEASE);
    while (__atomic_load_n(&KiFreezeRequested, __ATOMIC_ACQUIRE))
        arch_pause();
    prcb->Irqlab.DebugFrame = NULL;
    load_debug_registers(); /* with whatever ba changed meanwhile */
    __atomic_store_n(&prcb->IpiFrozen, 0, __ATOMIC_RELEASE);
    return TRUE;
}

KD_TEXT ULONG KeFreezeExecution(VOID)
{
    ULONG frozen = 0;

    ASSERT(!(arch_read_flags() & ARCH_FLAGS_IF)); /* an interrupt here would run on a half-stopped machine */
    arch_write_dr7(0);
    KiFreezeHoldsPrint = KiHoldPrintForStop(); /* no processor is frozen in the middle of a line */
    __atomic_store_n(&KiFreezeRequested, 1, __ATOMIC_RELEASE);
    if (KeNumberProcessors < 2)
        return 0;
    HalSendNmiToOthers();
    for (ULONG waited = 0; waited < 100000; waited += 10) { /* 100 ms: an NMI gets through anything */
        frozen = 0;
        for (LONG n = 0; n < KeNumberProcessors; n++)
            frozen += KiProcessorBlock[n] != KeGetCurrentPrcb() &&
                      __atomic_load_n(&KiProcessorBlock[n]->IpiFrozen, __ATOMIC_ACQUIRE);
        if (frozen + 1 == (ULONG)KeNumberProcessors)
            break;
        KeStallExecutionProcessor(10);
    }
    return frozen;
}

KD_TEXT VOID KeThawExecution(VOID)
{
    for (LONG n = 0; n < KeNumberProcessors; n++) { /* the stop was not theirs to count */
        PKPRCB p = KiProcessorBlock[n];
        p->DpcTimeCount = p->DpcTimeLimit;
        p->DpcWatchdogCount = p->DpcWatchdogPeriod;
        p->Irqlab.WatchedTicks = 0;
    }
    load_debug_registers();
    __atomic_store_n(&KiFreezeRequested, 0, __ATOMIC_RELEASE);
    for (LONG n = 0; n < KeNumberProcessors; n++) /* all gone back before a new stop can begin */
        while (KiProcessorBlock[n] != KeGetCurrentPrcb() && __atomic_load_n(&KiProcessorBlock[n]->IpiFrozen,
                                                                            __ATOMIC_ACQUIRE))
            arch_pause();
    KiReleasePrintAfterStop(KiFreezeHoldsPrint);
    KiFreezeHoldsPrint = FALSE;
}

BOOLEAN KeIsKernelText(ULONG64 Address)
{
    return Address >= (ULONG64)__KernelStart && Address < (ULONG64)__TextEnd;
}

KD_TEXT BOOLEAN KeWriteKernelText(ULONG64 Address, UCHAR Value, PUCHAR Old)
{
    ULONG64 physical = KeIsKernelText(Address) ? MmGetPhysicalAddress((PVOID)Address) : 0;

    if (physical == 0)
        return FALSE;
    volatile UCHAR *alias = MmDirectMap(physical); /* writable, not executable: the text's own mapping stays R-X */
    if (Old)
        *Old = *alias;
    *alias = Value;
    arch_serialize(); /* Intel SDM vol. 3, 9.1.3: a serializing instruction after modifying code */
    return TRUE;
}
