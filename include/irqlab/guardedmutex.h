/*
 * guardedmutex.h - the guarded mutex (KGUARDED_MUTEX): a mutex for threads
 * below DISPATCH_LEVEL that holds every APC back while it is held (a guarded
 * region), without raising the IRQL.  Since Windows 8 the fast mutex is the
 * same structure (wdm.h: `FAST_MUTEX, KGUARDED_MUTEX`); its Ex routines,
 * which raise to APC_LEVEL instead, are in include/irqlab/fastmutex.h.
 *
 * Count is 1 while the mutex is free and goes down by one per thread that
 * wants it; a thread that does not take it to 0 waits on Event, and each
 * release with waiters left hands it to one of them.
 */
#ifndef IRQLAB_GUARDEDMUTEX_H
#define IRQLAB_GUARDEDMUTEX_H

#include <irqlab/wait.h>

typedef struct _FAST_MUTEX {
    volatile LONG Count;
    PVOID Owner;        /* the KTHREAD holding it */
    ULONG Contention;   /* acquires that had to wait */
    KEVENT Event;
    ULONG OldIrql;      /* the fast mutex's: the IRQL its acquire raised from */
} FAST_MUTEX, *PFAST_MUTEX, KGUARDED_MUTEX, *PKGUARDED_MUTEX;
_Static_assert(offsetof(FAST_MUTEX, Owner) == 0x8 && offsetof(FAST_MUTEX, Contention) == 0x10 &&
               offsetof(FAST_MUTEX, Event) == 0x18 && offsetof(FAST_MUTEX, OldIrql) == 0x30 &&
               sizeof(FAST_MUTEX) == 0x38, "Windows 10 x64 FAST_MUTEX");

/* IRQL: <= DISPATCH_LEVEL.  Free. */
VOID KeInitializeGuardedMutex(PKGUARDED_MUTEX Mutex);
/* IRQL: <= APC_LEVEL.  Enters a guarded region and takes the mutex, waiting if another thread holds
 * it; taking one this thread already holds is 0xBF MUTEX_ALREADY_OWNED.  Release leaves the region. */
VOID KeAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);
VOID KeReleaseGuardedMutex(PKGUARDED_MUTEX Mutex);
/* IRQL: <= APC_LEVEL.  TRUE (and held, in a guarded region) if it was free; never waits. */
BOOLEAN KeTryToAcquireGuardedMutex(PKGUARDED_MUTEX Mutex);
/* IRQL: <= APC_LEVEL, APCs already held back (a guarded or critical region, or APC_LEVEL): the mutex
 * alone.  Releasing one this thread does not hold is 0x1E STATUS_MUTANT_NOT_OWNED (docs/deviations.md). */
VOID KeAcquireGuardedMutexUnsafe(PKGUARDED_MUTEX Mutex);
VOID KeReleaseGuardedMutexUnsafe(PKGUARDED_MUTEX Mutex);
/* IRQL: any.  The thread holding it, or NULL. */
PVOID KeGetOwnerGuardedMutex(PKGUARDED_MUTEX Mutex);

#endif
