/*
 * cmd_stack.c - the stack commands in WinDbg's form: k, kn, kb, kv (the
 * console's own stack, or on a stopped machine the stopped processor's,
 * through the trap frames it was interrupted by) and
 * .trap <address> (a KTRAP_FRAME's registers and the stack below it).  Ke's
 * one walker (kernel/ke/stack.c) does the walking and the columns.
 */
#include <arch/arch.h>
#include <arch/trapframe.h>
#include "kd.h"

#define KD_STACK_FRAMES 32

/* Rbp: the command's own frame, so row 00 is the console code that ran it; on a stopped machine,
 * the stack of the processor ~n selected, from where it stopped. */
static VOID backtrace(PCSTR Args, PCSTR Usage, ULONG Flags, ULONG64 Rbp)
{
    KI_STACK_FRAME frames[KD_STACK_FRAMES];
    ULONG64 rip, rsp;

    if (!KdNoMoreArguments(Args, Usage))
        return;
    rip = rsp = 0;
    if (KdIsStopped() && KdStoppedRegisterValue("rip", &rip)) {
        KdStoppedRegisterValue("rsp", &rsp);
        KdStoppedRegisterValue("rbp", &Rbp);
    }
    KiPrintStack("", frames, KiWalkStack(rip, rsp, Rbp, frames, ARRAYSIZE(frames)), Flags);
}

KD_COMMAND(k, "k", "k", "this CPU's stack: Child-SP, RetAddr, Call Site, through trap frames")
{
    backtrace(Args, "k", KI_STACK_NUMBERS, arch_frame_pointer());
}

/* WinDbg numbers the frames by default since version 10; kn stays for the hands that type it. */
KD_COMMAND(kn, "kn", "kn", "k, with frame numbers (k has them too)")
{
    backtrace(Args, "kn", KI_STACK_NUMBERS, arch_frame_pointer());
}

KD_COMMAND(kb, "kb", "kb", "k with the first three stack arguments (the qwords at Child-SP)")
{
    backtrace(Args, "kb", KI_STACK_NUMBERS | KI_STACK_ARGS, arch_frame_pointer());
}

KD_COMMAND(kv, "kv", "kv", "kb, and (TrapFrame @ ...) on each frame that built a trap frame")
{
    backtrace(Args, "kv", KI_STACK_NUMBERS | KI_STACK_ARGS | KI_STACK_TRAPS, arch_frame_pointer());
}

KD_COMMAND(trap, ".trap", ".trap <address>", "a KTRAP_FRAME's registers and the stack from it (kv names them)")
{
    KI_STACK_FRAME frames[KD_STACK_FRAMES];
    KTRAP_FRAME f;
    ULONG64 address;

    if (!KdNextValue(&Args, &address, TRUE, "trap frame address") || !KdNoMoreArguments(Args, ".trap <address>"))
        return;
    if (!KdReadMemory(address, &f, sizeof(f))) {
        KdMemoryError(address);
        return;
    }
    KiPrintTrapFrame(&f);
    KiPrintStack("", frames, KiWalkStack(f.Rip, f.Rsp, f.Rbp, frames, ARRAYSIZE(frames)),
                 KI_STACK_NUMBERS | KI_STACK_TRAPS);
}
