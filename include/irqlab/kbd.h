/*
 * kbd.h - the PS/2 keyboard driver (kernel/io/i8042prt.c), named after NT's
 * i8042prt: how its consumer connects, its statistics for the console's
 * !kbd, and the deadlock demonstration (kernel/io/kbddemo.c) that hangs on
 * its ISR.
 */
#ifndef IRQLAB_KBD_H
#define IRQLAB_KBD_H

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

/*
 * The consumer's service callback, as kbdclass connects to NT's i8042prt
 * (IOCTL_INTERNAL_KEYBOARD_CONNECT hands the port driver a class service
 * routine): the keyboard DPC calls it at DISPATCH_LEVEL with the bytes a
 * terminal would send for the keys it decoded, and the TSC at the ISR of the first of them.  The
 * driver knows no consumer.
 */
typedef VOID (*PI8042_SERVICE_CALLBACK)(PVOID Context, const CHAR *Bytes, ULONG Count, ULONG64 IsrTsc);

/* IRQL: PASSIVE_LEVEL, once, after the HAL; the boot sequence hands it the consumer.  Reports on
 * serial and runs on without a keyboard on failure. */
VOID I8042Initialize(PI8042_SERVICE_CALLBACK ServiceCallback, PVOID Context);
/* IRQL: <= DISPATCH_LEVEL.  A consistent snapshot (taken under the interrupt lock). */
VOID I8042QueryStatistics(PI8042_STATISTICS Statistics);
/* The keyboard's interrupt object, or NULL when there is no keyboard. */
PKINTERRUPT I8042GetInterrupt(VOID);

/* ---- the class driver (kbdclass.c): \Device\KeyboardClass0, read with IRP_MJ_READ ---- */
typedef struct _KBDCLASS_STATISTICS {
    ULONG64 Reads;               /* IRP_MJ_READs received */
    ULONG64 ReadsPended;         /* ... that found no data and waited */
    ULONG64 ReadsCompletedByDpc; /* pending ones the keyboard's DPC completed */
    ULONG64 BytesBuffered, BytesRead;
    ULONG64 BytesLost;           /* found the class buffer full: counted, as the port's overruns */
    ULONG64 LastReadIsrTsc;      /* the ISR's TSC for the oldest byte the last completed read got */
    ULONG Buffered;              /* bytes waiting for a read now */
    ULONG ReadsWaiting;          /* reads pending now */
} KBDCLASS_STATISTICS, *PKBDCLASS_STATISTICS;

/* IRQL: PASSIVE_LEVEL, once, before I8042Initialize: \Driver\kbdclass and its device, returned as
 * the service callback's Context (NULL when out of memory). */
PVOID KbdClassInitialize(VOID);
/* IRQL: DISPATCH_LEVEL, from the port's DPC: NT's KeyboardClassServiceCallback, for bytes. */
VOID KbdClassServiceCallback(PVOID Context, const CHAR *Bytes, ULONG Count, ULONG64 IsrTsc);
/* IRQL: <= DISPATCH_LEVEL. */
VOID KbdClassQueryStatistics(PKBDCLASS_STATISTICS Statistics);

/* Called by the ISR with each byte, at DIRQL under the interrupt's lock, when set (kbddemo.c). */
typedef VOID (*PI8042_ISR_HOOK)(UCHAR Byte);
VOID I8042SetIsrHook(PI8042_ISR_HOOK Hook);

/* ---- the deadlock demonstration (kbddemo.c) ---------------------------------- */
typedef enum _KBDDEMO_MODE { KBDDEMO_OFF, KBDDEMO_BROKEN, KBDDEMO_FIXED } KBDDEMO_MODE;

typedef struct _KBDDEMO_STATISTICS {
    ULONG64 Runs;             /* RunQueuedItems calls */
    ULONG64 KeysWhileRunning; /* ISR bytes that arrived while RunQueuedItems ran */
    ULONG64 Queued, Processed, Dropped;
} KBDDEMO_STATISTICS, *PKBDDEMO_STATISTICS;

/* IRQL: PASSIVE_LEVEL, on the CPU the keyboard interrupts (0).  FALSE when there is no keyboard. */
BOOLEAN KbdDemoSetMode(KBDDEMO_MODE Mode);
/* IRQL: any.  The mode, and counters that only ever grow. */
KBDDEMO_MODE KbdDemoQuery(PKBDDEMO_STATISTICS Statistics);

#endif
