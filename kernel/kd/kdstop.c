/*
 * kdstop.c - the debugger that stops the machine: a breakpoint, a step, a
 * break-in (Ctrl-C) or DbgBreakPoint lands here from the trap, interrupts
 * off, on the processor that hit it.  It stops every other processor
 * (KeFreezeExecution: an NMI each, their registers kept), takes its
 * breakpoints out of the text, and runs the console on serial, polled, at
 * HIGH_LEVEL, until g, t, p, pc, tc or gu says how to go on.  One processor owns
 * the stop at a time; another that hits a breakpoint meanwhile waits,
 * parked by the NMI, and tries again once it is let go.  The stop path's
 * own code is in the text range no breakpoint may be set in (linker.ld).
 */
#include <arch/arch.h>
#include <irqlab/kequery.h>
#include <irqlab/rtl.h>
#include "disasm.h"
#include "kd.h"
#include "kdstop.h"

#define KD_TEXT __attribute__((section(".text.kdstop")))
#define NO_OWNER (-1)

KD_STOP_STATE KdStopState = { .Owner = NO_OWNER };

BOOLEAN KdIsStopped(VOID)
{
    return KdStopState.Stopped;
}

PKTRAP_FRAME KdStoppedFrame(ULONG Cpu)
{
    if (!KdStopState.Stopped || Cpu >= (ULONG)KeNumberProcessors)
        return NULL;
    return Cpu == (ULONG)KdStopState.Owner ? KdStopState.Frame : KiProcessorBlock[Cpu]->Irqlab.DebugFrame;
}

KIRQL KdStoppedIrqlOf(ULONG Cpu)
{
    return KdStoppedIrql(Cpu);
}

KIRQL KdStoppedIrql(ULONG Cpu)
{
    return Cpu == (ULONG)KdStopState.Owner ? KdStopState.Irql : KiProcessorBlock[Cpu]->Irqlab.FrozenIrql;
}

/* A line from serial, polled, interrupts off: Backspace and Ctrl-U edit it. */
static KD_TEXT VOID read_line(CHAR *Line, ULONG Size)
{
    ULONG n = 0;

    for (;;) {
        int c = arch_serial_read();
        if (c < 0) {
            arch_pause();
            continue;
        }
        if (c == '\r' || c == '\n') {
            Line[n] = 0;
            DbgPrint("\n");
            return;
        }
        if ((c == 0x7f || c == 0x08) && n > 0) {
            n--;
            DbgPrint("\b \b");
        } else if (c == 0x15) {
            for (; n > 0; n--)
                DbgPrint("\b \b");
        } else if (c >= 0x20 && c < 0x7f && n + 1 < Size) {
            Line[n++] = (CHAR)c;
            DbgPrint("%c", c);
        }
    }
}

/* What WinDbg prints where it stops: the symbol line, then the instruction about to run. */
VOID KdPrintStopPlace(ULONG64 Rip)
{
    KD_INSTRUCTION ins;
    ULONG64 unreadable;
    CHAR symbol[96];

    KiFormatSymbol((ULONG_PTR)Rip, symbol, sizeof(symbol));
    DbgPrint("%s:\n", symbol);
    if (KdDecodeAt(Rip, &ins, &unreadable))
        KdPrintInstruction(&ins);
}

/* The console on the stopped machine, until a command asks to go on. */
static KD_TEXT VOID stopped_console(VOID)
{
    CHAR line[KD_LINE_MAX];

    while (KdStopState.Resume == KdResumeNone) {
        DbgPrint("%u: kd> ", KdStopState.Context);
        read_line(line, sizeof(line));
        KdExecuteLine(line);
    }
}

/* A breakpoint's commands, separated by ';' as WinDbg's are, until one of them goes on. */
static VOID run_commands(VOID)
{
    CHAR commands[sizeof(KdStopState.Commands)];
    PCHAR next = commands;

    memcpy(commands, KdStopState.Commands, sizeof(commands));
    KdStopState.Commands[0] = 0;
    while (next && KdStopState.Resume == KdResumeNone) {
        PCHAR one = next;
        next = strchr(one, ';');
        if (next)
            *next++ = 0;
        KdExecuteLine(one); /* not echoed: a "N: kd> " line would read as a prompt waiting for input */
    }
}

/* Why it stopped, as WinDbg says it. */
static VOID say_why(KD_STOP_REASON Reason, LONG Breakpoint)
{
    if (Reason == KdStopBreakpoint)
        DbgPrint("Breakpoint %d hit\n", Breakpoint);
    else if (Reason == KdStopBreakIn)
        DbgPrint("Break instruction exception - code 80000003 (first chance)\n");
    else if (Reason == KdStopBugCheck)
        DbgPrint("Bugcheck 0x%08llx: the machine stays stopped (.reboot or q leave; !analyze -v)\n",
                 (ULONG64)KiBugCheckData[0]);
    KdPrintStopPlace(KdStopState.Frame->Rip);
}

/* Before any breakpoint leaves the text: a processor still running could pass it while it is out. */
KD_TEXT VOID KdFreezeOthers(VOID)
{
    if (KdStopState.OthersFrozen)
        return;
    ULONG frozen = KeFreezeExecution();
    KdStopState.OthersFrozen = TRUE;
    if (frozen + 1 < (ULONG)KeNumberProcessors)
        DbgPrint("kd: only %u of the %d other processors stopped within 100 ms; the rest run on\n", frozen,
                 KeNumberProcessors - 1);
}

/* pc/tc: a step that did not land on a call steps on without a prompt (the others stay stopped). */
static KD_TEXT BOOLEAN step_on_to_call(PKTRAP_FRAME Frame, KD_STOP_REASON Reason)
{
    KD_INSTRUCTION ins;
    ULONG64 unreadable;

    if (KdStopState.UntilCall == 0)
        return FALSE;
    if (Reason != KdStopStep || (KdDecodeAt(Frame->Rip, &ins, &unreadable) && ins.Flow == KdFlowCall)) {
        KdStopState.UntilCall = 0;
        return FALSE;
    }
    if (--KdStopState.UntilCall == 0) {
        DbgPrint("no call came within %u instructions: stopped on the way\n", KD_UNTIL_CALL_STEPS);
        return FALSE;
    }
    KdStopState.Resume = KdResumeStep;
    return TRUE;
}

/*
 * Stops the machine (others frozen unless a step left them so), runs the
 * console and prepares the resume: breakpoints back in, TF for a step,
 * the others let go unless it is a single step.
 */
KD_TEXT VOID KdStopMachine(PKTRAP_FRAME Frame, KD_STOP_REASON Reason, LONG Breakpoint)
{
    KdFreezeOthers();
    KdStopState.Frame = Frame;
    KdStopState.Irql = (KIRQL)arch_read_cr8();
    KdStopState.Context = KdStopState.Owner;
    arch_write_cr8(HIGH_LEVEL);
    KdRemoveBreakpoints();
    KdForgetTemporaryBreakpoints(); /* p, gu, pc and g <address> last one stop */
    if (step_on_to_call(Frame, Reason)) {
        arch_write_cr8(KdStopState.Irql);
        KdPrepareResume(Frame);
        return;
    }
    KdStopState.Stopped = TRUE;
    KdStopState.Resume = KdResumeNone;
    say_why(Reason, Breakpoint);
    if (Reason != KdStopStep)
        KdStopState.Repeat = 0; /* a breakpoint or a break-in ends a counted t or p */
    if (KdStopState.Repeat > 0) {
        ULONG left = KdStopState.Repeat - 1;
        KdExecuteLine(KdStopState.RepeatCommand); /* it sets Repeat for a count of one: set it back */
        KdStopState.Repeat = left;
    }
    if (KdStopState.Commands[0]) /* a breakpoint's own commands, as bp "..." gives them */
        run_commands();
    if (Reason == KdStopBugCheck)
        KdStopState.Resume = KdResumeNone; /* nothing resumes a bugcheck */
    stopped_console();
    KdStopState.Stopped = FALSE;
    arch_write_cr8(KdStopState.Irql);
    KdPrepareResume(Frame);
}

/* What works on a stopped machine: reads, and the commands that go on.  The rest take locks a
 * stopped processor may hold, wait, or start threads. */
BOOLEAN KdStoppedAllows(PCSTR Name)
{
    static const PCSTR allowed[] = {
        "r", "k", "kb", "kn", "kv", ".trap", ".thread", "g", "t", "p", "pc", "tc", "gu", "~", "q", "quit", ".reboot", "bp", "bu", "ba", "bl",
        "bc", "bd", "be", "u", "ub", "uf", "dt", "db", "dd", "dq", "dps", "dqs", "?", "ln", "x", "lm", "help",
        ".echo", "version", "!prcb", "!pcr", "!irql", "!cpus", "!dpcs", "!thread", "!running", "!idt", "!analyze",
        "!irp", ".reload",
    };

    for (ULONG i = 0; i < ARRAYSIZE(allowed); i++)
        if (strcmp(allowed[i], Name) == 0)
            return TRUE;
    DbgPrint("%s needs the running machine (its locks, its threads): g lets it go on\n", Name);
    return FALSE;
}
