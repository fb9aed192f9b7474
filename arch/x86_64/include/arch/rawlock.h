/*
 * rawlock.h - a flag taken with interrupts off: the lock of the floors below
 * Ke (the page allocator) and of paths that must work before and during a
 * bugcheck (the debug port, the vector chains).  Everything else uses
 * KSPIN_LOCK (kernel/ke/spinlock.c).
 */
#ifndef ARCH_RAWLOCK_H
#define ARCH_RAWLOCK_H

#include <arch/arch.h>

typedef volatile LONG ARCH_RAW_LOCK;

/* Returns the flags to hand back to arch_raw_lock_release. */
static inline ULONG64 arch_raw_lock_acquire(ARCH_RAW_LOCK *Lock)
{
    ULONG64 flags = arch_save_disable();
    while (__atomic_exchange_n(Lock, 1, __ATOMIC_ACQUIRE))
        arch_pause();
    return flags;
}

static inline void arch_raw_lock_release(ARCH_RAW_LOCK *Lock, ULONG64 Flags)
{
    __atomic_store_n(Lock, 0, __ATOMIC_RELEASE);
    arch_restore(Flags);
}

#endif
