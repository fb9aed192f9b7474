/*
 * mutex_test.c - KMUTEX and KSEMAPHORE: ownership and recursion, a release
 * handing the mutex to the thread that waits for it, semaphore counts and
 * limits, WaitAll over both, and each misuse ending in NT's bugcheck.
 */
#include <irqlab/interrupt.h>
#include <irqlab/ps.h>
#include <irqlab/test.h>
#include <irqlab/thread.h>

#define TICK_100NS ((LONGLONG)KeQueryTimeIncrement())

static KMUTEX KtMutex;
static KSEMAPHORE KtSemaphore;
static volatile PKTHREAD KtOwnerSeen;

TEST(mutex, the_owner_may_take_it_again_and_releases_it_as_often)
{
    PKTHREAD self = KeGetCurrentThread();

    KeInitializeMutex(&KtMutex, 0);
    CHECK_EQ(KeReadStateMutex(&KtMutex), 1);
    CHECK_EQ(KeWaitForSingleObject(&KtMutex, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_EQ(KeWaitForSingleObject(&KtMutex, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK(KtMutex.OwnerThread == self);
    CHECK_EQ(KeReadStateMutex(&KtMutex), -1);
    CHECK_EQ(KeReleaseMutex(&KtMutex, FALSE), -1);
    CHECK(KtMutex.OwnerThread == self);
    CHECK_EQ(KeReleaseMutex(&KtMutex, FALSE), 0);
    CHECK(KtMutex.OwnerThread == NULL);
    CHECK(IsListEmpty(&self->MutantListHead));
}

static VOID take_and_give_back(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KtMutex, Executive, KernelMode, FALSE, NULL);
    KtOwnerSeen = KtMutex.OwnerThread;
    KeReleaseMutex(&KtMutex, FALSE);
}

TEST(mutex, a_release_hands_the_mutex_to_the_thread_that_waits)
{
    LARGE_INTEGER tick = { .QuadPart = -2 * TICK_100NS }, limit = { .QuadPart = -64 * TICK_100NS };
    HANDLE handle;
    PETHREAD thread;

    KtOwnerSeen = NULL;
    KeInitializeMutex(&KtMutex, 0);
    KeWaitForSingleObject(&KtMutex, Executive, KernelMode, FALSE, NULL);
    REQUIRE_EQ(PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, take_and_give_back, NULL),
               STATUS_SUCCESS);
    REQUIRE_EQ(ObReferenceObjectByHandle(handle, 0, *PsThreadType, KernelMode, (PVOID *)&thread, NULL),
               STATUS_SUCCESS);
    KeDelayExecutionThread(KernelMode, FALSE, &tick); /* it blocks on the mutex meanwhile */
    CHECK(KtOwnerSeen == NULL);
    CHECK_EQ(thread->Tcb.State, Waiting);
    KeReleaseMutex(&KtMutex, FALSE);
    CHECK_EQ(KeWaitForSingleObject(thread, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    CHECK(KtOwnerSeen == &thread->Tcb);
    CHECK_EQ(KeReadStateMutex(&KtMutex), 1);
    ObDereferenceObject(thread);
    ZwClose(handle);
}

TEST(mutex, a_semaphore_counts_and_wait_all_takes_both)
{
    LARGE_INTEGER zero = { .QuadPart = 0 }, short_wait = { .QuadPart = -2 * TICK_100NS };
    PVOID objects[2] = { &KtMutex, &KtSemaphore };

    KeInitializeSemaphore(&KtSemaphore, 0, 2);
    CHECK_EQ(KeWaitForSingleObject(&KtSemaphore, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
    CHECK_EQ(KeReleaseSemaphore(&KtSemaphore, 0, 2, FALSE), 0);
    CHECK_EQ(KeReadStateSemaphore(&KtSemaphore), 2);
    CHECK_EQ(KeWaitForSingleObject(&KtSemaphore, Executive, KernelMode, FALSE, &zero), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateSemaphore(&KtSemaphore), 1);
    KeInitializeMutex(&KtMutex, 0);
    CHECK_EQ(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &short_wait, NULL),
             STATUS_SUCCESS);
    CHECK_EQ(KeReadStateSemaphore(&KtSemaphore), 0);
    CHECK(KtMutex.OwnerThread == KeGetCurrentThread());
    CHECK_EQ(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &short_wait, NULL),
             STATUS_TIMEOUT); /* the mutex is ours again, but the semaphore is empty: nothing taken */
    CHECK_EQ(KeReadStateMutex(&KtMutex), 0);
    KeReleaseMutex(&KtMutex, FALSE);
}

TEST_BUGCHECK(mutex, released_by_a_thread_that_does_not_own_it, KMODE_EXCEPTION_NOT_HANDLED)
{
    KeInitializeMutex(&KtMutex, 0);
    TEST_EXPECT_PARAM(1, (LONG_PTR)STATUS_MUTANT_NOT_OWNED);
    TEST_EXPECT_PARAM(3, &KtMutex);
    KeReleaseMutex(&KtMutex, FALSE);
}

TEST_BUGCHECK(mutex, a_semaphore_released_past_its_limit, KMODE_EXCEPTION_NOT_HANDLED)
{
    KeInitializeSemaphore(&KtSemaphore, 1, 1);
    TEST_EXPECT_PARAM(1, (LONG_PTR)STATUS_SEMAPHORE_LIMIT_EXCEEDED);
    TEST_EXPECT_PARAM(3, &KtSemaphore);
    KeReleaseSemaphore(&KtSemaphore, 0, 1, FALSE);
}

static VOID take_and_end(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KtMutex, Executive, KernelMode, FALSE, NULL);
}

TEST_BUGCHECK(mutex, a_thread_that_ends_holding_a_mutex, THREAD_TERMINATE_HELD_MUTEX)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };
    HANDLE handle;

    KeInitializeMutex(&KtMutex, 0);
    TEST_EXPECT_PARAM(2, &KtMutex);
    PsCreateSystemThread(&handle, THREAD_ALL_ACCESS, NULL, NULL, NULL, take_and_end, NULL);
    KeDelayExecutionThread(KernelMode, FALSE, &limit);
}
