/*
 * guardedmutex.c - the guarded mutex, and the mutex core the fast mutex
 * shares (kernel/ex/fastmutex.c): a count that the first taker brings to 0,
 * a synchronization event the others wait on (Microsoft's "Fast Mutexes and
 * Guarded Mutexes").  Waiting happens below DISPATCH_LEVEL with APCs held
 * back, so no APC can run in the middle of an acquire or while it is held.
 */
#include <irqlab/apc.h>
#include <irqlab/guardedmutex.h>
#include "ki.h"

VOID KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    ASSERT(KeGetCurrentIrql() <= DISPATCH_LEVEL);
    Mutex->Count = 1;
    Mutex->Owner = NULL;
    Mutex->Contention = 0;
    Mutex->OldIrql = 0;
    KeInitializeEvent(&Mutex->Event, SynchronizationEvent, FALSE);
}

PVOID KeGetOwnerGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    return __atomic_load_n(&Mutex->Owner, __ATOMIC_ACQUIRE);
}

VOID KeAcquireGuardedMutexUnsafe(PKGUARDED_MUTEX Mutex)
{
    PKTHREAD self = KeGetCurrentThread();

    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    ASSERT(KeAreApcsDisabled() || KeGetCurrentIrql() == APC_LEVEL); /* an APC must not run while it is held */
    if (Mutex->Owner == self) /* it would wait for itself for ever */
        KeBugCheckEx(MUTEX_ALREADY_OWNED, (ULONG_PTR)Mutex, (ULONG_PTR)self, 0, 0);
    if (__atomic_sub_fetch(&Mutex->Count, 1, __ATOMIC_ACQ_REL) != 0) {
        __atomic_add_fetch(&Mutex->Contention, 1, __ATOMIC_RELAXED);
        KeWaitForSingleObject(&Mutex->Event, WrGuardedMutex, KernelMode, FALSE, NULL); /* the releaser hands it over */
    }
    __atomic_store_n(&Mutex->Owner, self, __ATOMIC_RELEASE);
}

VOID KeReleaseGuardedMutexUnsafe(PKGUARDED_MUTEX Mutex)
{
    PKTHREAD self = KeGetCurrentThread();

    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    if (Mutex->Owner != self)
        KeBugCheckEx(KMODE_EXCEPTION_NOT_HANDLED, (ULONG_PTR)(LONG_PTR)STATUS_MUTANT_NOT_OWNED,
                     (ULONG_PTR)__builtin_return_address(0), (ULONG_PTR)Mutex, (ULONG_PTR)Mutex->Owner);
    __atomic_store_n(&Mutex->Owner, NULL, __ATOMIC_RELEASE);
    if (__atomic_add_fetch(&Mutex->Count, 1, __ATOMIC_ACQ_REL) != 1) /* waiters: one of them takes it */
        KeSetEvent(&Mutex->Event, IO_NO_INCREMENT, FALSE);
}

VOID KeAcquireGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    KeEnterGuardedRegion();
    KeAcquireGuardedMutexUnsafe(Mutex);
}

VOID KeReleaseGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    KeReleaseGuardedMutexUnsafe(Mutex);
    KeLeaveGuardedRegion();
}

BOOLEAN KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex)
{
    LONG free = 1;

    ASSERT(KeGetCurrentIrql() <= APC_LEVEL);
    KeEnterGuardedRegion();
    if (!__atomic_compare_exchange_n(&Mutex->Count, &free, 0, FALSE, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        KeLeaveGuardedRegion();
        return FALSE;
    }
    __atomic_store_n(&Mutex->Owner, KeGetCurrentThread(), __ATOMIC_RELEASE);
    return TRUE;
}
