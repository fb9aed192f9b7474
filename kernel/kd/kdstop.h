/*
 * kdstop.h - the stopping debugger's pieces, for kernel/kd/ only: the stop
 * (kdstop.c), the traps and the resume (kdtrap.c), breakpoints (kdbp.c)
 * and the commands that go on (cmd_go.c).
 */
#ifndef KERNEL_KD_KDSTOP_H
#define KERNEL_KD_KDSTOP_H

#include <arch/trapframe.h>
#include <irqlab/prcb.h>

typedef enum _KD_STOP_REASON { KdStopBreakpoint, KdStopStep, KdStopBreakIn, KdStopBugCheck } KD_STOP_REASON;
typedef enum _KD_RESUME { KdResumeNone, KdResumeGo, KdResumeStep, KdResumeQuit } KD_RESUME;

typedef struct _KD_STOP_STATE {
    volatile LONG Owner;     /* the processor that stopped the machine, or -1 */
    BOOLEAN Stopped;         /* the console runs on the stopped machine */
    BOOLEAN OthersFrozen;    /* kept across a single step */
    BOOLEAN BugChecked;      /* stopped by a bugcheck: nothing resumes */
    PKTRAP_FRAME Frame;      /* the owner's registers */
    KIRQL Irql;              /* the owner's IRQL where it stopped */
    ULONG Context;           /* the processor r, k and !irql look at (~n) */
    KD_RESUME Resume;        /* what the console asked for */
    LONG StepOver;           /* a breakpoint stepped over before it goes back in; -1 none */
    BOOLEAN StepContinues;   /* that step is g's: go on after it without stopping */
    CHAR Commands[64];       /* a breakpoint's commands, run when it stops */
    ULONG UntilCall;         /* pc/tc: steps left before a call must have come; 0 when not stepping to one */
    ULONG Repeat;            /* t/p with a count: steps still to take, each printed, without a prompt */
    PCSTR RepeatCommand;     /* "t" or "p" */
} KD_STOP_STATE;
extern KD_STOP_STATE KdStopState;

/* kdstop.c */
#define KD_UNTIL_CALL_STEPS 20000 /* pc/tc give up after this many instructions */
VOID KdStopMachine(PKTRAP_FRAME Frame, KD_STOP_REASON Reason, LONG Breakpoint);
VOID KdFreezeOthers(VOID); /* KeFreezeExecution once per stop; says so when one did not stop */
VOID KdPrintStopPlace(ULONG64 Rip);
KIRQL KdStoppedIrql(ULONG Cpu);

/* kdframe.c: r on the stopped machine. */
VOID KdStoppedRegisters(PCSTR Args);

/* kdtrap.c: what the trap does after the console, and the hook the kernel calls. */
VOID KdPrepareResume(PKTRAP_FRAME Frame);

/* kdbp.c: the breakpoint table; insert writes int 3 into every enabled one but the one at Skip. */
#define KD_BREAKPOINTS 32
typedef struct _KD_BREAKPOINT {
    BOOLEAN Used, Enabled, Inserted, Temporary, Clearing;
    CHAR Access;             /* ba's e, w or r (kdba.c); 0 for an int 3 */
    UCHAR Size, Slot;        /* ba's: bytes watched, and its debug register DR0-DR3 */
    PVOID Thread;            /* a one-shot's: the thread whose step set it, the only one it stops (as
                                WinDbg's p is per thread: a thread that waits may go on elsewhere) */
    ULONG64 Address;
    UCHAR Original;
    ULONG Passes, PassesLeft; /* stop on the Passes-th hit (0 or 1: every hit) */
    ULONG Hits;
    CHAR Command[64];
} KD_BREAKPOINT;
extern KD_BREAKPOINT KdBreakpoints[KD_BREAKPOINTS];
LONG KdFindBreakpoint(ULONG64 Address); /* the int 3 one there, or -1 */
/* Says why no code breakpoint may go at Address (not code, the debugger's own, mid-instruction). */
BOOLEAN KdRefuseCodeBreakpoint(ULONG64 Address);
/* [passes] ["commands"] after the address, into New; FALSE (and Usage said) when malformed. */
BOOLEAN KdParseBreakpointTail(PCSTR Args, PCSTR Usage, KD_BREAKPOINT *New);
/* Puts New in the table (the id of one at its address, or a free one) and applies it; its id or -1. */
LONG KdStoreBreakpoint(const KD_BREAKPOINT *New);
VOID KdRemoveBreakpoints(VOID);
VOID KdInsertBreakpoints(ULONG64 Skip);
/* A one-shot breakpoint for p, gu and g <address>; FALSE when none can be placed there.  Forget
 * drops them once they are out of the text (every stop). */
VOID KdForgetTemporaryBreakpoints(VOID);
BOOLEAN KdSetTemporaryBreakpoint(ULONG64 Address);

/* kdba.c: the ba breakpoints in the debug registers of every processor, and which one a #DB reports. */
VOID KdLoadDebugRegisters(VOID);
LONG KdHardwareBreakpointHit(ULONG64 Dr6);
BOOLEAN KdHardwareExecuteAt(ULONG64 Rip); /* an enabled ba e at Rip */

#endif
