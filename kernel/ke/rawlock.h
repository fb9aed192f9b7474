/*
 * rawlock.h - the lock used before there are spin locks and IRQL: a flag
 * taken with interrupts off.  Only the print path and the page allocator use
 * it; everything else uses KSPIN_LOCK (kernel/ke/spinlock.c).
 */
#ifndef KERNEL_KE_RAWLOCK_H
#define KERNEL_KE_RAWLOCK_H

#include <arch/arch.h>

typedef volatile LONG KI_RAW_LOCK;

/* Returns the flags to hand back to KiRawLockRelease. */
static inline ULONG64 KiRawLockAcquire(KI_RAW_LOCK *Lock)
{
    ULONG64 flags = arch_save_disable();
    while (__atomic_exchange_n(Lock, 1, __ATOMIC_ACQUIRE))
        arch_pause();
    return flags;
}

static inline void KiRawLockRelease(KI_RAW_LOCK *Lock, ULONG64 Flags)
{
    __atomic_store_n(Lock, 0, __ATOMIC_RELEASE);
    arch_restore(Flags);
}

#endif
