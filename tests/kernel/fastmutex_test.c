/*
 * fastmutex_test.c - the fast mutex (APC_LEVEL while held) and the guarded
 * mutex (a guarded region, IRQL unchanged): what each holds back, mutual
 * exclusion between two threads, the try forms, and NT's bugchecks for
 * taking one twice, releasing one not held, and a fast mutex above APC_LEVEL.
 */
#include <irqlab/apc.h>
#include <irqlab/fastmutex.h>
#include <irqlab/interrupt.h>
#include <irqlab/mm.h>
#include <irqlab/test.h>

#define TICK_100NS ((LONGLONG)KeQueryTimeIncrement())
#define ROUNDS 2000

static FAST_MUTEX KtMutex;
static KAPC KtApc;
static volatile LONG KtApcRan, KtShared, KtInside;
static volatile BOOLEAN KtGuarded;

static VOID count_apc(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(Normal);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KtApcRan++;
}

static VOID queue_special_to_self(VOID)
{
    KtApcRan = 0;
    KeInitializeApc(&KtApc, KeGetCurrentThread(), OriginalApcEnvironment, count_apc, NULL, NULL, KernelMode, NULL);
    KeInsertQueueApc(&KtApc, NULL, NULL, 0);
}

TEST(fastmutex, held_at_apc_level_and_the_irql_comes_back)
{
    ExInitializeFastMutex(&KtMutex);
    CHECK_EQ(KtMutex.Count, 1);
    ExAcquireFastMutex(&KtMutex);
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    CHECK(KeGetOwnerGuardedMutex(&KtMutex) == KeGetCurrentThread());
    queue_special_to_self();
    CHECK_EQ(KtApcRan, 0); /* even a special APC waits for APC_LEVEL to end */
    ExReleaseFastMutex(&KtMutex);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK_EQ(KtApcRan, 1);
    CHECK(KtMutex.Owner == NULL);
}

TEST(fastmutex, a_guarded_mutex_keeps_the_irql_and_holds_every_apc)
{
    ExInitializeFastMutex(&KtMutex);
    KeAcquireGuardedMutex(&KtMutex);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(KeAreAllApcsDisabled());
    queue_special_to_self();
    CHECK_EQ(KtApcRan, 0);
    KeReleaseGuardedMutex(&KtMutex);
    CHECK_EQ(KtApcRan, 1);
    CHECK(!KeAreApcsDisabled());
}

TEST(fastmutex, try_takes_only_a_free_one)
{
    ExInitializeFastMutex(&KtMutex);
    CHECK(ExTryToAcquireFastMutex(&KtMutex));
    CHECK_EQ(KeGetCurrentIrql(), APC_LEVEL);
    ExReleaseFastMutex(&KtMutex);
    CHECK(KeTryToAcquireGuardedMutex(&KtMutex));
    CHECK(KeAreAllApcsDisabled());
    KeReleaseGuardedMutex(&KtMutex);
    KtMutex.Count = 0; /* as if another thread held it */
    CHECK(!ExTryToAcquireFastMutex(&KtMutex));
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
    CHECK(!KeTryToAcquireGuardedMutex(&KtMutex));
    CHECK(!KeAreApcsDisabled());
}

/* Both threads add to KtShared ROUNDS times under the mutex, checking no one else is inside. */
static VOID add_under_mutex(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    for (ULONG i = 0; i < ROUNDS; i++) {
        if (KtGuarded)
            KeAcquireGuardedMutex(&KtMutex);
        else
            ExAcquireFastMutex(&KtMutex);
        if (__atomic_add_fetch(&KtInside, 1, __ATOMIC_ACQ_REL) != 1)
            KtShared = -1000000;
        LONG v = KtShared;
        if ((i & 63) == 0)
            KeStallExecutionProcessor(20); /* let the other one find it held */
        KtShared = v + 1;
        __atomic_sub_fetch(&KtInside, 1, __ATOMIC_ACQ_REL);
        if (KtGuarded)
            KeReleaseGuardedMutex(&KtMutex);
        else
            ExReleaseFastMutex(&KtMutex);
    }
}

static VOID exclusion(BOOLEAN Guarded)
{
    static KTHREAD other;
    LARGE_INTEGER limit = { .QuadPart = -2000 * TICK_100NS };
    PVOID stack = MmCreateKernelStack(KERNEL_STACK_PAGES);

    REQUIRE(stack != NULL);
    ExInitializeFastMutex(&KtMutex);
    KtShared = KtInside = 0;
    KtGuarded = Guarded;
    KeInitializeThread(&other, stack, KERNEL_STACK_PAGES, add_under_mutex, NULL, 8);
    KeStartThread(&other);
    add_under_mutex(NULL);
    CHECK_EQ(KeWaitForSingleObject(&other, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    MmDeleteKernelStack(stack, KERNEL_STACK_PAGES);
    CHECK_EQ(KtShared, 2 * ROUNDS);
    CHECK_EQ(KtMutex.Count, 1);
}

TEST(fastmutex, two_threads_never_inside_together)
{
    exclusion(FALSE);
}

TEST(fastmutex, two_threads_never_inside_a_guarded_mutex_together)
{
    exclusion(TRUE);
}

TEST_BUGCHECK(fastmutex, taken_twice_by_its_owner, MUTEX_ALREADY_OWNED)
{
    ExInitializeFastMutex(&KtMutex);
    TEST_EXPECT_PARAM(1, &KtMutex);
    TEST_EXPECT_PARAM(2, KeGetCurrentThread());
    ExAcquireFastMutex(&KtMutex);
    ExAcquireFastMutex(&KtMutex);
}

TEST_BUGCHECK(fastmutex, released_when_not_held, KMODE_EXCEPTION_NOT_HANDLED)
{
    KIRQL old;

    ExInitializeFastMutex(&KtMutex);
    TEST_EXPECT_PARAM(1, (LONG_PTR)STATUS_MUTANT_NOT_OWNED);
    TEST_EXPECT_PARAM(3, &KtMutex);
    KeRaiseIrql(APC_LEVEL, &old);
    ExReleaseFastMutex(&KtMutex);
}

TEST_BUGCHECK(fastmutex, acquired_at_dispatch_level, IRQL_NOT_LESS_OR_EQUAL)
{
    KIRQL old;

    ExInitializeFastMutex(&KtMutex);
    TEST_EXPECT_PARAM(1, &KtMutex);
    TEST_EXPECT_PARAM(2, DISPATCH_LEVEL);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    ExAcquireFastMutex(&KtMutex);
}
