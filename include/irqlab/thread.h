/*
 * thread.h - threads and the dispatcher: NT's KTHREAD and KPROCESS with the
 * fields the dispatcher uses at their Windows 10 x64 offsets (public
 * `dt nt!_KTHREAD` dumps of the 20H1 kernel; pinned below), the thread
 * states, priorities and the routines a driver calls on a thread.
 *
 * NT overlays small fields on the spare slots of other structures (the
 * wait blocks' SpareLong, the affinity's padding, the APC state's tail);
 * the unions below do the same, so `dt _KTHREAD` reads as NT's does.
 */
#ifndef IRQLAB_THREAD_H
#define IRQLAB_THREAD_H

#include <irqlab/ke.h>
#include <irqlab/list.h>
#include <irqlab/timer.h>
#include <irqlab/wait.h>

#define ThreadObject  6  /* KOBJECTS values */
#define ProcessObject 3

#define LOW_PRIORITY           0
#define LOW_REALTIME_PRIORITY  16
#define HIGH_PRIORITY          31
#define MAXIMUM_PRIORITY       32

typedef enum _KTHREAD_STATE {
    Initialized, Ready, Running, Standby, Terminated, Waiting, Transition, DeferredReady, GateWaitObsolete,
    WaitingForProcessInSwap
} KTHREAD_STATE;

typedef struct _GROUP_AFFINITY {
    KAFFINITY Mask;
    USHORT Group;
    USHORT Reserved[3];
} GROUP_AFFINITY, *PGROUP_AFFINITY;

typedef struct _KAPC_STATE {
    LIST_ENTRY ApcListHead[2];
    struct _KPROCESS *Process;
    UCHAR InProgressFlags;
    UCHAR KernelApcPending;
    UCHAR UserApcPendingAll;
} KAPC_STATE, *PKAPC_STATE;

typedef struct _KPROCESS {
    DISPATCHER_HEADER Header;
    LIST_ENTRY ProfileListHead;
    ULONG_PTR DirectoryTableBase;
    LIST_ENTRY ThreadListHead; /* its KTHREADs, by ThreadListEntry */
    ULONG ProcessLock;
    UCHAR Pad[0x438 - 0x44];   /* the rest of NT's 19041 KPROCESS, unused */
} KPROCESS, *PKPROCESS, *PRKPROCESS;
_Static_assert(offsetof(KPROCESS, ThreadListHead) == 0x30, "Windows 10 x64 _KPROCESS");

#define KTPAD(from, to) UCHAR Pad##from[(to) - (from)]

typedef struct _KTHREAD {
    DISPATCHER_HEADER Header; /* signaled when it terminates */
    PVOID SListFaultAddress;
    ULONG64 QuantumTarget;    /* irqlab: quantum units left (NT counts cycles) */
    PVOID InitialStack;
    PVOID StackLimit;
    PVOID StackBase;
    KSPIN_LOCK ThreadLock;
    ULONG64 CycleTime;
    ULONG CurrentRunTime;
    ULONG ExpectedRunTime;
    PVOID KernelStack;        /* its RSP while it is not running */
    KTPAD(0x60, 0x71);
    volatile UCHAR Running;   /* its registers are live on a CPU (or still being saved) */
    UCHAR Alerted[2];
    ULONG MiscFlags;          /* bit 10: SystemThread */
    KTPAD(0x78, 0x98);
    union {
        KAPC_STATE ApcState;
        struct {
            UCHAR ApcStateFill[43];
            CHAR Priority;    /* 0x0c3 */
            ULONG UserIdealProcessor;
        };
    };
    LONG64 WaitStatus;
    PKWAIT_BLOCK WaitBlockList;
    LIST_ENTRY WaitListEntry; /* irqlab: on a ready queue (NT: also its wait list) */
    PVOID Queue;
    PVOID Teb;
    ULONG64 RelativeTimerBias;
    KTIMER Timer;             /* its timeouts */
    union {
        KWAIT_BLOCK WaitBlock[4];
        struct { UCHAR WaitBlockFill4[20]; ULONG ContextSwitches; };
        struct { UCHAR WaitBlockFill5[68]; volatile UCHAR State; CHAR Spare13; UCHAR WaitIrql; CHAR WaitMode; };
        struct { UCHAR WaitBlockFill6[116]; ULONG WaitTime; };
        struct { UCHAR WaitBlockFill7[164]; SHORT KernelApcDisable; SHORT SpecialApcDisable; };
    };
    KTPAD(0x200, 0x208);
    LIST_ENTRY QueueListEntry;
    ULONG NextProcessor;      /* where it runs or last ran */
    LONG QueuePriority;
    PKPROCESS Process;
    union {
        GROUP_AFFINITY UserAffinity;
        struct {
            UCHAR UserAffinityFill[10];
            CHAR PreviousMode;
            CHAR BasePriority;
            CHAR PriorityDecrement;
            UCHAR Preempted;
            UCHAR AdjustReason;
            CHAR AdjustIncrement;
        };
    };
    ULONG64 AffinityVersion;
    union {
        GROUP_AFFINITY Affinity;
        struct { UCHAR AffinityFill[10]; UCHAR ApcStateIndex; UCHAR WaitBlockCount; ULONG IdealProcessor; };
    };
    ULONG64 NpxState;
    union {
        KAPC_STATE SavedApcState;
        struct { UCHAR SavedApcStateFill[43]; UCHAR WaitReason; CHAR SuspendCount; };
    };
    union {
        UCHAR SchedulerApc[0x58];
        struct { UCHAR SchedulerApcFill1[3]; UCHAR QuantumReset; ULONG KernelTime; };
        struct { UCHAR SchedulerApcFill3[64]; struct _KPRCB *WaitPrcb; };
        struct { UCHAR SchedulerApcFill5[83]; UCHAR CallbackNestingLevel; ULONG UserTime; };
    };
    KEVENT SuspendEvent;
    LIST_ENTRY ThreadListEntry; /* on its process's ThreadListHead */
    LIST_ENTRY MutantListHead;
    KTPAD(0x318, 0x430);
} KTHREAD, *PKTHREAD, *PRKTHREAD;

#undef KTPAD

/* Windows 10 x64, from public `dt nt!_KTHREAD` dumps of the 20H1 kernel. */
#define KTHREAD_AT(field, offset) _Static_assert(offsetof(KTHREAD, field) == (offset), "KTHREAD." #field)
KTHREAD_AT(QuantumTarget, 0x20);
KTHREAD_AT(InitialStack, 0x28);
KTHREAD_AT(StackLimit, 0x30);
KTHREAD_AT(StackBase, 0x38);
KTHREAD_AT(KernelStack, 0x58);
KTHREAD_AT(Running, 0x71);
KTHREAD_AT(MiscFlags, 0x74);
KTHREAD_AT(ApcState, 0x98);
KTHREAD_AT(Priority, 0xc3);
KTHREAD_AT(WaitStatus, 0xc8);
KTHREAD_AT(WaitBlockList, 0xd0);
KTHREAD_AT(WaitListEntry, 0xd8);
KTHREAD_AT(Timer, 0x100);
KTHREAD_AT(WaitBlock, 0x140);
KTHREAD_AT(ContextSwitches, 0x154);
KTHREAD_AT(State, 0x184);
KTHREAD_AT(WaitIrql, 0x186);
KTHREAD_AT(WaitMode, 0x187);
KTHREAD_AT(WaitTime, 0x1b4);
KTHREAD_AT(KernelApcDisable, 0x1e4);
KTHREAD_AT(SpecialApcDisable, 0x1e6);
KTHREAD_AT(NextProcessor, 0x218);
KTHREAD_AT(Process, 0x220);
KTHREAD_AT(PreviousMode, 0x232);
KTHREAD_AT(BasePriority, 0x233);
KTHREAD_AT(Preempted, 0x235);
KTHREAD_AT(Affinity, 0x240);
KTHREAD_AT(IdealProcessor, 0x24c);
KTHREAD_AT(WaitReason, 0x283);
KTHREAD_AT(QuantumReset, 0x28b);
KTHREAD_AT(KernelTime, 0x28c);
KTHREAD_AT(WaitPrcb, 0x2c8);
KTHREAD_AT(UserTime, 0x2dc);
KTHREAD_AT(SuspendEvent, 0x2e0);
KTHREAD_AT(ThreadListEntry, 0x2f8);
KTHREAD_AT(MutantListHead, 0x308);
_Static_assert(sizeof(KTHREAD) == 0x430, "Windows 10 x64 _KTHREAD size");
#undef KTHREAD_AT

#define MutantObject    2 /* KOBJECTS values */
#define SemaphoreObject 5

/* KMUTEX is NT's KMUTANT, Windows 10's x64 layout. */
typedef struct _KMUTANT {
    DISPATCHER_HEADER Header;      /* SignalState: 1 free, 1 - n held n times by its owner */
    LIST_ENTRY MutantListEntry;    /* on the owner's MutantListHead */
    struct _KTHREAD *OwnerThread;
    BOOLEAN Abandoned;
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;
_Static_assert(sizeof(KMUTANT) == 0x38 && offsetof(KMUTANT, OwnerThread) == 0x28 &&
               offsetof(KMUTANT, ApcDisable) == 0x31, "Windows 10 x64 _KMUTANT");

typedef struct _KSEMAPHORE {
    DISPATCHER_HEADER Header; /* SignalState: the count */
    LONG Limit;
} KSEMAPHORE, *PKSEMAPHORE, *PRKSEMAPHORE;
_Static_assert(sizeof(KSEMAPHORE) == 0x20 && offsetof(KSEMAPHORE, Limit) == 0x18, "Windows 10 x64 _KSEMAPHORE");

/* IRQL: any.  Free; Level is ignored, as NT ignores it. */
VOID KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);
/* IRQL: <= DISPATCH_LEVEL.  One release by the owner (0x1E STATUS_MUTANT_NOT_OWNED by another);
 * the previous state.  Wait TRUE keeps the dispatcher lock for the wait that follows, as KeSetEvent. */
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);
LONG KeReadStateMutex(PRKMUTEX Mutex);
/* IRQL: any.  0 <= Count <= Limit. */
VOID KeInitializeSemaphore(PRKSEMAPHORE Semaphore, LONG Count, LONG Limit);
/* IRQL: <= DISPATCH_LEVEL.  Count += Adjustment (past Limit: 0x1E STATUS_SEMAPHORE_LIMIT_EXCEEDED);
 * the previous count. */
LONG KeReleaseSemaphore(PRKSEMAPHORE Semaphore, KPRIORITY Increment, LONG Adjustment, BOOLEAN Wait);
LONG KeReadStateSemaphore(PRKSEMAPHORE Semaphore);

typedef VOID (*PKSTART_ROUTINE)(PVOID StartContext);

/* IRQL: <= DISPATCH_LEVEL.  A thread that will run StartRoutine(StartContext) at PASSIVE_LEVEL
 * on the stack ending at KernelStack (StackPages pages), at Priority (1-31); KeStartThread makes it
 * ready.  KeTerminateThread (IRQL <= APC_LEVEL) ends the current thread: its object is signaled. */
VOID KeInitializeThread(PKTHREAD Thread, PVOID KernelStack, ULONG StackPages, PKSTART_ROUTINE StartRoutine,
                        PVOID StartContext, KPRIORITY Priority);
VOID KeStartThread(PKTHREAD Thread);
DECLSPEC_NORETURN VOID KeTerminateThread(KPRIORITY Increment);

/* IRQL: any.  The thread running on this processor (never NULL once the processor started): one
 * load of gs:0x188 (KPCR.Prcb.CurrentThread, pinned in prcb.h), in line as NT's; a single load,
 * so a thread that moves between processors cannot read another's. */
static inline PKTHREAD KeGetCurrentThread(VOID)
{
    PKTHREAD thread;

    __asm__ volatile("movq %%gs:0x188, %0" : "=r"(thread));
    return thread;
}
/* IRQL: <= DISPATCH_LEVEL.  Sets the thread's priority (1-31); returns the old one.  A lower
 * priority may let another thread run at once, a higher one may preempt another CPU's. */
KPRIORITY KeSetPriorityThread(PKTHREAD Thread, KPRIORITY Priority);
KPRIORITY KeQueryPriorityThread(PKTHREAD Thread);
/*
 * IRQL: <= DISPATCH_LEVEL.  The current thread runs only on the processors in Affinity (active ones,
 * at least one; otherwise no effect) until KeRevertToUserAffinityThreadEx; returns the previous
 * system affinity, or 0 if there was none.  Below DISPATCH_LEVEL the caller returns on one of them;
 * at DISPATCH_LEVEL the move waits until it lowers.  Revert with 0 restores the user affinity.
 */
KAFFINITY KeSetSystemAffinityThreadEx(KAFFINITY Affinity);
VOID KeRevertToUserAffinityThreadEx(KAFFINITY Affinity);
/* IRQL: <= APC_LEVEL.  Gives the rest of this thread's quantum to a ready thread of its priority. */
NTSTATUS ZwYieldExecution(VOID);

/* The System process, which every thread of irqlab belongs to. */
extern KPROCESS KiSystemProcess;
#define PsInitialSystemProcess (&KiSystemProcess)

#endif
