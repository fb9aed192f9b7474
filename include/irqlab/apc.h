/*
 * apc.h - asynchronous procedure calls: NT's KAPC (Windows 10 x64 layout,
 * pinned below), queueing one to a thread, and what holds them back:
 * APC_LEVEL, critical regions (normal kernel APCs) and guarded regions
 * (all of them).
 *
 * An APC runs a routine in the context of one thread.  A special kernel
 * APC (no NormalRoutine) runs its KernelRoutine at APC_LEVEL; a normal
 * kernel APC runs its KernelRoutine at APC_LEVEL, then its NormalRoutine at
 * PASSIVE_LEVEL.  Specials run before normals, each kind in queue order.
 * Only kernel-mode APCs exist: irqlab has no user mode (docs/deviations.md).
 */
#ifndef IRQLAB_APC_H
#define IRQLAB_APC_H

#include <irqlab/thread.h>

#define ApcObject 0x12 /* KOBJECTS value */

struct _KAPC;
typedef VOID (*PKNORMAL_ROUTINE)(PVOID NormalContext, PVOID SystemArgument1, PVOID SystemArgument2);
typedef VOID (*PKKERNEL_ROUTINE)(struct _KAPC *Apc, PKNORMAL_ROUTINE *NormalRoutine, PVOID *NormalContext,
                                 PVOID *SystemArgument1, PVOID *SystemArgument2);
typedef VOID (*PKRUNDOWN_ROUTINE)(struct _KAPC *Apc);

typedef enum _KAPC_ENVIRONMENT {
    OriginalApcEnvironment, AttachedApcEnvironment, CurrentApcEnvironment, InsertApcEnvironment
} KAPC_ENVIRONMENT;

typedef struct _KAPC {
    UCHAR Type;
    UCHAR SpareByte0;
    UCHAR Size;
    UCHAR SpareByte1;
    ULONG SpareLong0;
    struct _KTHREAD *Thread;
    LIST_ENTRY ApcListEntry;   /* on Thread->ApcState.ApcListHead[ApcMode] while Inserted */
    union {
        struct {               /* named as in Windows 8's symbols; 19041's call them Reserved[3] */
            PKKERNEL_ROUTINE KernelRoutine;
            PKRUNDOWN_ROUTINE RundownRoutine;
            PKNORMAL_ROUTINE NormalRoutine;
        };
        PVOID Reserved[3];
    };
    PVOID NormalContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    CCHAR ApcStateIndex;
    KPROCESSOR_MODE ApcMode;
    BOOLEAN Inserted;
} KAPC, *PKAPC, *PRKAPC;
_Static_assert(offsetof(KAPC, Thread) == 0x8 && offsetof(KAPC, ApcListEntry) == 0x10 &&
               offsetof(KAPC, KernelRoutine) == 0x20 && offsetof(KAPC, NormalRoutine) == 0x30 &&
               offsetof(KAPC, NormalContext) == 0x38 && offsetof(KAPC, SystemArgument2) == 0x48 &&
               offsetof(KAPC, ApcStateIndex) == 0x50 && offsetof(KAPC, Inserted) == 0x52 && sizeof(KAPC) == 0x58,
               "Windows 10 x64 _KAPC");
_Static_assert(sizeof(KAPC_STATE) == 0x30 && offsetof(KAPC_STATE, KernelApcPending) == 0x29,
               "Windows 10 x64 _KAPC_STATE");

/* IRQL: any.  A kernel APC for Thread; NormalRoutine NULL makes it special (then NormalContext is
 * ignored).  Environment: irqlab has one APC environment, so every value means the current one. */
VOID KeInitializeApc(PRKAPC Apc, PRKTHREAD Thread, KAPC_ENVIRONMENT Environment, PKKERNEL_ROUTINE KernelRoutine,
                     PKRUNDOWN_ROUTINE RundownRoutine, PKNORMAL_ROUTINE NormalRoutine, KPROCESSOR_MODE ApcMode,
                     PVOID NormalContext);
/*
 * IRQL: <= DISPATCH_LEVEL.  Queues the APC with its two arguments; FALSE when it is already queued,
 * is a user-mode APC, or its thread is ending (no longer APC-queueable).  The thread is interrupted
 * if it runs, woken with STATUS_KERNEL_APC if it waits at PASSIVE_LEVEL and may take it (its wait
 * then resumes, boosted by Increment), and otherwise takes it when it next runs below APC_LEVEL.
 */
BOOLEAN KeInsertQueueApc(PRKAPC Apc, PVOID SystemArgument1, PVOID SystemArgument2, KPRIORITY Increment);
/* IRQL: <= DISPATCH_LEVEL.  Takes a queued APC off its thread's queue; FALSE if it was not queued. */
BOOLEAN KeRemoveQueueApc(PKAPC Apc);

/* IRQL: <= APC_LEVEL.  Normal kernel APCs wait while the current thread is in a critical region;
 * all its APCs wait in a guarded region.  Both nest; leaving the last delivers what waited. */
VOID KeEnterCriticalRegion(VOID);
VOID KeLeaveCriticalRegion(VOID);
VOID KeEnterGuardedRegion(VOID);
VOID KeLeaveGuardedRegion(VOID);
/* IRQL: any.  In a critical or guarded region?  In a guarded region or at APC_LEVEL or above? */
BOOLEAN KeAreApcsDisabled(VOID);
BOOLEAN KeAreAllApcsDisabled(VOID);

#endif
