/*
 * wait_test.c - events and KeWaitForSingleObject as a driver uses them: a
 * DPC (here or on another CPU) signals, PASSIVE_LEVEL code waits; the two
 * event types; timeouts; timers as dispatcher objects; and the rule that a
 * wait may block only at APC_LEVEL or below, broken both ways.
 */
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/thread.h>
#include <irqlab/timer.h>
#include <irqlab/wait.h>

#define TICK_100NS ((LONGLONG)KeQueryTimeIncrement())

static KEVENT KtEvent;
static KDPC KtDpc;
static KTIMER KtTimer;

static VOID set_event(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeSetEvent(Context, IO_NO_INCREMENT, FALSE);
}

TEST(wait, event_states_and_types)
{
    KeInitializeEvent(&KtEvent, NotificationEvent, FALSE);
    CHECK_EQ(KtEvent.Header.Type, EventNotificationObject);
    CHECK_EQ(KeReadStateEvent(&KtEvent), 0);
    CHECK_EQ(KeSetEvent(&KtEvent, IO_NO_INCREMENT, FALSE), 0);
    CHECK_EQ(KeSetEvent(&KtEvent, IO_NO_INCREMENT, FALSE), 1); /* the previous state */
    CHECK_EQ(KeResetEvent(&KtEvent), 1);
    CHECK_EQ(KeReadStateEvent(&KtEvent), 0);
    KeInitializeEvent(&KtEvent, SynchronizationEvent, TRUE);
    CHECK_EQ(KtEvent.Header.Type, EventSynchronizationObject);
    CHECK_EQ(KeReadStateEvent(&KtEvent), 1);
    KeClearEvent(&KtEvent);
    CHECK_EQ(KeReadStateEvent(&KtEvent), 0);
}

TEST(wait, a_satisfied_wait_resets_only_a_synchronization_event)
{
    LARGE_INTEGER zero = { .QuadPart = 0 };

    KeInitializeEvent(&KtEvent, NotificationEvent, TRUE);
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, NULL), STATUS_SUCCESS);
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &zero), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&KtEvent), 1);
    KeInitializeEvent(&KtEvent, SynchronizationEvent, TRUE);
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &zero), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&KtEvent), 0);
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &zero), STATUS_TIMEOUT);
}

TEST(wait, a_timeout_returns_status_timeout_no_sooner)
{
    LARGE_INTEGER timeout = { .QuadPart = -3 * TICK_100NS };

    KeInitializeEvent(&KtEvent, NotificationEvent, FALSE);
    ULONG64 start = KeQueryInterruptTime();
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &timeout), STATUS_TIMEOUT);
    CHECK_GE(KeQueryInterruptTime() - start, (ULONG64)(3 * TICK_100NS));
    timeout.QuadPart = (LONGLONG)KeQueryInterruptTime() + 2 * TICK_100NS; /* absolute */
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &timeout), STATUS_TIMEOUT);
    CHECK_GE(KeQueryInterruptTime(), (ULONG64)timeout.QuadPart);
    timeout.QuadPart = -2 * TICK_100NS;
    start = KeQueryInterruptTime();
    CHECK_EQ(KeDelayExecutionThread(KernelMode, FALSE, &timeout), STATUS_SUCCESS);
    CHECK_GE(KeQueryInterruptTime() - start, (ULONG64)(2 * TICK_100NS));
}

/* A timer's DPC signals the event: the wait at PASSIVE_LEVEL returns when it runs. */
TEST(wait, a_dpc_wakes_a_passive_wait)
{
    LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS }, limit = { .QuadPart = -64 * TICK_100NS };

    KeInitializeEvent(&KtEvent, SynchronizationEvent, FALSE);
    KeInitializeDpc(&KtDpc, set_event, &KtEvent);
    KeInitializeTimer(&KtTimer);
    KeSetTimer(&KtTimer, due, &KtDpc);
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    CHECK(KeReadStateTimer(&KtTimer)); /* it had expired: the event came from its DPC */
    CHECK_EQ(KeReadStateEvent(&KtEvent), 0);
}

static VOID set_and_clear(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeSetEvent(Context, IO_NO_INCREMENT, FALSE);
    KeClearEvent(Context);
}

/* NT releases the waiter at KeSetEvent: a reset right after does not take the wake-up back. */
TEST(wait, an_event_set_and_cleared_at_once_still_wakes_the_wait)
{
    LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS }, limit = { .QuadPart = -64 * TICK_100NS };

    KeInitializeEvent(&KtEvent, NotificationEvent, FALSE);
    KeInitializeDpc(&KtDpc, set_and_clear, &KtEvent);
    KeInitializeTimer(&KtTimer);
    KeSetTimer(&KtTimer, due, &KtDpc);
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&KtEvent), 0);
}

TEST(wait, a_dpc_on_another_cpu_wakes_a_passive_wait)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };

    SKIP_UNLESS(KeNumberProcessors > 1, "one processor");
    KeInitializeEvent(&KtEvent, NotificationEvent, FALSE);
    KeInitializeDpc(&KtDpc, set_event, &KtEvent);
    KeSetImportanceDpc(&KtDpc, HighImportance); /* interrupts the target at once */
    KeSetTargetProcessorDpc(&KtDpc, (CCHAR)(KeNumberProcessors - 1));
    KeInsertQueueDpc(&KtDpc, NULL, NULL);
    CHECK_EQ(KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    KeFlushQueuedDpcs();
}

TEST(wait, a_timer_is_a_dispatcher_object)
{
    LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS }, limit = { .QuadPart = -64 * TICK_100NS };

    KeInitializeTimerEx(&KtTimer, SynchronizationTimer);
    KeSetTimer(&KtTimer, due, NULL);
    CHECK(!KeReadStateTimer(&KtTimer));
    CHECK_EQ(KeWaitForSingleObject(&KtTimer, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    CHECK(!KeReadStateTimer(&KtTimer)); /* a synchronization timer resets when it satisfies a wait */
}

/* With a zero timeout the wait only tests the object, which DISPATCH_LEVEL allows. */
TEST(wait, a_zero_timeout_at_dispatch_level_only_tests)
{
    LARGE_INTEGER zero = { .QuadPart = 0 };
    KIRQL old;

    KeInitializeEvent(&KtEvent, NotificationEvent, FALSE);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS unsignaled = KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &zero);
    KeSetEvent(&KtEvent, IO_NO_INCREMENT, FALSE);
    NTSTATUS signaled = KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, &zero);
    KeLowerIrql(old);
    CHECK_EQ(unsignaled, STATUS_TIMEOUT);
    CHECK_EQ(signaled, STATUS_SUCCESS);
}

TEST_BUGCHECK(wait, blocking_at_dispatch_level, IRQL_NOT_LESS_OR_EQUAL)
{
    KIRQL old;

    KeInitializeEvent(&KtEvent, NotificationEvent, FALSE);
    TEST_EXPECT_PARAM(1, &KtEvent);
    TEST_EXPECT_PARAM(2, DISPATCH_LEVEL);
    TEST_EXPECT_PARAM(3, 0);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeWaitForSingleObject(&KtEvent, Executive, KernelMode, FALSE, NULL);
}

static VOID waits_in_a_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    LARGE_INTEGER timeout = { .QuadPart = -TICK_100NS };

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeWaitForSingleObject(Context, Executive, KernelMode, FALSE, &timeout);
}

TEST_BUGCHECK(wait, waiting_in_a_dpc_routine, ATTEMPTED_SWITCH_FROM_DPC)
{
    KeInitializeEvent(&KtEvent, NotificationEvent, FALSE);
    KeInitializeDpc(&KtDpc, waits_in_a_dpc, &KtEvent);
    TEST_EXPECT_PARAM(1, KeGetCurrentThread()); /* the thread the DPC borrowed */
    TEST_EXPECT_PARAM(2, KeGetCurrentPrcb()->IdleThread); /* the one it would have switched to */
    TEST_EXPECT_PARAM(3, KeGetCurrentThread()->InitialStack);
    TEST_EXPECT_PARAM(4, 0);
    KeInsertQueueDpc(&KtDpc, NULL, NULL); /* Medium, this CPU, at PASSIVE_LEVEL: runs now */
}

static KEVENT KtEvents[4];

static volatile LONG KtOtherTook;

/* On another CPU: one KeSetEvent, then a second waiter tests the same synchronization event. */
static VOID set_then_test(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    LARGE_INTEGER zero = { .QuadPart = 0 };

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KeSetEvent(Context, IO_NO_INCREMENT, FALSE);
    KtOtherTook = KeWaitForSingleObject(Context, Executive, KernelMode, FALSE, &zero) == STATUS_SUCCESS;
}

/* NT's KiWaitTest: one set of a synchronization event satisfies exactly one wait, here the one
 * that was already waiting, and leaves the event unsignaled. */
TEST(wait, one_set_of_a_synchronization_event_satisfies_one_wait)
{
    LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS }, limit = { .QuadPart = -32 * TICK_100NS };

    SKIP_UNLESS(KeNumberProcessors > 1, "one processor: no second waiter");
    for (ULONG round = 0; round < 4; round++) {
        KtOtherTook = -1;
        KeInitializeEvent(&KtEvents[0], SynchronizationEvent, FALSE);
        KeInitializeDpc(&KtDpc, set_then_test, &KtEvents[0]);
        KeSetTargetProcessorDpc(&KtDpc, (CCHAR)(KeNumberProcessors - 1));
        KeInitializeTimer(&KtTimer);
        KeSetTimer(&KtTimer, due, &KtDpc); /* the DPC comes while this CPU waits */
        NTSTATUS mine = KeWaitForSingleObject(&KtEvents[0], Executive, KernelMode, FALSE, &limit);
        KeFlushQueuedDpcs();
        CHECK_EQ(mine, STATUS_SUCCESS);
        CHECK_EQ(KtOtherTook, 0);
        CHECK_EQ(KeReadStateEvent(&KtEvents[0]), 0);
    }
}

/* A wait that ended registers nothing: a later set stays with the event. */
TEST(wait, a_wait_that_timed_out_leaves_later_signals_to_the_event)
{
    LARGE_INTEGER short_wait = { .QuadPart = -1 };

    KeInitializeEvent(&KtEvents[0], SynchronizationEvent, FALSE);
    CHECK_EQ(KeWaitForSingleObject(&KtEvents[0], Executive, KernelMode, FALSE, &short_wait), STATUS_TIMEOUT);
    KeSetEvent(&KtEvents[0], IO_NO_INCREMENT, FALSE); /* nobody waits now: the event keeps it */
    CHECK_EQ(KeReadStateEvent(&KtEvents[0]), 1);
}

/* NT satisfies a wait on a signaled object without a switch: legal even at DISPATCH_LEVEL. */
TEST(wait, a_signaled_object_satisfies_a_wait_at_dispatch_level)
{
    KIRQL old;

    KeInitializeEvent(&KtEvents[0], SynchronizationEvent, TRUE);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NTSTATUS status = KeWaitForSingleObject(&KtEvents[0], Executive, KernelMode, FALSE, NULL);
    KeLowerIrql(old);
    CHECK_EQ(status, STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&KtEvents[0]), 0);
}

TEST(wait, wait_any_names_the_signaled_object_and_takes_only_it)
{
    LARGE_INTEGER zero = { .QuadPart = 0 };
    PVOID objects[3] = { &KtEvents[0], &KtEvents[1], &KtEvents[2] };

    KeInitializeEvent(&KtEvents[0], SynchronizationEvent, FALSE);
    KeInitializeEvent(&KtEvents[1], SynchronizationEvent, TRUE);
    KeInitializeEvent(&KtEvents[2], SynchronizationEvent, TRUE);
    CHECK_EQ(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, &zero, NULL),
             STATUS_WAIT_0 + 1);
    CHECK_EQ(KeReadStateEvent(&KtEvents[1]), 0);
    CHECK_EQ(KeReadStateEvent(&KtEvents[2]), 1); /* only the first one found is taken */
    CHECK_EQ(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, &zero, NULL),
             STATUS_WAIT_0 + 2);
    CHECK_EQ(KeWaitForMultipleObjects(3, objects, WaitAny, Executive, KernelMode, FALSE, &zero, NULL),
             STATUS_TIMEOUT);
}

TEST(wait, wait_all_takes_nothing_until_everything_is_signaled)
{
    LARGE_INTEGER zero = { .QuadPart = 0 }, limit = { .QuadPart = -64 * TICK_100NS };
    PVOID objects[2] = { &KtEvents[0], &KtEvents[1] };
    KWAIT_BLOCK blocks[2];

    KeInitializeEvent(&KtEvents[0], SynchronizationEvent, TRUE);
    KeInitializeEvent(&KtEvents[1], NotificationEvent, FALSE);
    CHECK_EQ(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &zero, blocks),
             STATUS_TIMEOUT);
    CHECK_EQ(KeReadStateEvent(&KtEvents[0]), 1); /* not consumed by the wait that failed */
    KeInitializeDpc(&KtDpc, set_event, &KtEvents[1]);
    KeInitializeTimer(&KtTimer);
    LARGE_INTEGER due = { .QuadPart = -2 * TICK_100NS };
    KeSetTimer(&KtTimer, due, &KtDpc);
    CHECK_EQ(KeWaitForMultipleObjects(2, objects, WaitAll, Executive, KernelMode, FALSE, &limit, NULL),
             STATUS_SUCCESS);
    CHECK_EQ(KeReadStateEvent(&KtEvents[0]), 0); /* the synchronization one is taken */
    CHECK_EQ(KeReadStateEvent(&KtEvents[1]), 1); /* the notification one stays signaled */
}

TEST_BUGCHECK(wait, more_objects_than_wait_blocks, MAXIMUM_WAIT_OBJECTS_EXCEEDED)
{
    PVOID objects[4] = { &KtEvents[0], &KtEvents[1], &KtEvents[2], &KtEvents[3] };

    for (ULONG i = 0; i < 4; i++)
        KeInitializeEvent(&KtEvents[i], NotificationEvent, TRUE);
    TEST_EXPECT_PARAM(1, 4);
    TEST_EXPECT_PARAM(2, 0);
    KeWaitForMultipleObjects(4, objects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
}
