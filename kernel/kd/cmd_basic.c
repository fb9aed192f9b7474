/*
 * cmd_basic.c - the console's general commands: version, .echo, ? (evaluate),
 * ln (nearest symbol), r (registers), k (stack backtrace), quit, reboot.
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include "../ke/ki.h"
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

KD_COMMAND(evaluate, "?", "? <expression>", "evaluate an expression (hex, 0n decimal, symbols, poi())")
{
    CHAR text[24];
    ULONG64 value;

    if (!KdNextValue(&Args, &value, TRUE, "expression") || !KdNoMoreArguments(Args, "? <expression>"))
        return;
    KdFormatAddress(value, text, sizeof(text));
    DbgPrint("Evaluate expression: %lld = %s\n", (LONG64)value, text);
}

KD_COMMAND(ln, "ln", "ln <address>", "the symbol nearest at or below an address")
{
    CHAR text[24], symbol[96];
    ULONG64 address;

    if (!KdNextValue(&Args, &address, TRUE, "address") || !KdNoMoreArguments(Args, "ln <address>"))
        return;
    KdFormatSymbol(address, symbol, sizeof(symbol));
    KdFormatAddress(address, text, sizeof(text));
    if (symbol[0])
        DbgPrint("(%s)   %s\n", text, symbol);
    else
        DbgPrint("No symbol for %s: not in the kernel image\n", text);
}

KD_COMMAND(registers, "r", "r", "this CPU's registers (the console's own context)")
{
    ULONG64 rsp, rbp, cr0, cr3, cr4, flags = arch_read_flags();

    if (!KdNoMoreArguments(Args, "r"))
        return;
    __asm__ volatile("mov %%rsp, %0; mov %%rbp, %1" : "=r"(rsp), "=r"(rbp));
    __asm__ volatile("mov %%cr0, %0; mov %%cr3, %1; mov %%cr4, %2" : "=r"(cr0), "=r"(cr3), "=r"(cr4));
    DbgPrint("rsp=%016llx rbp=%016llx rip=%016llx\n", rsp, rbp, (ULONG64)(ULONG_PTR)KdCmd_registers);
    DbgPrint("cr0=%016llx cr3=%016llx cr4=%016llx cr8=%016llx\n", cr0, cr3, cr4, arch_read_cr8());
    DbgPrint("efl=%08llx gs_base=%016llx  irql=%u (%s)\n", flags, arch_rdmsr(ARCH_MSR_GS_BASE),
             KeGetCurrentIrql(), KeIrqlName(KeGetCurrentIrql()));
}

KD_COMMAND(backtrace, "k", "k", "this CPU's stack backtrace (frame pointers)")
{
    ULONG64 rbp = arch_frame_pointer();
    CHAR symbol[96];

    if (!KdNoMoreArguments(Args, "k"))
        return;
    DbgPrint(" # Child-SP          RetAddr           Call Site\n");
    for (ULONG n = 0; n < 32 && rbp; n++) {
        ULONG64 frame[2]; /* saved rbp, return address */
        if (!KdReadMemory(rbp, frame, sizeof(frame)) || frame[1] == 0)
            break;
        KiFormatReturnAddress(frame[1], symbol, sizeof(symbol));
        DbgPrint("%02x %016llx %016llx %s\n", n, rbp + 16, frame[1], symbol);
        if (frame[0] <= rbp) /* frames grow upward; anything else ends the walk */
            break;
        rbp = frame[0];
    }
}

KD_COMMAND(quit, "quit", "quit", "power off (ends QEMU)")
{
    UNREFERENCED_PARAMETER(Args);
    DbgPrint("irqlab: powering off\n");
    arch_exit_emulator(KI_EXIT_SUCCESS);
}

KD_COMMAND(reboot, "reboot", "reboot",
           "reset the machine; a QEMU run with -no-reboot (make run, make test) exits instead, status 0")
{
    UNREFERENCED_PARAMETER(Args);
    DbgPrint("irqlab: resetting the machine (a QEMU run with -no-reboot, as make run does, exits here)\n");
    arch_reset();
}
