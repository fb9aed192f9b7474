/*
 * spinlock.h - NT's executive spin locks: KSPIN_LOCK taken by spinning
 * (KeAcquireSpinLock and friends) and the in-stack queued form, where each
 * waiter spins on its own KLOCK_QUEUE_HANDLE and the lock passes in order.
 *
 * A held KSPIN_LOCK holds its owner's KPRCB address, the IRQL it was taken
 * at, and bit 0 (NT's checked builds stored the owning thread), so taking
 * a lock this CPU already owns, at the same IRQL or from an interrupt above
 * it, is caught: SPIN_LOCK_ALREADY_OWNED (0xF) with P1 = the lock, P2 = the
 * IRQL it is held at, P3 = the IRQL of the second attempt, P4 = 1 for an
 * in-stack queued lock.
 */
#ifndef IRQLAB_SPINLOCK_H
#define IRQLAB_SPINLOCK_H

#include <irqlab/ke.h>

typedef struct _KSPIN_LOCK_QUEUE {
    struct _KSPIN_LOCK_QUEUE *volatile Next; /* the waiter behind this one */
    PKSPIN_LOCK volatile Lock;               /* the lock; bit 0 set while still waiting */
} KSPIN_LOCK_QUEUE, *PKSPIN_LOCK_QUEUE;

typedef struct _KLOCK_QUEUE_HANDLE {
    KSPIN_LOCK_QUEUE LockQueue;
    KIRQL OldIrql;
} KLOCK_QUEUE_HANDLE, *PKLOCK_QUEUE_HANDLE;

_Static_assert(sizeof(KLOCK_QUEUE_HANDLE) == 0x18, "x64 KLOCK_QUEUE_HANDLE");
_Static_assert(offsetof(KLOCK_QUEUE_HANDLE, OldIrql) == 0x10, "x64 KLOCK_QUEUE_HANDLE");

/* IRQL: any. */
VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock);
/* IRQL: any.  TRUE when the lock looks free (a hint: it may be taken a moment later). */
BOOLEAN KeTestSpinLock(PKSPIN_LOCK SpinLock);

/* IRQL: <= DISPATCH_LEVEL.  Raises to DISPATCH_LEVEL, then spins; returns the old IRQL. */
KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock);
#define KeAcquireSpinLock(SpinLock, OldIrql) (*(OldIrql) = KeAcquireSpinLockRaiseToDpc(SpinLock))
/* IRQL: DISPATCH_LEVEL, holding the lock.  Lowers to NewIrql. */
VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql);

/* IRQL: >= DISPATCH_LEVEL.  The IRQL is left alone. */
VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);
VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock);
/* IRQL: >= DISPATCH_LEVEL.  TRUE when taken; FALSE at once when someone holds it. */
BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock);

/* IRQL: <= DISPATCH_LEVEL.  The handle lives on the caller's stack until the release. */
VOID KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
VOID KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle);
/* IRQL: >= DISPATCH_LEVEL. */
VOID KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle);
VOID KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle);

#endif
