/*
 * fastmutex.c - the fast mutex: the guarded mutex's core (kernel/ke/
 * guardedmutex.c) taken at APC_LEVEL instead of in a guarded region, as
 * Microsoft's ExAcquireFastMutex page gives it: the acquire raises to
 * APC_LEVEL and keeps the IRQL it found in OldIrql for the release.
 */
#include <irqlab/fastmutex.h>
#include <irqlab/thread.h>

VOID ExInitializeFastMutex(PFAST_MUTEX FastMutex)
{
    KeInitializeGuardedMutex(FastMutex);
}

VOID ExAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old = KeGetCurrentIrql();

    if (old > APC_LEVEL) /* Microsoft's page: <= APC_LEVEL; it may wait */
        KeBugCheckEx(IRQL_NOT_LESS_OR_EQUAL, (ULONG_PTR)FastMutex, old, 0, (ULONG_PTR)__builtin_return_address(0));
    KfRaiseIrql(APC_LEVEL);
    KeAcquireGuardedMutexUnsafe(FastMutex);
    FastMutex->OldIrql = old;
}

VOID ExReleaseFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old = (KIRQL)FastMutex->OldIrql;

    ASSERT(KeGetCurrentIrql() == APC_LEVEL);
    KeReleaseGuardedMutexUnsafe(FastMutex);
    KeLowerIrql(old);
}

BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex)
{
    KIRQL old = KfRaiseIrql(APC_LEVEL);
    LONG free = 1;

    ASSERT(old <= APC_LEVEL);
    if (!__atomic_compare_exchange_n(&FastMutex->Count, &free, 0, FALSE, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        KeLowerIrql(old);
        return FALSE;
    }
    FastMutex->Owner = KeGetCurrentThread();
    FastMutex->OldIrql = old;
    return TRUE;
}

VOID ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    KeAcquireGuardedMutexUnsafe(FastMutex);
}

VOID ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex)
{
    KeReleaseGuardedMutexUnsafe(FastMutex);
}
