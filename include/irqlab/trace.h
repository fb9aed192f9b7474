/*
 * trace.h - per-CPU event tracing (kernel/ke/trace.c): what each processor
 * did at each IRQL, recorded without a lock in a buffer per processor, as ETW
 * does (https://learn.microsoft.com/en-us/previous-versions/windows/desktop/xperf/sessions).
 * The record layout and the file the dump writes are docs/trace-format.md;
 * the host reads them with tools/trace.
 *
 * The debugger (!trace), the boot sequence (trace= on the command line),
 * the tests and the benchmarks use this header; Ke's own files record
 * through kernel/ke/kitrace.h.
 */
#ifndef IRQLAB_TRACE_H
#define IRQLAB_TRACE_H

#include <irqlab/nt.h>

/* Categories: the bits of the mask trace= and !trace start take. */
#define KTRACE_CAT_INTERRUPT 0x0001u /* interrupt entry and exit */
#define KTRACE_CAT_DPC       0x0002u /* DPC insert, begin, end */
#define KTRACE_CAT_IRQL      0x0004u /* KfRaiseIrql / KeLowerIrql: frequent, so off by default */
#define KTRACE_CAT_IPI       0x0008u /* IPI send and receive */
#define KTRACE_CAT_TIMER     0x0010u /* timer expiry */
#define KTRACE_CAT_LOCK      0x0020u /* spin-lock contention (spins before acquiring) */
#define KTRACE_CAT_WATCHDOG  0x0040u /* the DPC watchdog's view at each clock tick */
#define KTRACE_CAT_BUGCHECK  0x0080u /* the bugcheck */
#define KTRACE_CAT_CSWITCH   0x0100u /* context switches */
#define KTRACE_CAT_APC       0x0200u /* APC delivery */
#define KTRACE_CAT_ALL       0x03ffu /* every category that records something today */
#define KTRACE_CAT_DEFAULT   (KTRACE_CAT_ALL & ~KTRACE_CAT_IRQL)

/* Event types (KTRACE_RECORD.Type); 0 marks a slot reserved but not yet written. */
typedef enum _KTRACE_EVENT {
    KTRACE_NONE = 0,
    KTRACE_INTERRUPT_ENTER = 1, /* D16 vector | interrupted IRQL << 8, D32 ISR, D64 KINTERRUPT */
    KTRACE_INTERRUPT_EXIT = 2,  /* D16 vector | IRQL returned to << 8 */
    KTRACE_DPC_INSERT = 3,      /* D16 target | importance << 8 | requested << 10 | queued << 11,
                                   D32 target's queue depth after it, D64 KDPC */
    KTRACE_DPC_BEGIN = 4,       /* D16 this queue's depth left, D32 routine, D64 KDPC */
    KTRACE_DPC_END = 5,         /* D32 routine, D64 KDPC */
    KTRACE_IRQL_RAISE = 6,      /* D16 old IRQL | new << 8, D32 caller */
    KTRACE_IRQL_LOWER = 7,      /* D16 old IRQL | new << 8, D32 caller */
    KTRACE_IPI_SEND = 8,        /* D32 request bits, D64 target affinity */
    KTRACE_IPI_RECEIVE = 9,     /* D32 request bits taken */
    KTRACE_TIMER_EXPIRE = 10,   /* D32 its DPC's routine (0: none), D64 KTIMER */
    KTRACE_LOCK_CONTENDED = 11, /* D32 spins before the acquire, D64 the lock */
    KTRACE_WATCHDOG_TICK = 12,  /* D16 IRQL the tick found, D32 DpcWatchdogCount, D64 DpcTimeCount */
    KTRACE_BUGCHECK = 13,       /* D32 the code, D64 P1 */
    KTRACE_CONTEXT_SWITCH = 14, /* D16 old thread's State | WaitReason << 8, D64 new thread; then a
                                 * KTRACE_EXTENSION whose D64 is the old thread */
    KTRACE_APC_DELIVER = 15,    /* D16 0 special | 1 normal, D32 KernelRoutine, D64 KAPC (before it runs) */
    KTRACE_MARK = 16,           /* D32 a number the caller chose (tests, labs) */
    KTRACE_EXTENSION = 255,     /* reserved: more payload for the record before it */
} KTRACE_EVENT;

/* One event: 24 bytes, little-endian.  Routines are kept as their low 32 bits: all code is in
 * the kernel image at 0xffffffff80000000 and above, so sign extension gives the address back. */
typedef struct _KTRACE_RECORD {
    ULONG64 Tsc;   /* rdtsc when it was recorded */
    UCHAR Type;    /* KTRACE_EVENT; written last */
    UCHAR Irql;    /* CR8 when it was recorded */
    USHORT Data16;
    ULONG Data32;
    ULONG64 Data64;
} KTRACE_RECORD, *PKTRACE_RECORD;
_Static_assert(sizeof(KTRACE_RECORD) == 24, "docs/trace-format.md: a record is 24 bytes");

/* One CPU's counts (KeQueryTraceProcessor). */
typedef struct _KTRACE_STATS {
    ULONG Capacity;   /* records the buffer holds */
    ULONG Recorded;   /* records in it */
    ULONG64 Dropped;  /* events that found it full: exact */
    ULONG Torn;       /* slots reserved but never written (checked when stopped) */
    ULONG64 StartTsc;
} KTRACE_STATS;

/* IRQL: PASSIVE_LEVEL.  The second serial port, the dump on a bugcheck, and the categories trace=
 * names; the boot sequence calls it once the processors are up. */
VOID KeInitializeTrace(VOID);
/* IRQL: PASSIVE_LEVEL.  Empties every buffer (allocating them, tracebuffer= KiB each, the first
 * time) and records Categories (a KTRACE_CAT_* mask) from now on; FALSE when out of memory. */
BOOLEAN KeStartTrace(ULONG Categories);
/* IRQL: PASSIVE_LEVEL.  Stops recording; returns once no CPU is inside the recorder. */
VOID KeStopTrace(VOID);
/* IRQL: any.  The categories being recorded (0: stopped). */
ULONG KeQueryTraceCategories(VOID);
/* IRQL: any.  The last session's categories (kept once it stopped) and its stop TSC (0: running). */
ULONG KeQueryTraceSession(ULONG64 *StopTsc);
/* IRQL: any.  FALSE when Processor has no buffer. */
BOOLEAN KeQueryTraceProcessor(ULONG Processor, KTRACE_STATS *Stats);
/* IRQL: any, stopped.  Record Index of Processor's buffer; NULL past the end. */
const KTRACE_RECORD *KeQueryTraceRecord(ULONG Processor, ULONG Index);
/* IRQL: any.  Records a KTRACE_MARK with Value on this CPU (when any category is on). */
VOID KeTraceMark(ULONG Value);

/* Category names: "interrupt,dpc" -> mask; FALSE (and *Bad the word) on an unknown one.
 * "default", "all" and "off" are words too. */
BOOLEAN KeParseTraceCategories(PCSTR Text, ULONG *Mask, PCSTR *Bad);
/* "interrupt,dpc,..." for a mask, into Buffer. */
VOID KeFormatTraceCategories(ULONG Mask, char *Buffer, SIZE_T Size);

/* tracedump.c.  IRQL: PASSIVE_LEVEL, stopped.  Writes the file of docs/trace-format.md to the
 * second serial port; returns its size in bytes, or 0 when there is no second port. */
ULONG64 KeDumpTrace(ULONG *Crc);

#endif
