/*
 * kd.h - the console's own header (kernel/kd/ only; include/irqlab/kd.h is
 * its public face): the input stream, and what a command needs: registration, argument parsing
 * in WinDbg's syntax, safe memory reads and snapshots of other CPUs.
 */
#ifndef KERNEL_KD_KD_H
#define KERNEL_KD_KD_H

#include <irqlab/kd.h>
#include <irqlab/kequery.h>
#include <irqlab/prcb.h>

/* ---- arguments (kdargs.c) ------------------------------------------------ */
/* The next space-separated word into Word (cut to Size - 1); FALSE when no word is left. */
BOOLEAN KdNextWord(PCSTR *Cursor, CHAR *Word, ULONG Size);
/* TRUE when only spaces are left. */
BOOLEAN KdAtEnd(PCSTR Cursor);
/* Evaluates Text as one expression; when bad, prints WinDbg's line for the error ("Syntax error ...",
 * "Couldn't resolve error at ...", "Divide by zero error in ...", "Memory access error at ...") and FALSE. */
BOOLEAN KdEvaluateText(PCSTR Text, ULONG64 *Value);
/* The next word as an expression; Required FALSE: FALSE without a message when no word is left. */
BOOLEAN KdNextValue(PCSTR *Cursor, ULONG64 *Value, BOOLEAN Required, PCSTR What);
/* The whole rest of the line as one expression, spaces and all (`? KiProcessorBlock + 8`). */
BOOLEAN KdRestValue(PCSTR *Cursor, ULONG64 *Value, PCSTR What);

/* ---- registers (kdregs.c) -------------------------------------------------- */
/* IRQL: any.  A register or pseudo-register named without its @ (rip, rsp, rbp, efl, cr0, cr3, cr4,
 * cr8, $ip, $csp, $pcr, $prcb, $thread; any case); FALSE for another name.  Until the debugger stops
 * the machine these are the console's own values; then they are the stopped processor's context. */
BOOLEAN KdRegisterValue(PCSTR Name, ULONG64 *Value);
/* An optional processor number ([n], hex as WinDbg); default the console's CPU; prints why not. */
BOOLEAN KdProcessorArgument(PCSTR *Cursor, ULONG *Number);
/* Complains about words left over; TRUE when there were none. */
BOOLEAN KdNoMoreArguments(PCSTR Cursor, PCSTR Usage);

/* ---- memory and formatting (kdargs.c) ------------------------------------ */
/* Copies Size bytes at Address; FALSE (nothing printed) when any of it cannot be read. */
BOOLEAN KdReadMemory(ULONG64 Address, PVOID Buffer, ULONG Size);
VOID KdMemoryError(ULONG64 Address); /* "Memory access error at 'fffff800`00001000'" */
/* WinDbg's 64-bit form: fffff800`4150b2e0 (Out: at least 18 bytes). */
VOID KdFormatAddress(ULONG64 Address, CHAR *Out, ULONG Size);

/* ---- other processors (kdsnap.c) ----------------------------------------- */
#define KD_SNAPSHOT_DPCS 64
typedef struct _KD_DPC_ENTRY {
    PKDPC Dpc;
    PKDEFERRED_ROUTINE Routine;
    UCHAR Type, Importance;
} KD_DPC_ENTRY;

typedef struct _KD_CPU_SNAPSHOT {
    KIRQL Irql;           /* the level the snapshot IPI interrupted */
    BOOLEAN Taken;
    BOOLEAN DpcRoutineActive;
    LONG DpcQueueDepth;   /* both queues: normal, then threaded (DpcData[1]) */
    ULONG DpcCount;
    PKDPC ActiveDpc;
    ULONG DpcEntries;     /* the queues in order, at most KD_SNAPSHOT_DPCS */
    BOOLEAN DpcTruncated;
    KD_DPC_ENTRY Dpcs[KD_SNAPSHOT_DPCS];
} KD_CPU_SNAPSHOT;

/*
 * IRQL: PASSIVE_LEVEL.  Stops every CPU at once in an IPI (IPI_LEVEL, above
 * anything that touches a DPC queue) and copies each one's state, so what the
 * console prints of another CPU is consistent.  Valid until the next call.
 */
const KD_CPU_SNAPSHOT *KdSnapshotProcessors(VOID);

/* ---- the stopped machine (kdstop.c) --------------------------------------- */
/* TRUE while the debugger has stopped every processor; then the registers each had. */
BOOLEAN KdIsStopped(VOID);
struct _KTRAP_FRAME *KdStoppedFrame(ULONG Cpu);
KIRQL KdStoppedIrqlOf(ULONG Cpu); /* the IRQL it stopped at */
VOID KdStoppedRegisters(PCSTR Args); /* r there (kdframe.c) */
BOOLEAN KdStoppedRegisterValue(PCSTR Name, ULONG64 *Value); /* @rsp there: FALSE for no such register */
/* May the command run on the stopped machine?  FALSE (said) for one that needs it running. */
BOOLEAN KdStoppedAllows(PCSTR Name);


/* ---- !trace list (cmd_tracelist.c) ---------------------------------------- */
VOID KdTraceList(PCSTR Args);

/* ---- input (input.c) ----------------------------------------------------- */
/* IRQL: PASSIVE_LEVEL.  The next byte from any source, or -1; KdInputWait halts until one comes. */
int KdInputRead(VOID);
int KdInputWait(VOID);
/* Bytes pushed while the ring was full. */
ULONG64 KdInputDropped(VOID);

#endif
