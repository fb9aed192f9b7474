/*
 * ps.h - system threads as a driver creates them (NT's PsCreateSystemThread)
 * and the handles that name them (Ob): the executive's side of threads
 * (kernel/ex/ps.c, ob.c).  An ETHREAD is the KTHREAD (kernel/ke) with the
 * executive's fields after it.
 */
#ifndef IRQLAB_PS_H
#define IRQLAB_PS_H

#include <irqlab/thread.h>

typedef PVOID HANDLE, *PHANDLE;
typedef ULONG ACCESS_MASK;
#define THREAD_ALL_ACCESS 0x001fffff
#define OBJ_KERNEL_HANDLE 0x00000200

typedef struct _CLIENT_ID {
    HANDLE UniqueProcess;
    HANDLE UniqueThread;
} CLIENT_ID, *PCLIENT_ID;

/* irqlab's ETHREAD: NT's puts the Tcb first too; the rest is irqlab's (not NT's layout). */
typedef struct _ETHREAD {
    KTHREAD Tcb;
    CLIENT_ID Cid;
    volatile LONG PointerCount; /* references: handles, ObReferenceObjectByHandle, the thread itself */
    NTSTATUS ExitStatus;
    PKSTART_ROUTINE StartRoutine;
    PVOID StartContext;
    LIST_ENTRY ReaperLink; /* once dead and unreferenced, until its stack can go */
    LIST_ENTRY IrpList;    /* the IRPs it issued that are not yet completed to it (NT's IrpList) */
} ETHREAD, *PETHREAD;

#define PSP_ETHREAD (1u << 31) /* irqlab, in KTHREAD.MiscFlags: a KTHREAD that is an ETHREAD's Tcb */

typedef struct _OBJECT_TYPE *POBJECT_TYPE;
extern POBJECT_TYPE *PsThreadType;

/*
 * IRQL: PASSIVE_LEVEL.  A system thread running StartRoutine(StartContext) at
 * PASSIVE_LEVEL, priority 8, in the System process; *ThreadHandle names it until
 * ZwClose.  ProcessHandle must be NULL (irqlab has one process); ObjectAttributes
 * is ignored.  STATUS_INSUFFICIENT_RESOURCES when memory or handles run out.
 */
NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, PVOID ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext);
/* IRQL: PASSIVE_LEVEL, in a system thread.  Ends it: its object is signaled; never returns. */
DECLSPEC_NORETURN NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus);
/* IRQL: any.  NULL for the processors' own threads, which are not ETHREADs. */
HANDLE PsGetCurrentThreadId(VOID);
PETHREAD PsGetCurrentThread(VOID);

/* IRQL: <= APC_LEVEL.  The object a handle names, referenced (ObDereferenceObject gives it back). */
NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID *Object, PVOID HandleInformation);
/* IRQL: <= DISPATCH_LEVEL. */
VOID ObReferenceObject(PVOID Object);
VOID ObDereferenceObject(PVOID Object);
#define ObfDereferenceObject ObDereferenceObject
/* IRQL: PASSIVE_LEVEL.  Closes a handle: STATUS_INVALID_HANDLE for one that names nothing. */
NTSTATUS ZwClose(HANDLE Handle);

/* irqlab, IRQL PASSIVE_LEVEL: threads PsCreateSystemThread made that are not yet freed (the reaper
 * runs first).  A test's way to see every thread reaped. */
ULONG PsQueryLiveThreadCount(VOID);

#endif
