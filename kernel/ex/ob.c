/*
 * ob.c - handles and references for irqlab's one kind of named object, the
 * thread (NT's object manager, in miniature): a handle table of the System
 * process, ObReferenceObjectByHandle, ObDereferenceObject and ZwClose.
 * Handles are multiples of 4, as NT's are.  A thread's memory and stack go
 * when its last reference does and it has left its processor (ps.c).
 */
#include <irqlab/ps.h>
#include <irqlab/spinlock.h>

#define HANDLES 256

static struct {
    KSPIN_LOCK Lock;
    PETHREAD Object[HANDLES];
} ObpHandles;

struct _OBJECT_TYPE {
    PCSTR Name;
};
static struct _OBJECT_TYPE PspThreadType = { "Thread" };
static POBJECT_TYPE PspThreadTypePointer = &PspThreadType;
POBJECT_TYPE *PsThreadType = &PspThreadTypePointer;

/* ps.c: the last reference went; the thread is freed once it is off its processor. */
VOID PspDeleteThread(PETHREAD Thread);
VOID PspReap(VOID);

/* IRQL: <= DISPATCH_LEVEL.  A handle for Object (referenced for it), or NULL when the table is full. */
HANDLE ObpInsertHandle(PETHREAD Object)
{
    KIRQL irql = KeAcquireSpinLockRaiseToDpc(&ObpHandles.Lock);
    HANDLE handle = NULL;

    for (ULONG i = 0; i < HANDLES && handle == NULL; i++) {
        if (ObpHandles.Object[i] == NULL) {
            ObpHandles.Object[i] = Object;
            ObReferenceObject(Object);
            handle = (HANDLE)(ULONG_PTR)((i + 1) * 4);
        }
    }
    KeReleaseSpinLock(&ObpHandles.Lock, irql);
    return handle;
}

static LONG slot_of(HANDLE Handle)
{
    ULONG_PTR h = (ULONG_PTR)Handle;

    if (h == 0 || (h & 3) || h / 4 > HANDLES)
        return -1;
    return (LONG)(h / 4 - 1);
}

NTSTATUS ObReferenceObjectByHandle(HANDLE Handle, ACCESS_MASK DesiredAccess, POBJECT_TYPE ObjectType,
                                   KPROCESSOR_MODE AccessMode, PVOID *Object, PVOID HandleInformation)
{
    LONG slot = slot_of(Handle);

    UNREFERENCED_PARAMETER(DesiredAccess);
    UNREFERENCED_PARAMETER(AccessMode);
    UNREFERENCED_PARAMETER(HandleInformation);
    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    if (ObjectType != NULL && ObjectType != *PsThreadType)
        return STATUS_OBJECT_TYPE_MISMATCH;
    KIRQL irql = KeAcquireSpinLockRaiseToDpc(&ObpHandles.Lock);
    PETHREAD thread = slot >= 0 ? ObpHandles.Object[slot] : NULL;
    if (thread)
        ObReferenceObject(thread);
    KeReleaseSpinLock(&ObpHandles.Lock, irql);
    *Object = thread;
    return thread ? STATUS_SUCCESS : STATUS_INVALID_HANDLE;
}

VOID ObReferenceObject(PVOID Object)
{
    LONG count = __atomic_add_fetch(&((PETHREAD)Object)->PointerCount, 1, __ATOMIC_RELAXED);

    ASSERT(count > 1); /* a reference to an object nobody held any more */
}

VOID ObDereferenceObject(PVOID Object)
{
    LONG count = __atomic_sub_fetch(&((PETHREAD)Object)->PointerCount, 1, __ATOMIC_ACQ_REL);

    ASSERT(count >= 0);
    if (count == 0)
        PspDeleteThread(Object);
}

NTSTATUS ZwClose(HANDLE Handle)
{
    LONG slot = slot_of(Handle);

    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    KIRQL irql = KeAcquireSpinLockRaiseToDpc(&ObpHandles.Lock);
    PETHREAD thread = slot >= 0 ? ObpHandles.Object[slot] : NULL;
    if (thread)
        ObpHandles.Object[slot] = NULL;
    KeReleaseSpinLock(&ObpHandles.Lock, irql);
    if (thread == NULL)
        return STATUS_INVALID_HANDLE;
    ObDereferenceObject(thread);
    PspReap();
    return STATUS_SUCCESS;
}
