/*
 * cmd_basic.c - the console's general commands: version, .echo, .sleep, ?
 * (evaluate), ln (nearest symbol), r (registers), quit, reboot (the k
 * family is cmd_stack.c).
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/hal.h>
#include <irqlab/kequery.h>
#include <irqlab/wait.h>
#include "kd.h"

KD_COMMAND(version, "version", "version", "kernel version, processors and clock")
{
    PCSTR source;
    ULONG64 hz = KeQueryTscFrequency(&source);

    if (!KdNoMoreArguments(Args, "version"))
        return;
    DbgPrint("irqlab %s, x64, %d processors, TSC %llu MHz (%s)\n", KiVersionString, KeNumberProcessors,
             hz / 1000000, source);
}

KD_COMMAND(echo, ".echo", ".echo <text>", "print the text")
{
    DbgPrint("%s\n", Args);
}

/* WinDbg's .sleep: the console waits (its thread blocks, so this processor switches to another
 * thread) while the machine runs on. */
KD_COMMAND(sleep, ".sleep", ".sleep <milliseconds>", "the console waits that long while the machine runs")
{
    ULONG64 ms;

    if (!KdRestValue(&Args, &ms, "milliseconds"))
        return;
    if (ms == 0 || ms > 60000) {
        DbgPrint(".sleep: 1 to 0n60000 milliseconds, not 0n%llu\n", ms);
        return;
    }
    LARGE_INTEGER interval = { .QuadPart = -(LONG64)ms * 10000 };
    KeDelayExecutionThread(KernelMode, FALSE, &interval);
    DbgPrint("Slept 0n%llu ms; the machine ran on\n", ms); /* every console line gets an answer */
}

KD_COMMAND(evaluate, "?", "? <expression>",
           "evaluate the rest of the line (hex, 0n decimal, symbols, @rip, poi(), spaces allowed)")
{
    CHAR text[24];
    ULONG64 value;

    if (!KdRestValue(&Args, &value, "expression"))
        return;
    KdFormatAddress(value, text, sizeof(text));
    DbgPrint("Evaluate expression: %lld = %s\n", (LONG64)value, text);
}

/* ln in WinDbg's form: "(start)   symbol+offset   |  (next)   next symbol", and the exact match. */
KD_COMMAND(ln, "ln", "ln <address>", "the symbols around an address: the one at or below it, and the next")
{
    CHAR text[24], start_text[24], next_text[24], symbol[96];
    PCSTR name, next;
    ULONG_PTR offset, next_start;
    ULONG64 address;

    if (!KdRestValue(&Args, &address, "address"))
        return;
    KdFormatAddress(address, text, sizeof(text));
    if (!KiLookupSymbol(address, &name, &offset)) {
        DbgPrint("No symbol for %s: not in the kernel image\n", text);
        return;
    }
    KiFormatSymbol(address, symbol, sizeof(symbol));
    KdFormatAddress(address - offset, start_text, sizeof(start_text));
    if (KiNextSymbol(address, &next, &next_start)) {
        KdFormatAddress(next_start, next_text, sizeof(next_text));
        DbgPrint("(%s)   %s   |  (%s)   irqlab!%s\n", start_text, symbol, next_text, next);
    } else {
        DbgPrint("(%s)   %s\n", start_text, symbol);
    }
    if (offset == 0)
        DbgPrint("Exact matches:\n    %s\n", symbol);
}

KD_COMMAND(registers, "r", "r [register=value]", "registers: the stopped processor's (~n), else the console's own")
{
    ULONG64 rsp = arch_stack_pointer(), rbp = arch_frame_pointer(), flags = arch_read_flags();

    if (KdIsStopped()) {
        KdStoppedRegisters(Args);
        return;
    }
    if (!KdNoMoreArguments(Args, "r"))
        return;
    DbgPrint("rsp=%016llx rbp=%016llx rip=%016llx\n", rsp, rbp, (ULONG64)(ULONG_PTR)KdCmd_registers);
    DbgPrint("cr0=%016llx cr3=%016llx cr4=%016llx cr8=%016llx\n", arch_read_cr0(), arch_read_cr3(), arch_read_cr4(),
             arch_read_cr8());
    DbgPrint("efl=%08llx gs_base=%016llx  irql=%u (%s)\n", flags, arch_rdmsr(ARCH_MSR_GS_BASE),
             KeGetCurrentIrql(), KeIrqlName(KeGetCurrentIrql()));
}

KD_COMMAND(quit, "quit", "quit", "power off (ends QEMU)")
{
    UNREFERENCED_PARAMETER(Args);
    DbgPrint("irqlab: powering off\n");
    HalReturnToFirmware(HalPowerDownRoutine);
}

KD_COMMAND(reboot, "reboot", "reboot",
           "reset the machine; a QEMU run with -no-reboot (make run, make test) exits instead, status 0")
{
    UNREFERENCED_PARAMETER(Args);
    DbgPrint("irqlab: resetting the machine (a QEMU run with -no-reboot, as make run does, exits here)\n");
    HalReturnToFirmware(HalRebootRoutine);
}
