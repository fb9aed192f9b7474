/*
 * kbddemo.h - switching the keyboard deadlock demonstration (kbddemo.c).
 */
#ifndef KERNEL_IO_KBDDEMO_H
#define KERNEL_IO_KBDDEMO_H

#include <irqlab/nt.h>

typedef enum _KDEMO_MODE { KDEMO_OFF, KDEMO_BROKEN, KDEMO_FIXED } KDEMO_MODE;

typedef struct _KDEMO_STATISTICS {
    ULONG64 Runs;             /* RunQueuedItems calls */
    ULONG64 KeysWhileRunning; /* ISR bytes that arrived while RunQueuedItems ran */
    ULONG64 Queued, Processed, Dropped;
} KDEMO_STATISTICS, *PKDEMO_STATISTICS;

/* IRQL: PASSIVE_LEVEL, on the CPU the keyboard interrupts (0).  FALSE when there is no keyboard. */
BOOLEAN KdemoSetMode(KDEMO_MODE Mode);
/* IRQL: any.  The mode, and counters that only ever grow. */
KDEMO_MODE KdemoQuery(PKDEMO_STATISTICS Statistics);

#endif
