/*
 * kdtrap.c - where the kernel hands the debugger its traps and how each stop
 * goes on.  int 3: one of our breakpoints (rewound to its address), or an
 * int 3 of the code's own (DbgBreakPoint, a Ctrl-C break-in), shown at the
 * int 3 and stepped past on g, as WinDbg shows nt!DbgBreakPointWithStatus.
 * The debug exception: the end of a single step (TF), or a ba breakpoint.
 * g from a breakpoint's address first steps that one instruction with the
 * breakpoint out, then puts it back and goes on.  A bugcheck stops here too with kdbreak=bugcheck.
 */
#include <arch/arch.h>
#include <arch/rawlock.h>
#include <irqlab/kequery.h>
#include <irqlab/thread.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include "kd.h"
#include "kdstop.h"

#define KD_TEXT __attribute__((section(".text.kdstop")))
#define INT3 0xcc

KE_COMMAND_LINE_OPTION(kdbreak, "kdbreak", "kdbreak=bugcheck: a bugcheck stops at the debugger prompt (make run sets it)");

static KD_TEXT LONG me(VOID)
{
    return (LONG)KeGetCurrentProcessorNumber();
}

/* One processor owns the stop; another waits here (the owner's NMI parks it meanwhile). */
static KD_TEXT VOID take_ownership(VOID)
{
    LONG none = -1;

    while (!__atomic_compare_exchange_n(&KdStopState.Owner, &none, me(), FALSE, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        none = -1;
        arch_pause();
    }
}

static KD_TEXT VOID let_go(VOID)
{
    if (KdStopState.OthersFrozen) {
        KeThawExecution();
        KdStopState.OthersFrozen = FALSE;
    }
    __atomic_store_n(&KdStopState.Owner, -1, __ATOMIC_RELEASE);
}

static KD_TEXT UCHAR byte_at(ULONG64 Address)
{
    UCHAR b = 0;

    KdReadMemory(Address, &b, 1);
    return b;
}

/* After the console: g, t or q, as it asked. */
KD_TEXT VOID KdPrepareResume(PKTRAP_FRAME Frame)
{
    LONG here = KdFindBreakpoint(Frame->Rip);

    if (KdStopState.Resume == KdResumeQuit)
        arch_exit_emulator(KdStopState.BugChecked ? ARCH_EXIT_BUGCHECK : ARCH_EXIT_SUCCESS);
    if (here < 0 && byte_at(Frame->Rip) == INT3) /* the code's own int 3: go on after it */
        Frame->Rip++;
    if (KdHardwareExecuteAt(Frame->Rip)) /* a ba e here: its instruction runs, the next fault is a new hit */
        Frame->EFlags |= ARCH_FLAGS_RF;
    if (KdStopState.Resume == KdResumeStep) { /* one instruction, the others still held */
        Frame->EFlags |= ARCH_FLAGS_TF;
        return;
    }
    if (here >= 0 && KdBreakpoints[here].Enabled) { /* step its instruction first, then put it back */
        KdStopState.StepOver = here;
        KdStopState.StepContinues = TRUE;
        Frame->EFlags |= ARCH_FLAGS_TF;
        KdInsertBreakpoints(Frame->Rip);
        return;
    }
    KdInsertBreakpoints(0);
    let_go();
}

/* Not this one's to stop at (passes left, or another processor's p/gu): step past it quietly, the
 * others held meanwhile so that none passes a breakpoint while it is out of the text. */
static KD_TEXT VOID step_past(PKTRAP_FRAME Frame)
{
    KdStopState.Resume = KdResumeGo;
    KdFreezeOthers();
    KdRemoveBreakpoints();
    KdPrepareResume(Frame);
}

static KD_TEXT BOOLEAN breakpoint_trap(PKTRAP_FRAME Frame)
{
    ULONG64 at = Frame->Rip - 1;

    if (KdStopState.Owner == me())
        return FALSE; /* an int 3 on the stop path itself: fatal, as an unhandled breakpoint is */
    take_ownership();
    Frame->Rip = at;
    if (*(volatile UCHAR *)at != INT3) { /* taken out while this processor waited: run what is there now */
        __atomic_store_n(&KdStopState.Owner, -1, __ATOMIC_RELEASE);
        return TRUE;
    }
    LONG id = KdFindBreakpoint(at);
    if (id < 0) {
        KdStopMachine(Frame, KdStopBreakIn, -1);
        return TRUE;
    }
    KD_BREAKPOINT *b = &KdBreakpoints[id];
    if (b->Temporary && b->Thread != KeGetCurrentThread()) { /* the one-shot of another thread's step */
        step_past(Frame);
        return TRUE;
    }
    b->Hits++;
    if (b->PassesLeft > 1) {
        b->PassesLeft--;
        step_past(Frame);
        return TRUE;
    }
    b->PassesLeft = b->Passes;
    BOOLEAN temporary = b->Temporary;
    memcpy(KdStopState.Commands, b->Command, sizeof(KdStopState.Commands));
    KdStopMachine(Frame, temporary ? KdStopStep : KdStopBreakpoint, id);
    return TRUE;
}

extern const UCHAR __KdTextStart[], __KdTextEnd[];

/* A ba breakpoint fired: stop, unless the access was the debugger's own (its stop path, its reads). */
static KD_TEXT BOOLEAN hardware_trap(PKTRAP_FRAME Frame, LONG Id, ULONG64 Dr6)
{
    KD_BREAKPOINT *b = &KdBreakpoints[Id];

    ASSERT(Id >= 0 && Id < KD_BREAKPOINTS);
    if (b->Access == 'e')
        Frame->EFlags |= ARCH_FLAGS_RF; /* resumed, its instruction runs instead of faulting again */
    if (KdStopState.Owner == me() || (Frame->Rip >= (ULONG64)__KdTextStart && Frame->Rip < (ULONG64)__KdTextEnd))
        return TRUE;
    take_ownership();
    BOOLEAN same = KdHardwareBreakpointHit(Dr6) == Id; /* not cleared or replaced while this one waited */
    b->Hits += same;
    if (!same || b->PassesLeft > 1) {
        b->PassesLeft -= b->PassesLeft > 1;
        let_go();
        return TRUE;
    }
    b->PassesLeft = b->Passes;
    memcpy(KdStopState.Commands, b->Command, sizeof(KdStopState.Commands));
    KdStopMachine(Frame, KdStopBreakpoint, Id);
    return TRUE;
}

/* #DB: the end of a single step the debugger asked for, or a ba breakpoint (DR6 says which). */
static KD_TEXT BOOLEAN debug_trap(PKTRAP_FRAME Frame)
{
    ULONG64 status = arch_take_dr6();
    LONG id = KdHardwareBreakpointHit(status);

    if (status & ARCH_DR6_STEP)
        Frame->EFlags &= ~ARCH_FLAGS_TF;
    if (!(status & ARCH_DR6_STEP) || KdStopState.Owner != me())
        return id >= 0 ? hardware_trap(Frame, id, status) : TRUE; /* or a TF nobody asked for (a stepped pushf popped) */
    if (KdStopState.StepOver >= 0) { /* the breakpoint's instruction has run: it goes back in */
        KdStopState.StepOver = -1;
        KdInsertBreakpoints(0);
        if (KdStopState.StepContinues) {
            KdStopState.StepContinues = FALSE;
            let_go();
            return TRUE;
        }
    }
    KdStopMachine(Frame, KdStopStep, -1);
    return TRUE;
}

static KD_TEXT BOOLEAN KdTrap(PKTRAP_FRAME Frame)
{
    return Frame->Vector == 3 ? breakpoint_trap(Frame) : debug_trap(Frame);
}

/* CPU 0's clock, CLOCK_LEVEL: serial bytes go to the console's input, a Ctrl-C breaks in. */
static BOOLEAN poll_break_in(VOID)
{
    BOOLEAN stop = FALSE;
    int c;

    if (KdStopState.Owner >= 0)
        return FALSE;
    while ((c = arch_serial_read()) >= 0) {
        CHAR byte = (CHAR)c;
        if (c == 0x03)
            stop = TRUE;
        else
            KdInputPush(NULL, &byte, 1);
    }
    return stop;
}

/* A bugcheck callback (HIGH_LEVEL, the others frozen for good): the console on the dead machine. */
static VOID stop_at_bugcheck(PVOID Buffer, ULONG Length)
{
    KTRAP_FRAME frame = { .Rip = (ULONG64)__builtin_return_address(0),
                          .Rbp = (ULONG64)__builtin_frame_address(0) };

    UNREFERENCED_PARAMETER(Buffer);
    UNREFERENCED_PARAMETER(Length);
    KdStopState.Owner = me();
    KdStopState.BugChecked = TRUE;
    KdStopState.OthersFrozen = TRUE; /* by the bugcheck, and never thawed */
    KdStopMachine(&frame, KdStopBugCheck, -1);
}

VOID KdInitializeDebugger(VOID)
{
    static KBUGCHECK_CALLBACK_RECORD record;
    PCSTR mode = KeGetCommandLineValue("kdbreak");

    KdStopState.StepOver = -1;
    KeConnectDebugger(KdTrap, poll_break_in);
    if (mode && strcmp(mode, "bugcheck") != 0)
        DbgPrint("kd: kdbreak=%s is not known (kdbreak=bugcheck is); a bugcheck ends the run\n", mode);
    if (mode && strcmp(mode, "bugcheck") == 0) {
        KeInitializeCallbackRecord(&record);
        KeRegisterBugCheckCallback(&record, stop_at_bugcheck, NULL, 0, (PUCHAR)"kd");
    }
}
