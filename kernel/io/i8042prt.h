/*
 * i8042prt.h - the PS/2 keyboard driver (kernel/io/i8042prt.c), named after
 * NT's i8042prt: its statistics for the console's !kbd, and the hook the
 * deadlock demonstration (kbddemo.c) hangs on its ISR.
 */
#ifndef KERNEL_IO_I8042PRT_H
#define KERNEL_IO_I8042PRT_H

#include <irqlab/interrupt.h>

#define I8042_RECENT 256 /* latency samples kept, the most recent ones */

typedef struct _I8042_STATISTICS {
    BOOLEAN Present;      /* the controller and keyboard passed their tests */
    ULONG Vector;
    KIRQL Dirql;
    ULONG64 IsrRuns;      /* interrupts serviced: one byte each */
    ULONG64 IsrOffLevel;  /* ISR runs not at the keyboard's DIRQL (must stay 0) */
    ULONG64 Bytes;        /* bytes the ISR put in the ring */
    ULONG64 OverrunBytes; /* bytes the ISR dropped because the ring was full */
    ULONG64 OverrunKeys;  /* of those, make codes: key presses lost */
    ULONG64 DpcQueued;    /* KeInsertQueueDpc accepted the keyboard DPC */
    ULONG64 DpcAlreadyQueued; /* ... or found it still queued (normal, costs nothing) */
    ULONG64 DpcRuns;
    ULONG64 DpcOffLevel;  /* DPC runs not at DISPATCH_LEVEL (must stay 0) */
    ULONG64 Keys;         /* make codes decoded (each key press once) */
    ULONG64 Chars;        /* characters and keys handed to the console */
    ULONG64 KeyboardOverruns; /* 0x00/0xFF from the keyboard: it lost keys itself */
    ULONG64 LedUpdates;
    ULONG64 LatencyCount; /* ISR entry -> DPC start, TSC cycles */
    ULONG64 LatencyMin, LatencyMax, LatencySum;
    ULONG RecentCount; /* samples in RecentLatency (a ring once full) */
    ULONG64 RecentLatency[I8042_RECENT];
} I8042_STATISTICS, *PI8042_STATISTICS;

/* IRQL: PASSIVE_LEVEL, once, after the HAL.  Reports on serial and runs on without a keyboard on failure. */
VOID I8042Initialize(VOID);
/* IRQL: <= DISPATCH_LEVEL.  A consistent snapshot (taken under the interrupt lock). */
VOID I8042QueryStatistics(PI8042_STATISTICS Statistics);
/* The keyboard's interrupt object, or NULL when there is no keyboard. */
PKINTERRUPT I8042GetInterrupt(VOID);

/* Called by the ISR with each byte, at DIRQL under the interrupt's lock, when set (kbddemo.c). */
typedef VOID (*PI8042_ISR_HOOK)(UCHAR Byte);
VOID I8042SetIsrHook(PI8042_ISR_HOOK Hook);

#endif
