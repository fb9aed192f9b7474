/*
 * cmd_stack.c - the stack commands in WinDbg's form: k, kn, kb, kv (the
 * console's own stack, or on a stopped machine the stopped processor's,
 * through the trap frames it was interrupted by) and
 * .trap <address> (a KTRAP_FRAME's registers and the stack below it), and
 * .thread <address> (the thread k walks: a waiting one from the registers
 * its last switch saved).  Ke's one walker (kernel/ke/stack.c) does the
 * walking and the columns.
 */
#include <arch/arch.h>
#include <arch/trapframe.h>
#include <irqlab/thread.h>
#include "kd.h"

#define KD_STACK_FRAMES 32
#define SWITCH_SAVED_RBP 0x28 /* arch_switch_context pushed rbp, rbx, r12-r15: rbp sits 5 slots up */

static ULONG64 KdThreadContext; /* .thread: the waiting thread k walks, 0 for the processor's own */

/* A thread's Header.Type, State and saved RSP, read safely; FALSE when Address is no thread. */
static BOOLEAN read_thread(ULONG64 Address, UCHAR *State, ULONG64 *KernelStack)
{
    UCHAR type = 0;

    return KdReadMemory(Address + offsetof(KTHREAD, Header.Type), &type, 1) && type == ThreadObject &&
           KdReadMemory(Address + offsetof(KTHREAD, State), State, 1) &&
           KdReadMemory(Address + offsetof(KTHREAD, KernelStack), KernelStack, sizeof(*KernelStack));
}

/* Rbp: the command's own frame, so row 00 is the console code that ran it; on a stopped machine,
 * the stack of the processor ~n selected, from where it stopped. */
static VOID backtrace(PCSTR Args, PCSTR Usage, ULONG Flags, ULONG64 Rbp)
{
    KI_STACK_FRAME frames[KD_STACK_FRAMES];
    ULONG64 rip, rsp;

    if (!KdNoMoreArguments(Args, Usage))
        return;
    rip = rsp = 0;
    UCHAR state;
    ULONG64 saved;
    if (KdThreadContext && read_thread(KdThreadContext, &state, &saved) && state != Running) {
        KiPrintStack("", frames, KiWalkStack(0, 0, saved + SWITCH_SAVED_RBP, frames, ARRAYSIZE(frames)), Flags);
        return;
    }
    KdThreadContext = 0; /* gone, or running again: back to the processor's own stack */
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

/* WinDbg's .thread: k then walks that thread's stack.  A running thread's stack is its processor's
 * (~n on the stopped machine); no address: back to the processor's own. */
KD_COMMAND(dotthread, ".thread", ".thread [address]", "the thread k walks (a waiting one's saved stack)")
{
    ULONG64 address, saved;
    UCHAR state;
    CHAR text[24];

    if (KdAtEnd(Args)) {
        KdThreadContext = 0;
        DbgPrint("Implicit thread is now the processor's own (k walks its stack)\n");
        return;
    }
    if (!KdRestValue(&Args, &address, "thread address"))
        return;
    KdFormatAddress(address, text, sizeof(text));
    if (!read_thread(address, &state, &saved)) {
        DbgPrint(".thread: %s is not a thread (its Header.Type is not 6; !running and !apc name threads)\n", text);
        return;
    }
    if (state == Running) {
        DbgPrint(".thread: %s is running: its stack is its processor's (~<n> on the stopped machine, then k)\n", text);
        return;
    }
    KdThreadContext = address;
    DbgPrint("Implicit thread is now %s\n", text);
}
