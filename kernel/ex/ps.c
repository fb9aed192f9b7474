/*
 * ps.c - system threads (NT's PsCreateSystemThread): an ETHREAD from the
 * pool, a guarded kernel stack, KeInitializeThread/KeStartThread, a handle.
 *
 * A thread holds a reference to itself while it lives; a handle holds one
 * more.  When the last goes, the thread cannot always be freed at once (it
 * may be the one dropping it, on the stack to be freed), so it joins the
 * reaper list and is freed, stack and all, by the next PsCreateSystemThread
 * or ZwClose once it has left its processor (KTHREAD.Running clear): NT's
 * PspReaper does the same job in a worker thread.
 */
#include <irqlab/mm.h>
#include <irqlab/pool.h>
#include <irqlab/ps.h>
#include <irqlab/spinlock.h>

#define THREAD_TAG 0x65726854 /* 'Thre', NT's tag for thread objects */
#define SYSTEM_THREAD_PRIORITY 8

HANDLE ObpInsertHandle(PETHREAD Object);
VOID PspReap(VOID);

static KSPIN_LOCK PspReaperLock;
static LIST_ENTRY PspReaperList = { &PspReaperList, &PspReaperList };
static volatile LONG PspNextThreadId = 4, PspLiveThreads;

PETHREAD PsGetCurrentThread(VOID)
{
    return (PETHREAD)KeGetCurrentThread();
}

/* The boot processor's threads are not ETHREADs: they have no Cid. */
HANDLE PsGetCurrentThreadId(VOID)
{
    PKTHREAD t = KeGetCurrentThread();

    return t->MiscFlags & PSP_ETHREAD ? ((PETHREAD)t)->Cid.UniqueThread : NULL;
}

static VOID PspSystemThreadStartup(PVOID Context)
{
    PETHREAD self = Context;

    self->StartRoutine(self->StartContext);
    KIRQL irql = KeGetCurrentIrql();
    if (irql != PASSIVE_LEVEL) /* returned raised, or holding a spin lock: as KiThreadStartup says it */
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)self->StartRoutine, irql, 0, (ULONG_PTR)self->StartRoutine);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

NTSTATUS PsCreateSystemThread(PHANDLE ThreadHandle, ULONG DesiredAccess, PVOID ObjectAttributes,
                              HANDLE ProcessHandle, PCLIENT_ID ClientId, PKSTART_ROUTINE StartRoutine,
                              PVOID StartContext)
{
    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(ObjectAttributes);
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    if (ProcessHandle != NULL || StartRoutine == NULL)
        return STATUS_INVALID_PARAMETER;
    PspReap();
    PETHREAD thread = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(ETHREAD), THREAD_TAG);
    PVOID stack = thread ? MmCreateKernelStack(KERNEL_STACK_PAGES) : NULL;
    if (stack == NULL) {
        if (thread)
            ExFreePoolWithTag(thread, THREAD_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    KeInitializeThread(&thread->Tcb, stack, KERNEL_STACK_PAGES, PspSystemThreadStartup, thread,
                       SYSTEM_THREAD_PRIORITY);
    thread->Tcb.MiscFlags |= PSP_ETHREAD; /* PsGetCurrentThreadId, the I/O manager's IrpList */
    InitializeListHead(&thread->IrpList);
    thread->Cid.UniqueProcess = (HANDLE)4; /* the System process, as NT numbers it */
    thread->Cid.UniqueThread = (HANDLE)(ULONG_PTR)__atomic_fetch_add(&PspNextThreadId, 4, __ATOMIC_RELAXED);
    thread->PointerCount = 1; /* the thread's own, until it ends */
    thread->StartRoutine = StartRoutine;
    thread->StartContext = StartContext;
    HANDLE handle = ObpInsertHandle(thread);
    if (handle == NULL) {
        MmDeleteKernelStack(stack, KERNEL_STACK_PAGES);
        ExFreePoolWithTag(thread, THREAD_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    __atomic_add_fetch(&PspLiveThreads, 1, __ATOMIC_RELAXED);
    if (ClientId)
        *ClientId = thread->Cid;
    *ThreadHandle = handle;
    KeStartThread(&thread->Tcb);
    return STATUS_SUCCESS;
}

NTSTATUS PsTerminateSystemThread(NTSTATUS ExitStatus)
{
    PETHREAD self = PsGetCurrentThread();

    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    ASSERT(self->Tcb.MiscFlags & PSP_ETHREAD); /* only a thread PsCreateSystemThread made */
    self->ExitStatus = ExitStatus;
    ObDereferenceObject(self); /* its own reference: freed later by the reaper, never here */
    KeTerminateThread(0);
}

/* The last reference went: the reaper frees it once it has left its processor. */
VOID PspDeleteThread(PETHREAD Thread)
{
    KIRQL irql = KeAcquireSpinLockRaiseToDpc(&PspReaperLock);

    InsertTailList(&PspReaperList, &Thread->ReaperLink);
    KeReleaseSpinLock(&PspReaperLock, irql);
}

/* IRQL: PASSIVE_LEVEL.  Frees the dead threads that no processor runs on any more. */
VOID PspReap(VOID)
{
    KIRQL irql = KeAcquireSpinLockRaiseToDpc(&PspReaperLock);

    for (PLIST_ENTRY e = PspReaperList.Flink; e != &PspReaperList;) {
        PETHREAD t = CONTAINING_RECORD(e, ETHREAD, ReaperLink);
        e = e->Flink;
        if (t->Tcb.State != Terminated || __atomic_load_n(&t->Tcb.Running, __ATOMIC_ACQUIRE))
            continue;
        RemoveEntryList(&t->ReaperLink);
        MmDeleteKernelStack(t->Tcb.InitialStack, KERNEL_STACK_PAGES);
        ExFreePoolWithTag(t, THREAD_TAG);
        __atomic_sub_fetch(&PspLiveThreads, 1, __ATOMIC_RELAXED);
    }
    KeReleaseSpinLock(&PspReaperLock, irql);
}

ULONG PsQueryLiveThreadCount(VOID)
{
    PspReap();
    return (ULONG)__atomic_load_n(&PspLiveThreads, __ATOMIC_RELAXED);
}
