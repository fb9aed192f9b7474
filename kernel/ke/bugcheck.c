/*
 * bugcheck.c - KeBugCheckEx: stop the system with an NT-style report.
 *
 * Models NT's KeBugCheckEx: interrupts off, IRQL to HIGH_LEVEL, the other
 * processors stopped (by NMI here), one report, then no return.  The report opens with the two lines WinDbg prints when a
 * target bugchecks ("*** Fatal System Error: ..."), adds what !analyze would
 * show first (name, parameters, registers, STACK_TEXT), and QEMU exits with
 * ARCH_EXIT_BUGCHECK so a harness can never mistake it for success.
 */
#include <irqlab/hal.h>
#include <arch/arch.h>
#include <irqlab/rtl.h>
#include "ki.h"
#include "kitrace.h"

#define MAX_FRAMES 32

static const struct {
    ULONG Code;
    PCSTR Name;
} KiBugCheckNames[] = {
    { IRQL_NOT_GREATER_OR_EQUAL, "IRQL_NOT_GREATER_OR_EQUAL" },
    { IRQL_NOT_LESS_OR_EQUAL, "IRQL_NOT_LESS_OR_EQUAL" },
    { SPIN_LOCK_ALREADY_OWNED, "SPIN_LOCK_ALREADY_OWNED" },
    { SPIN_LOCK_NOT_OWNED, "SPIN_LOCK_NOT_OWNED" },
    { KMODE_EXCEPTION_NOT_HANDLED, "KMODE_EXCEPTION_NOT_HANDLED" },
    { PFN_LIST_CORRUPT, "PFN_LIST_CORRUPT" },
    { HAL_INITIALIZATION_FAILED, "HAL_INITIALIZATION_FAILED" },
    { INSTALL_MORE_MEMORY, "INSTALL_MORE_MEMORY" },
    { UNEXPECTED_KERNEL_MODE_TRAP, "UNEXPECTED_KERNEL_MODE_TRAP" },
    { NMI_HARDWARE_FAILURE, "NMI_HARDWARE_FAILURE" },
    { CLOCK_WATCHDOG_TIMEOUT, "CLOCK_WATCHDOG_TIMEOUT" },
    { BAD_POOL_CALLER, "BAD_POOL_CALLER" },
    { MAXIMUM_WAIT_OBJECTS_EXCEEDED, "MAXIMUM_WAIT_OBJECTS_EXCEEDED" },
    { THREAD_TERMINATE_HELD_MUTEX, "THREAD_TERMINATE_HELD_MUTEX" },
    { BAD_POOL_HEADER, "BAD_POOL_HEADER" },
    { MACHINE_CHECK_EXCEPTION, "MACHINE_CHECK_EXCEPTION" },
    { ATTEMPTED_SWITCH_FROM_DPC, "ATTEMPTED_SWITCH_FROM_DPC" },
    { MANUALLY_INITIATED_CRASH, "MANUALLY_INITIATED_CRASH" },
    { LOADER_BLOCK_MISMATCH, "LOADER_BLOCK_MISMATCH" },
    { DPC_WATCHDOG_VIOLATION, "DPC_WATCHDOG_VIOLATION" },
};

#define FREEZE_WAIT_US 100000 /* how long the other CPUs get to stop */

static volatile LONG KiBugCheckOwner; /* 1 + the number of the CPU that reports */

const char *KeBugCheckName(ULONG BugCheckCode)
{
    for (size_t i = 0; i < ARRAYSIZE(KiBugCheckNames); i++)
        if (KiBugCheckNames[i].Code == BugCheckCode)
            return KiBugCheckNames[i].Name;
    return NULL;
}

/* From the trap frame's RIP (the instruction itself) when there is one, else from the caller's frame. */
static void print_stack(const KTRAP_FRAME *TrapFrame, ULONG64 Rbp)
{
    KI_STACK_FRAME frames[MAX_FRAMES];
    ULONG count = TrapFrame ? KiWalkStack(TrapFrame->Rip, TrapFrame->Rsp, TrapFrame->Rbp, frames, MAX_FRAMES)
                            : KiWalkStack(0, 0, Rbp, frames, MAX_FRAMES);

    DbgPrint("STACK_TEXT:\n");
    KiPrintStack("", frames, count, KI_STACK_NUMBERS | KI_STACK_TRAPS);
}

static void report(ULONG Code, const ULONG_PTR P[4], PKTRAP_FRAME TrapFrame, ULONG64 Rbp, KIRQL Irql)
{
    PCSTR name = KeBugCheckName(Code);

    DbgPrint("\n*** Fatal System Error: 0x%08x\n", Code);
    DbgPrint("                       (0x%016llX,0x%016llX,0x%016llX,0x%016llX)\n\n",
             (ULONG64)P[0], (ULONG64)P[1], (ULONG64)P[2], (ULONG64)P[3]);
    DbgPrint("%s (%x)\n", name ? name : "UNKNOWN_BUGCHECK_CODE", Code);
    DbgPrint("Arguments:\nArg1: %016llx\nArg2: %016llx\nArg3: %016llx\nArg4: %016llx\n\n",
             (ULONG64)P[0], (ULONG64)P[1], (ULONG64)P[2], (ULONG64)P[3]);
    DbgPrint("PROCESSOR: %u  IRQL: %u (%s)  BUGCHECK_CODE: %x\n", KeGetCurrentProcessorNumber(), Irql,
             KeIrqlName(Irql), Code);
    DbgPrint("cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx\n", arch_read_cr0(), arch_read_cr2(),
             arch_read_cr3(), arch_read_cr4());
    if (TrapFrame)
        KiPrintTrapFrame(TrapFrame);
    print_stack(TrapFrame, Rbp);
}

BOOLEAN KiBugCheckInProgress(void)
{
    return __atomic_load_n(&KiBugCheckOwner, __ATOMIC_ACQUIRE) != 0;
}

/* A CPU that must not run on while another reports: NT's freeze, without a thaw. */
void KiFreezeProcessor(void)
{
    arch_disable_interrupts();
    __atomic_store_n(&KeGetCurrentPrcb()->IpiFrozen, 1, __ATOMIC_RELEASE);
    for (;;)
        arch_halt(); /* NMIs stay blocked: this CPU never returns from the one that froze it */
}

/* An NMI to every other CPU (it gets through any IRQL); returns how many stopped in time. */
static ULONG freeze_others(void)
{
    ULONG frozen = 0;

    if (KeNumberProcessors < 2)
        return 0;
    HalSendNmiToOthers();
    for (ULONG waited = 0; waited < FREEZE_WAIT_US; waited += 100) {
        frozen = 0;
        for (LONG n = 0; n < KeNumberProcessors; n++)
            frozen += KiProcessorBlock[n] && __atomic_load_n(&KiProcessorBlock[n]->IpiFrozen, __ATOMIC_ACQUIRE);
        if (frozen + 1 == (ULONG)KeNumberProcessors)
            break;
        KeStallExecutionProcessor(100);
    }
    return frozen;
}

/* 0x101: where the NMI found the processor that had stopped taking its clock (P3, its KPRCB). */
static void describe_silent_processor(const ULONG_PTR P[4])
{
    PKPRCB silent = (PKPRCB)P[2];
    CHAR symbol[96];

    if (!silent->IpiFrozen) {
        DbgPrint("processor %u did not answer the NMI either\n", silent->Number);
        return;
    }
    KiFormatSymbol(silent->Irqlab.FrozenRip, symbol, sizeof(symbol));
    DbgPrint("processor %u took no clock interrupt in %llu ticks; the NMI found it at %s (%016llx), IRQL %u, "
             "interrupts %s\n", silent->Number, (ULONG64)P[0], symbol, silent->Irqlab.FrozenRip,
             silent->Irqlab.FrozenIrql, silent->Irqlab.FrozenInterruptsOn ? "on" : "off");
}

static DECLSPEC_NORETURN void bugcheck(ULONG Code, const ULONG_PTR P[4], PKTRAP_FRAME TrapFrame,
                                       ULONG64 Rbp)
{
    arch_disable_interrupts();
    KIRQL irql = (KIRQL)arch_read_cr8();
    KI_TRACE(KTRACE_CAT_BUGCHECK, KTRACE_BUGCHECK, irql, irql, Code, P[0]);
    arch_write_cr8(HIGH_LEVEL);
    LONG me = (LONG)KeGetCurrentProcessorNumber() + 1, owner = 0;
    if (!__atomic_compare_exchange_n(&KiBugCheckOwner, &owner, me, FALSE, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        if (owner != me)
            KiFreezeProcessor(); /* another CPU is already reporting: one report only */
        /* A fault inside our own report: say so and stop, never loop. */
        KiPrintForceUnlock();
        DbgPrint("\n*** nested bugcheck 0x%08x during the bugcheck report\n", Code);
        DbgPrint("# irqlab: system halted after bugcheck 0x%08X\n", Code);
        arch_exit_emulator(ARCH_EXIT_BUGCHECK);
    }
    ULONG frozen = freeze_others();
    KiPrintForceUnlock(); /* a frozen CPU may have held it */
    report(Code, P, TrapFrame, Rbp, irql);
    if (KeNumberProcessors > 1)
        DbgPrint("other processors: %u of %d stopped by NMI\n", frozen, KeNumberProcessors - 1);
    if (Code == CLOCK_WATCHDOG_TIMEOUT)
        describe_silent_processor(P);
    KiInvokeBugCheckCallbacks(Code, P);
    DbgPrint("# irqlab: system halted after bugcheck 0x%08X\n", Code);
    arch_exit_emulator(ARCH_EXIT_BUGCHECK);
}

void KiBugCheckWithFrame(ULONG Code, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4,
                         PKTRAP_FRAME TrapFrame)
{
    const ULONG_PTR p[4] = { P1, P2, P3, P4 };
    bugcheck(Code, p, TrapFrame, 0);
}

VOID KeBugCheckEx(ULONG BugCheckCode, ULONG_PTR P1, ULONG_PTR P2, ULONG_PTR P3, ULONG_PTR P4)
{
    const ULONG_PTR p[4] = { P1, P2, P3, P4 };
    bugcheck(BugCheckCode, p, NULL, arch_frame_pointer());
}

VOID KeBugCheck(ULONG BugCheckCode)
{
    const ULONG_PTR p[4] = { 0, 0, 0, 0 };
    bugcheck(BugCheckCode, p, NULL, arch_frame_pointer());
}
