/*
 * fastmutex.h - the executive's fast mutex (FAST_MUTEX, the same structure
 * as the guarded mutex in include/irqlab/guardedmutex.h): its acquire raises
 * to APC_LEVEL, holding every APC back by IRQL, and its release restores the
 * IRQL the acquire found (Microsoft's "Fast Mutexes and Guarded Mutexes").
 */
#ifndef IRQLAB_FASTMUTEX_H
#define IRQLAB_FASTMUTEX_H

#include <irqlab/guardedmutex.h>

/* IRQL: <= DISPATCH_LEVEL.  Free. */
VOID ExInitializeFastMutex(PFAST_MUTEX FastMutex);
/* IRQL: <= APC_LEVEL; returns at APC_LEVEL holding it (0xBF if this thread already holds it). */
VOID ExAcquireFastMutex(PFAST_MUTEX FastMutex);
/* IRQL: APC_LEVEL, the holder; back to the IRQL the acquire found (0x1E, STATUS_MUTANT_NOT_OWNED,
 * for a thread that does not hold it: docs/deviations.md). */
VOID ExReleaseFastMutex(PFAST_MUTEX FastMutex);
/* IRQL: <= APC_LEVEL.  TRUE (held, at APC_LEVEL) if it was free; never waits. */
BOOLEAN ExTryToAcquireFastMutex(PFAST_MUTEX FastMutex);
/* IRQL: APC_LEVEL or in a critical region; the IRQL is left alone. */
VOID ExAcquireFastMutexUnsafe(PFAST_MUTEX FastMutex);
VOID ExReleaseFastMutexUnsafe(PFAST_MUTEX FastMutex);

#endif
