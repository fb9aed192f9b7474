/*
 * spinlock_test.c - NT's spin locks: the IRQL they leave, exclusion among
 * all CPUs at once (through KeIpiGenericCall), the try/test forms, and the
 * bugchecks for taking a lock twice or releasing one not held.
 */
#include <arch/arch.h>
#include <irqlab/prcb.h>
#include <irqlab/spinlock.h>
#include <irqlab/test.h>

/*
 * Lock handovers in all, split among the CPUs: an MCS handover waits for the
 * next waiter's vCPU to be scheduled, slow when QEMU runs 8 vCPUs on 2 cores
 * (2,000 took up to 4 s there).  The CPUs spin at IPI_LEVEL, taking no clock
 * tick, so a long run would rightly trip the 4 s clock watchdog (0x101).
 */
#define HANDOVERS 500
#define ROUNDS (HANDOVERS / (ULONG)KeNumberProcessors)

static KSPIN_LOCK KtLock;
static volatile ULONG64 KtCounter;

/* A read-modify-write with a gap, so that two CPUs inside at once lose an update. */
static void bump(void)
{
    ULONG64 v = KtCounter;

    arch_pause();
    KtCounter = v + 1;
}

static ULONG_PTR bump_plain(ULONG_PTR Context)
{
    for (ULONG i = 0; i < ROUNDS; i++) {
        KeAcquireSpinLockAtDpcLevel(&KtLock);
        bump();
        KeReleaseSpinLockFromDpcLevel(&KtLock);
    }
    return Context;
}

static ULONG_PTR bump_queued(ULONG_PTR Context)
{
    KLOCK_QUEUE_HANDLE handle;

    for (ULONG i = 0; i < ROUNDS; i++) {
        KeAcquireInStackQueuedSpinLockAtDpcLevel(&KtLock, &handle);
        bump();
        KeReleaseInStackQueuedSpinLockFromDpcLevel(&handle);
    }
    return Context;
}

TEST(spinlock, acquire_raises_to_dispatch_and_release_restores)
{
    KIRQL old;

    KeInitializeSpinLock(&KtLock);
    CHECK(KeTestSpinLock(&KtLock));
    KeAcquireSpinLock(&KtLock, &old);
    CHECK_EQ(old, PASSIVE_LEVEL);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK(!KeTestSpinLock(&KtLock));
    CHECK_EQ(KtLock, (KSPIN_LOCK)KeGetCurrentPrcb() | DISPATCH_LEVEL << 1 | 1); /* owner and IRQL */
    KeReleaseSpinLock(&KtLock, old);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(KeTestSpinLock(&KtLock));
}

TEST(spinlock, try_to_acquire_fails_while_held)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();

    KeInitializeSpinLock(&KtLock);
    CHECK(KeTryToAcquireSpinLockAtDpcLevel(&KtLock));
    CHECK(!KeTryToAcquireSpinLockAtDpcLevel(&KtLock)); /* held, by us: FALSE, not a bugcheck */
    KeReleaseSpinLockFromDpcLevel(&KtLock);
    CHECK(KeTryToAcquireSpinLockAtDpcLevel(&KtLock));
    KeReleaseSpinLockFromDpcLevel(&KtLock);
    KeLowerIrql(old);
}

TEST(spinlock, in_stack_queued_lock_raises_and_restores)
{
    KLOCK_QUEUE_HANDLE handle;

    KeInitializeSpinLock(&KtLock);
    KeAcquireInStackQueuedSpinLock(&KtLock, &handle);
    CHECK_EQ(KeGetCurrentIrql(), DISPATCH_LEVEL);
    CHECK_EQ(handle.OldIrql, PASSIVE_LEVEL);
    CHECK_EQ(KtLock, (KSPIN_LOCK)&handle.LockQueue); /* the tail of the queue: us */
    KeReleaseInStackQueuedSpinLock(&handle);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(KtLock, 0);
}

TEST(spinlock, every_cpu_at_once_loses_no_update)
{
    ULONG64 expected = (ULONG64)ROUNDS * KeNumberProcessors;

    KeInitializeSpinLock(&KtLock);
    KtCounter = 0;
    KeIpiGenericCall(bump_plain, 0);
    CHECK_EQ(KtCounter, expected);
    CHECK_EQ(KtLock, 0);
}

TEST(spinlock, in_stack_queued_every_cpu_at_once_loses_no_update)
{
    ULONG64 expected = (ULONG64)ROUNDS * KeNumberProcessors;

    KeInitializeSpinLock(&KtLock);
    KtCounter = 0;
    KeIpiGenericCall(bump_queued, 0);
    CHECK_EQ(KtCounter, expected);
    CHECK_EQ(KtLock, 0);
    for (ULONG i = 0; i < ARRAYSIZE(KeGetCurrentPrcb()->Irqlab.QueuedLocks); i++)
        CHECK(KeGetCurrentPrcb()->Irqlab.QueuedLocks[i] == NULL);
}

TEST_BUGCHECK(spinlock, acquired_twice_on_one_cpu, SPIN_LOCK_ALREADY_OWNED)
{
    KIRQL old;

    KeInitializeSpinLock(&KtLock);
    TEST_EXPECT_PARAM(1, &KtLock);
    TEST_EXPECT_PARAM(2, DISPATCH_LEVEL);
    TEST_EXPECT_PARAM(3, DISPATCH_LEVEL);
    TEST_EXPECT_PARAM(4, 0);
    KeAcquireSpinLock(&KtLock, &old);
    KeAcquireSpinLockAtDpcLevel(&KtLock);
}

TEST_BUGCHECK(spinlock, in_stack_queued_acquired_twice, SPIN_LOCK_ALREADY_OWNED)
{
    KLOCK_QUEUE_HANDLE first, second;

    KeInitializeSpinLock(&KtLock);
    TEST_EXPECT_PARAM(1, &KtLock);
    TEST_EXPECT_PARAM(4, 1);
    KeAcquireInStackQueuedSpinLock(&KtLock, &first);
    KeAcquireInStackQueuedSpinLockAtDpcLevel(&KtLock, &second);
}

TEST_BUGCHECK(spinlock, released_when_not_held, SPIN_LOCK_NOT_OWNED)
{
    KeInitializeSpinLock(&KtLock);
    TEST_EXPECT_PARAM(1, &KtLock);
    TEST_EXPECT_PARAM(2, 0);
    KeRaiseIrqlToDpcLevel();
    KeReleaseSpinLockFromDpcLevel(&KtLock);
}

/* Lab 5's deadlock in miniature: a lock taken at DISPATCH_LEVEL, wanted again from DIRQL 8. */
TEST_BUGCHECK(spinlock, wanted_from_a_higher_irql_on_the_owning_cpu, SPIN_LOCK_ALREADY_OWNED)
{
    KIRQL old;

    KeInitializeSpinLock(&KtLock);
    TEST_EXPECT_PARAM(1, &KtLock);
    TEST_EXPECT_PARAM(2, DISPATCH_LEVEL);
    TEST_EXPECT_PARAM(3, 8);
    KeAcquireSpinLock(&KtLock, &old);
    KeRaiseIrql(8, &old); /* as an interrupt at DIRQL 8 would */
    KeAcquireSpinLockAtDpcLevel(&KtLock);
}
