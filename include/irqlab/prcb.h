/*
 * prcb.h - the per-processor control region (KPCR) and control block
 * (KPRCB), laid out as in Windows 10 x64 build 19041 so that `dt _KPRCB`
 * offsets a student reads in WinDbg hold here too.  Each CPU's GS base
 * points at its KPCR; the KPRCB is embedded at +0x180.
 *
 * Only the fields irqlab implements are named; the rest is padding, and
 * every named offset is pinned below.  irqlab's own per-CPU fields live in
 * NT's PrcbPad141 area (+0x9ec0), see docs/deviations.md.
 */
#ifndef IRQLAB_PRCB_H
#define IRQLAB_PRCB_H

#include <irqlab/dpc.h>
#include <irqlab/ke.h>

#define MAXIMUM_PROCESSORS 64 /* one NT processor group: a KAFFINITY's bits */

#define KPAD(from, to) UCHAR Pad##from[(to) - (from)]

/* irqlab's per-CPU counters and bookkeeping (not NT's: in NT's padding). */
typedef struct _KPRCB_IRQLAB {
    ULONG64 InterruptsAtIrql[16]; /* interrupts dispatched here, by vector class */
    ULONG64 TicksAtIrql[16];      /* clock ticks that found this CPU at each IRQL */
    volatile ULONG IpiRequests;   /* KI_IPI_* bits, set by senders */
    volatile ULONG Started;       /* the AP reached C and is taking interrupts */
    KIRQL PreviousIrql;           /* what the innermost interrupt found (NT: in the trap frame) */
    ULONG64 IpiCount;             /* IPIs received */
    ULONG64 IdleHalts;            /* times the idle loop halted */
    ULONG64 KernelStackTop;
    ULONG64 IstStackTop[3];       /* #DF, NMI, #MC */
    PVOID ArchTables;             /* this CPU's GDT, TSS and IDT */
    struct _KLOCK_QUEUE_HANDLE *QueuedLocks[4]; /* in-stack queued locks held or awaited here */
    KIRQL QueuedLockIrql[4];                    /* the IRQL each was taken at */
    ULONG64 LongestDpcCycles;      /* the longest DPC routine run here, TSC cycles */
    PVOID LongestDpcRoutine;
    ULONG DispatchStretch;         /* ticks in a row found at >= DISPATCH_LEVEL (not idle) */
    ULONG LongestDispatchStretch;
    volatile ULONG IdlePoll;       /* benchmarks: the idle loop spins instead of halting (Linux idle=poll) */
    volatile ULONG HoldAtDispatch; /* debugger lab: the idle loop stays at DISPATCH_LEVEL, not draining */
    LIST_ENTRY TimerList;          /* KTIMERs set on this CPU, by due time (NT: TimerTable) */
    volatile ULONG64 NextTimerDue; /* the first one's due time, for the clock; ~0 when none */
    ULONG WatchedNumber;           /* the clock watchdog: the CPU this one watches, */
    ULONG WatchedClock;            /* its ClockInterrupts when they last moved, */
    ULONG WatchedTicks;            /* and this CPU's ticks since then */
    ULONG64 FrozenRip;             /* where the bugcheck's NMI found this CPU */
    KIRQL FrozenIrql;
    BOOLEAN FrozenInterruptsOn;
    struct _KTRAP_FRAME *DebugFrame; /* while the debugger holds this CPU: its registers (kdsupport.c) */
} KPRCB_IRQLAB;

typedef struct _KPRCB {
    ULONG MxCsr;
    UCHAR LegacyNumber;
    UCHAR ReservedMustBeZero;
    UCHAR InterruptRequest;
    UCHAR IdleHalt; /* TRUE while the idle loop sits in hlt */
    struct _KTHREAD *CurrentThread;
    struct _KTHREAD *NextThread; /* chosen to run here next (NT's Standby) */
    struct _KTHREAD *IdleThread;
    UCHAR NestingLevel;
    UCHAR ClockOwner; /* the CPU that advances KeTickCount */
    UCHAR PendingTickFlags;
    UCHAR IdleState;
    ULONG Number;
    ULONG64 RspBase;
    KSPIN_LOCK PrcbLock;
    PVOID PriorityState;
    CHAR CpuType;
    CHAR CpuID;
    USHORT CpuStep;
    ULONG MHz;
    KPAD(0x48, 0x88);
    USHORT MinorVersion;
    USHORT MajorVersion;
    UCHAR BuildType;
    UCHAR CpuVendor;
    UCHAR CoresPerPhysicalProcessor;
    UCHAR LogicalProcessorsPerCore;
    ULONG64 TscFrequency;
    KPAD(0x98, 0xc8);
    KAFFINITY GroupSetMember;
    UCHAR Group;
    UCHAR GroupIndex;
    UCHAR PrcbPad05[2];
    ULONG InitialApicId;
    KPAD(0xd8, 0x2d80);
    volatile LONG PacketBarrier;
    volatile LONG TargetCount;
    volatile ULONG IpiFrozen;
    KPAD(0x2d8c, 0x30c0);
    KDPC_DATA DpcData[2]; /* [0] normal, [1] threaded */
    PVOID DpcStack;
    LONG MaximumDpcQueueDepth;
    ULONG DpcRequestRate;
    ULONG MinimumDpcRate;
    ULONG DpcLastCount;
    volatile UCHAR ThreadDpcEnable;
    volatile UCHAR QuantumEnd;
    volatile UCHAR DpcRoutineActive;
    volatile UCHAR IdleSchedule;
    volatile LONG DpcRequestSummary;
    ULONG PrcbPad93;
    ULONG LastTick;
    ULONG ClockInterrupts; /* clock interrupts taken by this CPU */
    KPAD(0x313c, 0x7ba0);
    KDPC CallDpc; /* KeGenericCallDpc's DPC for this CPU */
    KPAD(0x7be0, 0x7be8);
    volatile LONG DpcWatchdogPeriod; /* ticks allowed at >= DISPATCH_LEVEL in one stretch */
    volatile LONG DpcWatchdogCount;  /* ticks left of it */
    KPAD(0x7bf0, 0x7c18);
    volatile ULONG ReadySummary; /* bit n: DispatcherReadyListHead[n] holds a thread */
    KPAD(0x7c1c, 0x7c80);
    LIST_ENTRY DispatcherReadyListHead[32]; /* ready threads, one queue per priority */
    ULONG InterruptCount; /* every interrupt dispatched here */
    ULONG KernelTime;     /* clock ticks charged below DISPATCH_LEVEL */
    ULONG UserTime;       /* always 0: no user mode */
    ULONG DpcTime;        /* ticks at DISPATCH_LEVEL */
    ULONG InterruptTime;  /* ticks above DISPATCH_LEVEL */
    ULONG AdjustDpcThreshold;
    UCHAR DebuggerSavedIRQL;
    KPAD(0x7e99, 0x7e9c);
    ULONG DpcTimeCount; /* ticks left for the running DPC */
    ULONG DpcTimeLimit; /* ticks one DPC may run */
    KPAD(0x7ea4, 0x8590);
    UCHAR VendorString[13];
    KPAD(0x859d, 0x9ec0);
    union {
        KPRCB_IRQLAB Irqlab;
        UCHAR PrcbPad141[0xae80 - 0x9ec0];
    };
    KPAD(0xae80, 0xaf00);
} __attribute__((aligned(64))) KPRCB, *PKPRCB; /* cache-line aligned, as NT's: Prcb lands at +0x180 */

typedef struct _KPCR {
    PVOID GdtBase;
    PVOID TssBase;
    ULONG64 UserRsp;
    struct _KPCR *Self;
    PKPRCB CurrentPrcb;
    PVOID LockArray;
    PVOID Used_Self;
    PVOID IdtBase;
    ULONG64 Unused[2];
    KIRQL Irql; /* a snapshot for the debugger: CR8 is the IRQL (see deviations.md) */
    UCHAR SecondLevelCacheAssociativity;
    UCHAR ObsoleteNumber;
    UCHAR Fill0;
    ULONG Unused0[3];
    USHORT MajorVersion;
    USHORT MinorVersion;
    ULONG StallScaleFactor;
    PVOID Unused1[3];
    ULONG KernelReserved[15];
    ULONG SecondLevelCacheSize;
    ULONG HalReserved[16];
    ULONG Unused2;
    PVOID KdVersionBlock;
    PVOID Unused3;
    ULONG PcrAlign1[24];
    KPRCB Prcb;
} KPCR, *PKPCR;

#undef KPAD
_Static_assert(offsetof(KPCR, Prcb) + offsetof(KPRCB, CurrentThread) == 0x188, "KeGetCurrentThread reads gs:0x188");

/* The 19041 offsets, from public symbol dumps of the Windows 10 2004 kernel. */
#define KPRCB_AT(field, offset) _Static_assert(offsetof(KPRCB, field) == (offset), "19041 KPRCB." #field)
KPRCB_AT(CurrentThread, 0x8);
KPRCB_AT(NextThread, 0x10);
KPRCB_AT(IdleThread, 0x18);
KPRCB_AT(ClockOwner, 0x21);
KPRCB_AT(Number, 0x24);
KPRCB_AT(MHz, 0x44);
KPRCB_AT(MinorVersion, 0x88);
KPRCB_AT(TscFrequency, 0x90);
KPRCB_AT(GroupSetMember, 0xc8);
KPRCB_AT(Group, 0xd0);
KPRCB_AT(InitialApicId, 0xd4);
KPRCB_AT(PacketBarrier, 0x2d80);
KPRCB_AT(IpiFrozen, 0x2d88);
KPRCB_AT(DpcData, 0x30c0);
KPRCB_AT(DpcStack, 0x3110);
KPRCB_AT(MaximumDpcQueueDepth, 0x3118);
KPRCB_AT(DpcRequestRate, 0x311c);
KPRCB_AT(MinimumDpcRate, 0x3120);
KPRCB_AT(DpcLastCount, 0x3124);
KPRCB_AT(ThreadDpcEnable, 0x3128);
KPRCB_AT(QuantumEnd, 0x3129);
KPRCB_AT(DpcRoutineActive, 0x312a);
KPRCB_AT(IdleSchedule, 0x312b);
KPRCB_AT(DpcRequestSummary, 0x312c);
KPRCB_AT(LastTick, 0x3134);
KPRCB_AT(ClockInterrupts, 0x3138);
KPRCB_AT(CallDpc, 0x7ba0);
KPRCB_AT(DpcWatchdogPeriod, 0x7be8);
KPRCB_AT(DpcWatchdogCount, 0x7bec);
KPRCB_AT(ReadySummary, 0x7c18);
KPRCB_AT(DispatcherReadyListHead, 0x7c80);
KPRCB_AT(InterruptCount, 0x7e80);
KPRCB_AT(KernelTime, 0x7e84);
KPRCB_AT(DpcTime, 0x7e8c);
KPRCB_AT(InterruptTime, 0x7e90);
KPRCB_AT(AdjustDpcThreshold, 0x7e94);
KPRCB_AT(DebuggerSavedIRQL, 0x7e98);
KPRCB_AT(DpcTimeCount, 0x7e9c);
KPRCB_AT(DpcTimeLimit, 0x7ea0);
KPRCB_AT(VendorString, 0x8590);
KPRCB_AT(Irqlab, 0x9ec0);
#undef KPRCB_AT
_Static_assert(offsetof(KPRCB, DpcData[1]) == 0x30e8, "19041 KPRCB.DpcData[1]");
_Static_assert(sizeof(KPRCB) == 0xaf00, "19041 KPRCB size");
_Static_assert(sizeof(KPRCB_IRQLAB) <= sizeof(((KPRCB *)0)->PrcbPad141), "irqlab's fields fit in PrcbPad141");

#define KPCR_AT(field, offset) _Static_assert(offsetof(KPCR, field) == (offset), "x64 KPCR." #field)
KPCR_AT(TssBase, 0x08);
KPCR_AT(Self, 0x18);
KPCR_AT(CurrentPrcb, 0x20);
KPCR_AT(IdtBase, 0x38);
KPCR_AT(Irql, 0x50);
KPCR_AT(MajorVersion, 0x60);
KPCR_AT(KdVersionBlock, 0x108);
KPCR_AT(Prcb, 0x180);
_Static_assert(sizeof(KPCR) == 0xb080, "x64 KPCR: 0x180 + the KPRCB");
#undef KPCR_AT

/* DpcRequestSummary bits (19041). */
#define DPC_NORMAL_PROCESSING_ACTIVE    0x00001
#define DPC_NORMAL_PROCESSING_REQUESTED 0x00002
#define DPC_NORMAL_THREAD_SIGNAL        0x00004
#define DPC_NORMAL_TIMER_EXPIRATION     0x00008
#define DPC_NORMAL_DPC_PRESENT          0x00010
#define DPC_NORMAL_LOCAL_INTERRUPT      0x00020
#define DPC_THREAD_ACTIVE               0x10000
#define DPC_THREAD_REQUESTED            0x20000

/* IRQL: any.  This CPU's KPCR / KPRCB (through GS).  KeGetCurrentPrcb is in line, one load of
 * KPCR.CurrentPrcb (gs:0x20), as NT's (__readgsqword in ntddk.h); volatile: a thread may move. */
PKPCR KeGetPcr(VOID);
static inline PKPRCB KeGetCurrentPrcb(VOID)
{
    PKPRCB prcb;

    __asm__ volatile("movq %%gs:%c1, %0" : "=r"(prcb) : "i"(offsetof(KPCR, CurrentPrcb)));
    return prcb;
}
/* IRQL: any.  Meaningful to the caller only at >= DISPATCH_LEVEL, as in NT. */
ULONG KeGetCurrentProcessorNumber(VOID);
ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber);

/* Processors online; KiProcessorBlock[n] is CPU n's KPRCB (NULL past the last one). */
extern volatile CCHAR KeNumberProcessors;
extern PKPRCB KiProcessorBlock[MAXIMUM_PROCESSORS];
ULONG KeQueryActiveProcessorCount(PKAFFINITY ActiveProcessors);
KAFFINITY KeQueryActiveProcessors(VOID);

/* ---- interprocessor interrupts ------------------------------------------- */
typedef ULONG_PTR (*PKIPI_BROADCAST_WORKER)(ULONG_PTR Argument);
/*
 * IRQL: < IPI_LEVEL (Microsoft's page).  Runs Worker(Context) on every processor at once, at
 * IPI_LEVEL, and returns when all have finished; the result is this CPU's.
 */
ULONG_PTR KeIpiGenericCall(PKIPI_BROADCAST_WORKER BroadcastFunction, ULONG_PTR Context);

#endif
