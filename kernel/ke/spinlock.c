/*
 * spinlock.c - NT's spin locks (include/irqlab/spinlock.h).
 *
 * KSPIN_LOCK: 0 when free; when held, the owner's KPRCB address (64-byte
 * aligned) | the IRQL it took the lock at << 1 | 1.  The acquire spins
 * reading (test-and-test-and-set) so waiting CPUs do not hammer the bus,
 * and checks the owner first: a CPU that spins on a lock it holds itself
 * would never get it.  That is recursion at the same IRQL, or lab 5's
 * cross-IRQL deadlock (an ISR wanting a lock its own CPU took at
 * DISPATCH_LEVEL): either way SPIN_LOCK_ALREADY_OWNED, with both IRQLs.
 *
 * In-stack queued locks are MCS locks, as NT's: the KSPIN_LOCK holds the
 * last waiter's KSPIN_LOCK_QUEUE, each waiter spins on its own entry, and
 * the release hands the lock to the next in line.
 */
#include <arch/arch.h>
#include <irqlab/prcb.h>
#include <irqlab/spinlock.h>
#include "kx.h"

#define LOCK_QUEUE_WAIT 1ull /* in KSPIN_LOCK_QUEUE.Lock: still waiting for its turn */
#define OWNER_MASK      KI_SPIN_LOCK_OWNER_MASK

static inline KSPIN_LOCK owner_tag(KIRQL Irql)
{
    return KI_SPIN_LOCK_OWNER(Irql);
}

/* This CPU wants a lock it already holds: it would spin forever.  Say which, and at what levels. */
static DECLSPEC_NORETURN VOID already_owned(PKSPIN_LOCK SpinLock, KIRQL OwnerIrql, BOOLEAN Queued)
{
    KIRQL irql = KeGetCurrentIrql();
    char name[96];

    KiFormatSymbol((ULONG_PTR)SpinLock, name, sizeof(name));
    DbgPrint("spin lock %s (%p) is already held by this CPU at IRQL %u (%s); acquiring it again at "
             "IRQL %u (%s) would spin forever\n", name, (PVOID)SpinLock, OwnerIrql, KeIrqlName(OwnerIrql),
             irql, KeIrqlName(irql));
    KeBugCheckEx(SPIN_LOCK_ALREADY_OWNED, (ULONG_PTR)SpinLock, OwnerIrql, irql, Queued);
}

VOID KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    *SpinLock = 0;
}

BOOLEAN KeTestSpinLock(PKSPIN_LOCK SpinLock)
{
    return __atomic_load_n(SpinLock, __ATOMIC_RELAXED) == 0;
}

BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    KSPIN_LOCK free = 0;

    ASSERT(KeGetCurrentIrql() >= DISPATCH_LEVEL);
    return __atomic_compare_exchange_n(SpinLock, &free, owner_tag(KeGetCurrentIrql()), FALSE, __ATOMIC_ACQUIRE,
                                       __ATOMIC_RELAXED);
}

/* Spins until the lock is this CPU's (test-and-test-and-set); CurrentIrql is recorded in the owner word. */
static inline __attribute__((always_inline)) VOID acquire(PKSPIN_LOCK SpinLock, KIRQL CurrentIrql)
{
    KSPIN_LOCK self = owner_tag(CurrentIrql), seen = 0;
    ULONG spins = 0;

    ASSERT(CurrentIrql >= DISPATCH_LEVEL && KeGetCurrentIrql() == CurrentIrql);
    while (!__atomic_compare_exchange_n(SpinLock, &seen, self, FALSE, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        if ((seen & OWNER_MASK) == (self & OWNER_MASK))
            already_owned(SpinLock, (KIRQL)(seen >> 1 & 0xf), FALSE);
        spins++;
        while ((seen = __atomic_load_n(SpinLock, __ATOMIC_RELAXED)) != 0) {
            arch_pause();
            spins++;
        }
    }
    if (spins != 0)
        KI_TRACE(KTRACE_CAT_LOCK, KTRACE_LOCK_CONTENDED, CurrentIrql, 0, spins, SpinLock);
}

/* Ke's own paths know the level they hold, and skip the CR8 read (a TCG helper call). */
VOID KiAcquireSpinLockAtIrql(PKSPIN_LOCK SpinLock, KIRQL CurrentIrql)
{
    acquire(SpinLock, CurrentIrql);
}

VOID KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    acquire(SpinLock, KeGetCurrentIrql()); /* its own frame: a deadlock's stack names the routine drivers call */
}

VOID KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    KSPIN_LOCK held = *SpinLock;

    if ((held & OWNER_MASK) != (KSPIN_LOCK)KeGetCurrentPrcb() || !(held & 1)) /* free, or another CPU's */
        KeBugCheckEx(SPIN_LOCK_NOT_OWNED, (ULONG_PTR)SpinLock, held, 0, 0);
    __atomic_store_n(SpinLock, 0, __ATOMIC_RELEASE);
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    KIRQL old = KfRaiseIrql(DISPATCH_LEVEL); /* bugchecks 0x9 when called above DISPATCH_LEVEL */

    KiAcquireSpinLockAtIrql(SpinLock, DISPATCH_LEVEL);
    return old;
}

VOID KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    KeReleaseSpinLockFromDpcLevel(SpinLock);
    KeLowerIrql(NewIrql);
}

/* This CPU's record of the queued locks it holds or waits for: the only way to see recursion. */
static VOID note_queued(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE Handle)
{
    KPRCB_IRQLAB *me = &KeGetCurrentPrcb()->Irqlab;
    ULONG free = ARRAYSIZE(me->QueuedLocks);

    for (ULONG i = 0; i < ARRAYSIZE(me->QueuedLocks); i++) {
        PKLOCK_QUEUE_HANDLE held = me->QueuedLocks[i];
        if (held == NULL && free == ARRAYSIZE(me->QueuedLocks))
            free = i;
        else if (held && ((ULONG_PTR)held->LockQueue.Lock & ~LOCK_QUEUE_WAIT) == (ULONG_PTR)SpinLock)
            already_owned(SpinLock, me->QueuedLockIrql[i], TRUE);
    }
    if (free < ARRAYSIZE(me->QueuedLocks)) { /* deeper nesting than the record holds goes unchecked */
        me->QueuedLocks[free] = Handle;
        me->QueuedLockIrql[free] = KeGetCurrentIrql();
    }
}

static VOID forget_queued(PKLOCK_QUEUE_HANDLE Handle)
{
    KPRCB_IRQLAB *me = &KeGetCurrentPrcb()->Irqlab;

    for (ULONG i = 0; i < ARRAYSIZE(me->QueuedLocks); i++)
        if (me->QueuedLocks[i] == Handle)
            me->QueuedLocks[i] = NULL;
}

VOID KeAcquireInStackQueuedSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    PKSPIN_LOCK_QUEUE me = &LockHandle->LockQueue;

    ASSERT(KeGetCurrentIrql() >= DISPATCH_LEVEL);
    note_queued(SpinLock, LockHandle);
    me->Next = NULL;
    me->Lock = (PKSPIN_LOCK)((ULONG_PTR)SpinLock | LOCK_QUEUE_WAIT);
    PKSPIN_LOCK_QUEUE prev = (PKSPIN_LOCK_QUEUE)__atomic_exchange_n(SpinLock, (KSPIN_LOCK)me, __ATOMIC_ACQ_REL);
    if (prev == NULL) {
        me->Lock = SpinLock; /* free: ours at once */
        return;
    }
    __atomic_store_n(&prev->Next, me, __ATOMIC_RELEASE); /* the owner hands over only once linked */
    ULONG spins = 1;
    while ((ULONG_PTR)__atomic_load_n(&me->Lock, __ATOMIC_ACQUIRE) & LOCK_QUEUE_WAIT) {
        arch_pause();
        spins++;
    }
    KI_TRACE(KTRACE_CAT_LOCK, KTRACE_LOCK_CONTENDED, KI_TRACE_READ_IRQL, 1, spins, SpinLock); /* D16 1: a queued lock */
}

VOID KeReleaseInStackQueuedSpinLockFromDpcLevel(PKLOCK_QUEUE_HANDLE LockHandle)
{
    PKSPIN_LOCK_QUEUE me = &LockHandle->LockQueue, next;
    PKSPIN_LOCK lock = me->Lock;
    KSPIN_LOCK expected = (KSPIN_LOCK)me;

    forget_queued(LockHandle);
    if (__atomic_load_n(&me->Next, __ATOMIC_ACQUIRE) == NULL &&
        __atomic_compare_exchange_n(lock, &expected, 0, FALSE, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return; /* nobody behind us */
    while ((next = __atomic_load_n(&me->Next, __ATOMIC_ACQUIRE)) == NULL)
        arch_pause(); /* a waiter swapped itself in and is about to link */
    __atomic_store_n(&next->Lock, lock, __ATOMIC_RELEASE); /* its turn: the wait bit cleared */
}

VOID KeAcquireInStackQueuedSpinLock(PKSPIN_LOCK SpinLock, PKLOCK_QUEUE_HANDLE LockHandle)
{
    LockHandle->OldIrql = KfRaiseIrql(DISPATCH_LEVEL);
    KeAcquireInStackQueuedSpinLockAtDpcLevel(SpinLock, LockHandle);
}

VOID KeReleaseInStackQueuedSpinLock(PKLOCK_QUEUE_HANDLE LockHandle)
{
    KIRQL old = LockHandle->OldIrql;

    KeReleaseInStackQueuedSpinLockFromDpcLevel(LockHandle);
    KeLowerIrql(old);
}
