/*
 * dpc.h - the deferred procedure call object (NT's KDPC) and the per-CPU
 * queue it sits in (KDPC_DATA, embedded twice in every KPRCB).  Layouts are
 * Windows 10 x64 build 19041's, pinned below.  kernel/ke/dpc.c queues and
 * retires them.
 */
#ifndef IRQLAB_DPC_H
#define IRQLAB_DPC_H

#include <irqlab/list.h>

struct _KDPC;
typedef VOID (*PKDEFERRED_ROUTINE)(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                                   PVOID SystemArgument2);

#define DpcObject         0x13 /* KOBJECTS values */
#define ThreadedDpcObject 0x1a

typedef enum _KDPC_IMPORTANCE { LowImportance, MediumImportance, HighImportance, MediumHighImportance } KDPC_IMPORTANCE;

typedef struct _KDPC {
    union {
        ULONG TargetInfoAsUlong;
        struct {
            UCHAR Type;
            UCHAR Importance;
            volatile USHORT Number; /* target processor set by KeSetTargetProcessorDpc */
        };
    };
    SINGLE_LIST_ENTRY DpcListEntry;
    KAFFINITY ProcessorHistory;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    PVOID DpcData; /* the KDPC_DATA it is queued in; NULL when not queued */
} KDPC, *PKDPC;

typedef struct _KDPC_LIST {
    SINGLE_LIST_ENTRY ListHead;
    PSINGLE_LIST_ENTRY LastEntry;
} KDPC_LIST;

typedef struct _KDPC_DATA {
    KDPC_LIST DpcList;
    KSPIN_LOCK DpcLock;
    volatile LONG DpcQueueDepth;
    ULONG DpcCount; /* cumulative: never decremented */
    PKDPC volatile ActiveDpc;
} KDPC_DATA, *PKDPC_DATA;

_Static_assert(sizeof(KDPC) == 0x40, "19041 _KDPC");
_Static_assert(offsetof(KDPC, Importance) == 0x01, "19041 _KDPC");
_Static_assert(offsetof(KDPC, Number) == 0x02, "19041 _KDPC");
/* KDPC.Number with a target set: 0x500 + the processor's index.  Public decompilations of Windows
 * 10's KeSetTargetProcessorDpcEx add 0x500 (Windows 11's, 0x800); below it means "this CPU". */
#define KDPC_TARGET_BIAS 0x500
_Static_assert(offsetof(KDPC, DpcListEntry) == 0x08, "19041 _KDPC");
_Static_assert(offsetof(KDPC, ProcessorHistory) == 0x10, "19041 _KDPC");
_Static_assert(offsetof(KDPC, DeferredRoutine) == 0x18, "19041 _KDPC");
_Static_assert(offsetof(KDPC, DeferredContext) == 0x20, "19041 _KDPC");
_Static_assert(offsetof(KDPC, SystemArgument1) == 0x28, "19041 _KDPC");
_Static_assert(offsetof(KDPC, SystemArgument2) == 0x30, "19041 _KDPC");
_Static_assert(offsetof(KDPC, DpcData) == 0x38, "19041 _KDPC");
_Static_assert(sizeof(KDPC_LIST) == 0x10, "19041 _KDPC_LIST");
_Static_assert(offsetof(KDPC_LIST, LastEntry) == 0x08, "19041 _KDPC_LIST");
_Static_assert(sizeof(KDPC_DATA) == 0x28, "19041 _KDPC_DATA");
_Static_assert(offsetof(KDPC_DATA, DpcLock) == 0x10, "19041 _KDPC_DATA");
_Static_assert(offsetof(KDPC_DATA, DpcQueueDepth) == 0x18, "19041 _KDPC_DATA");
_Static_assert(offsetof(KDPC_DATA, DpcCount) == 0x1c, "19041 _KDPC_DATA");
_Static_assert(offsetof(KDPC_DATA, ActiveDpc) == 0x20, "19041 _KDPC_DATA");

/* IRQL: any.  Type DpcObject, Medium importance, no target, not queued. */
VOID KeInitializeDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
/*
 * IRQL: any.  The same with Type ThreadedDpcObject: its routine runs at PASSIVE_LEVEL in the
 * target's DPC thread (priority 31), preempted by interrupts and normal DPCs but not by other
 * threads; where threaded DPCs are off (threadeddpcs=0, KPRCB.ThreadDpcEnable 0) it runs as a
 * normal DPC at DISPATCH_LEVEL, so its routine must be correct at either level, as in NT.
 */
VOID KeInitializeThreadedDpc(PKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext);
/* IRQL: any.  Plain stores: a DPC already queued keeps its place and target. */
VOID KeSetImportanceDpc(PKDPC Dpc, KDPC_IMPORTANCE Importance);
VOID KeSetTargetProcessorDpc(PKDPC Dpc, CCHAR Number);
/* IRQL: any.  STATUS_INVALID_PARAMETER (nothing changed) for a group other than 0 or a CPU not online. */
NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber);
/* IRQL: any.  FALSE (and nothing changed) when the DPC is already queued. */
BOOLEAN KeInsertQueueDpc(PKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2);
/* IRQL: any.  TRUE when it was queued and now is not. */
BOOLEAN KeRemoveQueueDpc(PKDPC Dpc);

/*
 * IRQL: PASSIVE_LEVEL; blocks.  Returns once every DPC queued before the call, on
 * every CPU and of any importance, has run.
 */
VOID KeFlushQueuedDpcs(VOID);

/*
 * IRQL: <= APC_LEVEL.  Runs Routine(Dpc, Context, SystemArgument1,
 * SystemArgument2) at DISPATCH_LEVEL on every CPU (this one's share called
 * directly, the others' as High DPCs) and returns when each has
 * called KeSignalCallDpcDone(SystemArgument1).  KeSignalCallDpcSynchronize
 * (SystemArgument2) waits for all CPUs to reach it and is TRUE on one of them.
 */
VOID KeGenericCallDpc(PKDEFERRED_ROUTINE Routine, PVOID Context);
VOID KeSignalCallDpcDone(PVOID SystemArgument1);
BOOLEAN KeSignalCallDpcSynchronize(PVOID SystemArgument2);

typedef struct _KDPC_WATCHDOG_INFORMATION {
    ULONG DpcTimeLimit;     /* ticks one DPC may run (0: no limit) */
    ULONG DpcTimeCount;     /* ticks left for the DPC running now */
    ULONG DpcWatchdogLimit; /* ticks allowed at >= DISPATCH_LEVEL in one stretch (0: no limit) */
    ULONG DpcWatchdogCount; /* ticks left of that stretch */
    ULONG Reserved;
} KDPC_WATCHDOG_INFORMATION, *PKDPC_WATCHDOG_INFORMATION;

/* IRQL: any.  This CPU's watchdog limits and counters, in clock ticks. */
NTSTATUS KeQueryDpcWatchdogInformation(PKDPC_WATCHDOG_INFORMATION WatchdogInformation);

#endif
