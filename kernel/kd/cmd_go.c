/*
 * cmd_go.c - going on from a stop, in WinDbg's words: g [address] (go,
 * optionally to a one-shot breakpoint), t [count] (one instruction), p
 * [count] (one instruction, a call as a whole), gu (until the function returns), pc and
 * tc (to the next call instruction, over or into a call at the start), ~<n>
 * (the processor r and k look at), q (leave: QEMU exits), !analyze -v (the
 * bugcheck that stopped it).  They need the stopped machine; on the
 * running one they say so.
 */
#include <arch/arch.h>
#include <irqlab/kequery.h>
#include <irqlab/rtl.h>
#include "disasm.h"
#include "kd.h"
#include "kdstop.h"

/* Refuses with a line when the machine runs, or when a bugcheck stopped it and g/t/p cannot go on. */
static BOOLEAN may_go(PCSTR Command)
{
    if (!KdIsStopped()) {
        DbgPrint("%s: the machine is running (a breakpoint, Ctrl-C or DbgBreakPoint stops it)\n", Command);
        return FALSE;
    }
    if (KdStopState.BugChecked) {
        DbgPrint("%s: the machine has bugchecked and cannot go on (.reboot restarts it, q leaves)\n", Command);
        return FALSE;
    }
    return TRUE;
}

KD_COMMAND(go, "g", "g [address]", "go on (to a one-shot breakpoint at the address, if given)")
{
    ULONG64 address;

    if (!may_go("g"))
        return;
    if (KdNextValue(&Args, &address, FALSE, "address")) {
        if (!KdNoMoreArguments(Args, "g [address]"))
            return;
        if (!KdSetTemporaryBreakpoint(address)) {
            DbgPrint("g: no breakpoint can go at %016llx (kernel code only, not the debugger's own)\n", address);
            return;
        }
    } else if (!KdNoMoreArguments(Args, "g [address]")) {
        return;
    }
    KdStopState.Resume = KdResumeGo;
}

/* t [count], p [count]: the count's further steps repeat the command without a prompt (kdstop.c). */
static BOOLEAN step_count(PCSTR Args, PCSTR Command)
{
    ULONG64 count = 1;

    if (!KdAtEnd(Args) && !KdNextValue(&Args, &count, TRUE, "count"))
        return FALSE;
    if (!KdNoMoreArguments(Args, Command))
        return FALSE;
    if (count == 0 || count > KD_UNTIL_CALL_STEPS) {
        DbgPrint("%s: the count is 1 to 0n%u steps\n", Command, KD_UNTIL_CALL_STEPS);
        return FALSE;
    }
    KdStopState.Repeat = (ULONG)count - 1;
    KdStopState.RepeatCommand = Command[0] == 't' ? "t" : "p";
    return TRUE;
}

KD_COMMAND(step, "t", "t [count]", "trace: run one instruction (into calls), the other processors still stopped")
{
    if (!may_go("t") || !step_count(Args, "t [count]"))
        return;
    KdStopState.Resume = KdResumeStep;
}

/* p and pc: a call at rip runs whole (a one-shot breakpoint after it, the others going on meanwhile). */
static VOID step_over(VOID)
{
    KD_INSTRUCTION ins;
    ULONG64 unreadable;
    PKTRAP_FRAME f = KdStoppedFrame((ULONG)KdStopState.Owner);

    if (KdDecodeAt(f->Rip, &ins, &unreadable) && ins.Flow == KdFlowCall &&
        KdSetTemporaryBreakpoint(f->Rip + ins.Length))
        KdStopState.Resume = KdResumeGo;
    else
        KdStopState.Resume = KdResumeStep;
}

KD_COMMAND(stepover, "p", "p [count]", "step: one instruction; a call runs whole (the others go on meanwhile)")
{
    if (!may_go("p") || !step_count(Args, "p [count]"))
        return;
    step_over();
}

KD_COMMAND(stepcall, "pc", "pc", "step to the next call instruction (a call at rip runs whole first)")
{
    if (!may_go("pc") || !KdNoMoreArguments(Args, "pc"))
        return;
    KdStopState.UntilCall = KD_UNTIL_CALL_STEPS;
    step_over();
}

KD_COMMAND(tracecall, "tc", "tc", "trace to the next call instruction (into a call at rip)")
{
    if (!may_go("tc") || !KdNoMoreArguments(Args, "tc"))
        return;
    KdStopState.UntilCall = KD_UNTIL_CALL_STEPS;
    KdStopState.Resume = KdResumeStep;
}

KD_COMMAND(goup, "gu", "gu", "go up: run until the current function returns to its caller")
{
    ULONG64 ret;
    PCSTR name;
    ULONG_PTR offset;

    if (!may_go("gu") || !KdNoMoreArguments(Args, "gu"))
        return;
    PKTRAP_FRAME f = KdStoppedFrame((ULONG)KdStopState.Owner);
    /* At its first instruction the return address is on top of the stack; after the prologue,
     * the frame pointer's chain has it (irqlab keeps frame pointers: -fno-omit-frame-pointer). */
    BOOLEAN at_entry = KiLookupSymbol((ULONG_PTR)f->Rip, &name, &offset) && offset == 0;
    if (!KdReadMemory(at_entry ? f->Rsp : f->Rbp + 8, &ret, sizeof(ret)) || !KdSetTemporaryBreakpoint(ret)) {
        DbgPrint("gu: no return address found in kernel code (try p, or g <address>)\n");
        return;
    }
    KdStopState.Resume = KdResumeGo;
}

KD_COMMAND(processor, "~", "~<processor>", "the processor r, k and !irql look at while the machine is stopped")
{
    ULONG64 n;

    if (!KdIsStopped()) {
        DbgPrint("~: the machine is running; each command names its processor (!prcb 1)\n");
        return;
    }
    if (!KdNextValue(&Args, &n, TRUE, "processor") || !KdNoMoreArguments(Args, "~<processor>"))
        return;
    if (n >= (ULONG64)KeNumberProcessors || KdStoppedFrame((ULONG)n) == NULL) {
        DbgPrint("~%llu: no such processor, or it did not stop with its registers (a bugcheck's NMI)\n", n);
        return;
    }
    KdStopState.Context = (ULONG)n;
    KdPrintStopPlace(KdStoppedFrame((ULONG)n)->Rip);
}

KD_COMMAND(quitdbg, "q", "q", "leave: QEMU exits (after a bugcheck, with its status 37)")
{
    if (!KdNoMoreArguments(Args, "q"))
        return;
    if (!KdIsStopped())
        arch_exit_emulator(ARCH_EXIT_SUCCESS);
    KdStopState.Resume = KdResumeQuit;
}

KD_COMMAND(analyze, "!analyze", "!analyze [-v]", "the bugcheck that stopped the machine: code, name, parameters")
{
    CHAR word[8];

    if (KdNextWord(&Args, word, sizeof(word)) && strcmp(word, "-v") != 0) {
        DbgPrint("usage: !analyze [-v]\n");
        return;
    }
    if (!KdStopState.BugChecked) {
        DbgPrint("!analyze: no bugcheck (it reads the one a kdbreak=bugcheck stop holds)\n");
        return;
    }
    DbgPrint("%s (%llx)\n", KeBugCheckName((ULONG)KiBugCheckData[0]), (ULONG64)KiBugCheckData[0]);
    for (ULONG i = 1; i <= 4; i++)
        DbgPrint("Arg%u: %016llx\n", i, (ULONG64)KiBugCheckData[i]);
}
