/*
 * spinlock.c - KSPIN_LOCK: a word that is 0 when free.  The acquire spins
 * reading (test-and-test-and-set) so waiting CPUs do not hammer the bus.
 */
#include <arch/arch.h>
#include <irqlab/interrupt.h>

VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    *SpinLock = 0;
}

VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    ASSERT(KeGetCurrentIrql() >= DISPATCH_LEVEL);
    while (__atomic_exchange_n(SpinLock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(SpinLock, __ATOMIC_RELAXED))
            arch_pause();
}

VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    ASSERT(*SpinLock != 0);
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}
