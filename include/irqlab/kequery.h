/*
 * kequery.h - what the debugger (kernel/kd) and the tests read from Ke
 * beyond NT's driver interface: symbols, snapshots of its tables, its
 * tunables, and the capture of console output.  Ke's private header
 * (kernel/ke/ki.h) stays inside kernel/ke.
 */
#ifndef IRQLAB_KEQUERY_H
#define IRQLAB_KEQUERY_H

#include <irqlab/dpc.h>
#include <irqlab/ke.h>
#include <irqlab/prcb.h>

/* processor.c: copies this CPU's CR8 into KPCR.Irql, where the debugger reads it (any IRQL). */
VOID KiSnapshotIrql(VOID);

/* idle.c: where every AP ends up, at DISPATCH_LEVEL. */
DECLSPEC_NORETURN VOID KiIdleLoop(VOID);

/* mp.c: KeStartAllProcessors starts at most KiProcessorLimit CPUs in all (numproc=, else MAXIMUM_PROCESSORS). */
extern ULONG KiProcessorLimit;

/* ipi.c */
#define KI_IPI_GENERIC_CALL 0x1 /* run KeIpiGenericCall's function */
#define KI_IPI_DPC          0x2 /* drain the DPC queue (a DISPATCH interrupt on the target) */
#define KI_IPI_APC          0x4 /* deliver the running thread's kernel APCs (an APC interrupt there) */
/* Sets Request on each CPU in Targets and interrupts it at IPI_LEVEL. */
VOID KiIpiSend(KAFFINITY Targets, ULONG Request);

/* For the debugger: the KINTERRUPTs chained on a vector (at most Max). */
struct _KINTERRUPT;
ULONG KiQueryVectorInterrupts(ULONG Vector, struct _KINTERRUPT **Interrupts, ULONG Max);

/* runtime.c: FALSE when clockwatchdog=0 turned the clock watchdog off. */
BOOLEAN KiClockWatchdogEnabled(VOID);

/* For the debugger: a copy of a CPU's set timers, in due order (IRQL <= DISPATCH_LEVEL). */
typedef struct _KI_TIMER_INFO {
    struct _KTIMER *Timer;
    ULONG64 DueTime;
    ULONG Period;
    PKDPC Dpc;
    PKDEFERRED_ROUTINE Routine;
} KI_TIMER_INFO;
ULONG KiQueryTimers(ULONG Processor, KI_TIMER_INFO *Timers, ULONG Max);

/* Until called again with NULL, this CPU's DbgPrint output goes into Buffer (NUL-terminated,
 * cut at Size) instead of serial; a bugcheck still prints.  For tests of console output. */
VOID KiCaptureOutput(char *Buffer, size_t Size);
/* Bytes printed since the capture began, kept or not (read it before ending the capture). */
size_t KiCapturedLength(VOID);

/* symbols.c: nearest symbol at or below Address; FALSE if none. */
BOOLEAN KiLookupSymbol(ULONG_PTR Address, PCSTR *Name, ULONG_PTR *Offset);
/* IRQL: any.  The first symbol above Address (ln's right-hand side); FALSE past the last. */
BOOLEAN KiNextSymbol(ULONG_PTR Address, PCSTR *Name, ULONG_PTR *Start);
/* The address of the symbol Name[0..Length); FALSE when there is none (a linear search). */
BOOLEAN KiFindSymbol(PCSTR Name, ULONG Length, ULONG_PTR *Address);
/* Formats "irqlab!Name+0x1c" into Buffer; FALSE (and the bare address) outside the image.
 * The one symbol formatter: the bugcheck report, the console and the benchmarks use it. */
BOOLEAN KiFormatSymbol(ULONG_PTR Address, char *Buffer, size_t Size);
/* The same for a return address on a stack: named after the call it returns from. */
void KiFormatReturnAddress(ULONG_PTR Address, char *Buffer, size_t Size);
/* IRQL any.  The Index-th symbol in address order (the debugger's x); FALSE past the last. */
BOOLEAN KiEnumerateSymbols(ULONG Index, PCSTR *Name, ULONG_PTR *Address);
/* IRQL any.  The kernel image's first byte and the byte after its last (the debugger's lm). */
VOID KiQueryImageBounds(ULONG_PTR *Start, ULONG_PTR *End);

/* stack.c: one frame of a walk.  Pc is where the frame is executing: a return address, or the
 * interrupted instruction itself in the frame below a trap (the row after one with TrapFrame). */
typedef struct _KI_STACK_FRAME {
    ULONG64 Pc;
    ULONG64 ChildSp;   /* RSP in this frame, WinDbg's Child-SP */
    ULONG64 TrapFrame; /* the KTRAP_FRAME this frame (KiTrapCommon) built, or 0 */
    BOOLEAN Exact;     /* Pc is an instruction's own address (a RIP), not a return address */
} KI_STACK_FRAME, *PKI_STACK_FRAME;
/* IRQL any.  Walks from Rip (0: start at the return address Rbp's frame holds) along the
 * frame-pointer chain, through trap frames and stack switches, at most Max frames; stops at an
 * unmapped, misaligned or downward link, or a zero return address (the start of every stack). */
ULONG KiWalkStack(ULONG64 Rip, ULONG64 Rsp, ULONG64 Rbp, PKI_STACK_FRAME Frames, ULONG Max);
#define KI_STACK_NUMBERS 0x1 /* the " #" column (k, kn, STACK_TEXT) */
#define KI_STACK_ARGS    0x2 /* kb: the three qwords above the return address (at Child-SP) */
#define KI_STACK_TRAPS   0x4 /* kv: "(TrapFrame @ ...)" after a frame that built one */
/* IRQL any.  Prints a walk in WinDbg's columns (Child-SP, RetAddr, Call Site), each line after Indent. */
VOID KiPrintStack(PCSTR Indent, const KI_STACK_FRAME *Frames, ULONG Count, ULONG Flags);
/* IRQL any.  A trap frame's registers in WinDbg's `r` layout (the bugcheck report, `.trap`). */
struct _KTRAP_FRAME;
VOID KiPrintTrapFrame(const struct _KTRAP_FRAME *TrapFrame);

/* dispatch.c: IRQL <= DISPATCH_LEVEL.  A copy of a processor's ready queues, highest priority first. */
struct _KTHREAD;
ULONG KiQueryReadyThreads(ULONG Processor, struct _KTHREAD **Threads, ULONG Max);

/* apc.c: IRQL <= DISPATCH_LEVEL, copied under the dispatcher lock.  The kernel APCs queued to a
 * thread, in delivery order ((ULONG)-1: not a live thread); the System process's threads. */
typedef struct _KI_APC_INFO {
    PVOID Apc, KernelRoutine, NormalRoutine, SystemArgument1, SystemArgument2;
} KI_APC_INFO;
ULONG KiQueryApcs(struct _KTHREAD *Thread, KI_APC_INFO *Apcs, ULONG Max);
ULONG KiQueryThreads(struct _KTHREAD **Threads, ULONG Max);

/*
 * kdsupport.c: what the kernel debugger (kernel/kd/kdstop.c) needs from Ke.  Stop is called for
 * every breakpoint (#BP) and debug (#DB) trap, interrupts off, with the trap's frame, and returns
 * TRUE when it handled it (the frame is resumed); PollBreakIn is called by CPU 0's clock at
 * CLOCK_LEVEL and returns TRUE for a break-in, which then stops there (NT's KdPollBreakIn).
 */
typedef BOOLEAN (*PKD_STOP_ROUTINE)(struct _KTRAP_FRAME *TrapFrame);
typedef BOOLEAN (*PKD_POLL_ROUTINE)(VOID);
extern BOOLEAN KdDebuggerEnabled; /* NT's KD_DEBUGGER_ENABLED: set by KeConnectDebugger */
/* IRQL: PASSIVE_LEVEL, once, at boot. */
VOID KeConnectDebugger(PKD_STOP_ROUTINE Stop, PKD_POLL_ROUTINE PollBreakIn);
/* Interrupts off.  Stops every other processor in an NMI with its registers in its
 * KPRCB.Irqlab.DebugFrame (NT's KeFreezeExecution); returns how many stopped.  It takes DbgPrint's
 * lock first (no processor stopped mid-line) and zeroes this processor's DR7.  KeThawExecution lets
 * them go on, with the DPC watchdog's counts started afresh (time spent stopped is not theirs), the
 * debug registers reloaded everywhere, and DbgPrint's lock given back. */
ULONG KeFreezeExecution(VOID);
VOID KeThawExecution(VOID);
/* Any IRQL.  Writes one byte of kernel text through the physical memory map, so the text stays
 * read-only and executable; *Old gets what was there.  FALSE (nothing written) outside the text. */
BOOLEAN KeWriteKernelText(ULONG64 Address, UCHAR Value, PUCHAR Old);
/* At or below DISPATCH_LEVEL, or on the stopped machine (any IRQL).  DR0-DR3 and DR7 for every
 * processor (Intel SDM vol. 3, "Debug Registers"): loaded everywhere now by IPI, or, while
 * KeFreezeExecution holds the machine, by each processor as KeThawExecution lets it go (after a
 * bugcheck, never).  A stopped processor holds DR7 0. */
VOID KeSetDebugRegisters(const ULONG64 Address[4], ULONG64 Control);
/* TRUE for an address in the kernel's text section. */
BOOLEAN KeIsKernelText(ULONG64 Address);

/* version.c */
extern const char KiVersionString[];

/* runtime.c: the DPC tunables (NT's defaults, or the command line's). */
extern ULONG KiMaximumDpcQueueDepth, KiMinimumDpcRate, KiIdealDpcRate, KiAdjustDpcThreshold;

/* startup.c: the TSC at kernel entry and once every processor was started (boot figures). */
extern ULONG64 KiBootTsc, KiProcessorsUpTsc;

#endif
