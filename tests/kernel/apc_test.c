/*
 * apc_test.c - kernel APCs as a driver meets them: delivery when the IRQL
 * drops below APC_LEVEL, specials before normals, critical and guarded
 * regions and a held kernel mutex, a waiting thread interrupted and its
 * wait resumed, a thread on another processor interrupted, an APC taken
 * at a context switch, and NT's bugchecks for routines that return at the
 * wrong IRQL or a thread that ends with APCs held back.
 */
#include <arch/arch.h>
#include <irqlab/apc.h>
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/interrupt.h>
#include <irqlab/timer.h>

#define TICK_100NS ((LONGLONG)KeQueryTimeIncrement())
#define LOG_MAX 16

static KAPC KtApc[4];
static KTHREAD KtThread;
static PVOID KtStack;
static KEVENT KtGo, KtReady;
static volatile LONG KtStop;

/* What ran, in order: 'S'pecial kernel routine, 'K'ernel routine of a normal APC, 'N'ormal routine;
 * each with the IRQL, the thread and the processor it ran on. */
static struct {
    volatile LONG Count;
    CHAR Kind[LOG_MAX];
    ULONG_PTR Tag[LOG_MAX];
    KIRQL Irql[LOG_MAX];
    PKTHREAD Thread[LOG_MAX];
    ULONG Cpu[LOG_MAX];
} KtLog;

static VOID log_entry(CHAR Kind, ULONG_PTR Tag)
{
    LONG n = KtLog.Count;

    if (n >= LOG_MAX)
        return;
    KtLog.Kind[n] = Kind;
    KtLog.Tag[n] = Tag;
    KtLog.Irql[n] = KeGetCurrentIrql();
    KtLog.Thread[n] = KeGetCurrentThread();
    KtLog.Cpu[n] = KeGetCurrentProcessorNumber();
    __atomic_store_n(&KtLog.Count, n + 1, __ATOMIC_RELEASE);
}

static VOID kernel_routine(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg2);
    log_entry(*Normal ? 'K' : 'S', (ULONG_PTR)*Arg1);
    UNREFERENCED_PARAMETER(Apc);
}

static VOID normal_routine(PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg2);
    log_entry('N', (ULONG_PTR)Arg1);
}

static VOID reset_log(VOID)
{
    memset((PVOID)&KtLog, 0, sizeof(KtLog));
}

/* KtApc[i] for Thread: special (no normal routine) or normal. */
static PKAPC make(ULONG Index, PKTHREAD Thread, BOOLEAN Special)
{
    KeInitializeApc(&KtApc[Index], Thread, OriginalApcEnvironment, kernel_routine, NULL,
                    Special ? NULL : normal_routine, KernelMode, NULL);
    return &KtApc[Index];
}

TEST(apc, initialize_fills_in_nt_fields)
{
    PKAPC special = make(0, KeGetCurrentThread(), TRUE);

    CHECK_EQ(special->Type, ApcObject);
    CHECK_EQ(special->Size, sizeof(KAPC));
    CHECK(special->NormalRoutine == NULL);
    CHECK_EQ(special->ApcMode, KernelMode);
    CHECK(!special->Inserted);
    KeInitializeApc(&KtApc[1], KeGetCurrentThread(), OriginalApcEnvironment, kernel_routine, NULL, NULL, UserMode,
                    (PVOID)1);
    CHECK_EQ(KtApc[1].ApcMode, KernelMode); /* NT: a special APC is always kernel mode, with no context */
    CHECK(KtApc[1].NormalContext == NULL);
}

TEST(apc, runs_at_apc_level_when_the_irql_drops_below_it)
{
    KIRQL old;

    reset_log();
    KeRaiseIrql(APC_LEVEL, &old);
    CHECK(KeInsertQueueApc(make(0, KeGetCurrentThread(), TRUE), (PVOID)1, NULL, 0));
    CHECK(KtApc[0].Inserted);
    CHECK(KeGetCurrentThread()->ApcState.KernelApcPending);
    CHECK_EQ(KtLog.Count, 0); /* 0x1F is held in the APIC while CR8 >= APC_LEVEL */
    KeLowerIrql(old);
    CHECK_EQ(KtLog.Count, 1);
    CHECK_EQ(KtLog.Irql[0], APC_LEVEL);
    CHECK(KtLog.Thread[0] == KeGetCurrentThread());
    CHECK(!KtApc[0].Inserted);
    CHECK(!KeGetCurrentThread()->ApcState.KernelApcPending);
}

TEST(apc, specials_run_before_normals_each_in_queue_order)
{
    static const CHAR expect[] = "SSKNKN";
    static const ULONG_PTR tags[] = { 2, 4, 1, 1, 3, 3 };
    PKTHREAD self = KeGetCurrentThread();
    KIRQL old;

    reset_log();
    KeRaiseIrql(APC_LEVEL, &old);
    KeInsertQueueApc(make(0, self, FALSE), (PVOID)1, NULL, 0);
    KeInsertQueueApc(make(1, self, TRUE), (PVOID)2, NULL, 0);
    KeInsertQueueApc(make(2, self, FALSE), (PVOID)3, NULL, 0);
    KeInsertQueueApc(make(3, self, TRUE), (PVOID)4, NULL, 0);
    KeLowerIrql(old);
    REQUIRE_EQ(KtLog.Count, 6);
    for (ULONG i = 0; i < 6; i++) {
        CHECK_EQ(KtLog.Kind[i], expect[i]);
        CHECK_EQ(KtLog.Tag[i], tags[i]);
        CHECK_EQ(KtLog.Irql[i], expect[i] == 'N' ? PASSIVE_LEVEL : APC_LEVEL);
    }
}

TEST(apc, queued_once_removed_once)
{
    KIRQL old;

    reset_log();
    KeRaiseIrql(APC_LEVEL, &old);
    PKAPC apc = make(0, KeGetCurrentThread(), TRUE);
    CHECK(KeInsertQueueApc(apc, NULL, NULL, 0));
    CHECK(!KeInsertQueueApc(apc, NULL, NULL, 0)); /* already queued */
    CHECK(KeRemoveQueueApc(apc));
    CHECK(!KeRemoveQueueApc(apc));
    CHECK(!KeGetCurrentThread()->ApcState.KernelApcPending);
    KeLowerIrql(old);
    CHECK_EQ(KtLog.Count, 0);
    KeInitializeApc(&KtApc[1], KeGetCurrentThread(), OriginalApcEnvironment, kernel_routine, NULL, normal_routine,
                    UserMode, NULL);
    CHECK(!KeInsertQueueApc(&KtApc[1], NULL, NULL, 0)); /* no user mode to deliver it to */
}

TEST(apc, a_critical_region_holds_normal_apcs_but_not_special_ones)
{
    PKTHREAD self = KeGetCurrentThread();

    reset_log();
    CHECK(!KeAreApcsDisabled());
    KeEnterCriticalRegion();
    CHECK(KeAreApcsDisabled());
    CHECK(!KeAreAllApcsDisabled());
    KeInsertQueueApc(make(0, self, FALSE), (PVOID)1, NULL, 0);
    KeInsertQueueApc(make(1, self, TRUE), (PVOID)2, NULL, 0);
    CHECK_EQ(KtLog.Count, 1); /* the special one ran at once */
    CHECK_EQ(KtLog.Kind[0], 'S');
    KeLeaveCriticalRegion();  /* the normal one runs before this returns */
    CHECK_EQ(KtLog.Count, 3);
    CHECK_EQ(KtLog.Kind[1], 'K');
    CHECK_EQ(KtLog.Kind[2], 'N');
    CHECK(!KeAreApcsDisabled());
}

TEST(apc, a_guarded_region_holds_them_all)
{
    reset_log();
    KeEnterGuardedRegion();
    CHECK(KeAreApcsDisabled());
    CHECK(KeAreAllApcsDisabled());
    KeInsertQueueApc(make(0, KeGetCurrentThread(), TRUE), NULL, NULL, 0);
    CHECK_EQ(KtLog.Count, 0);
    KeLeaveGuardedRegion();
    CHECK_EQ(KtLog.Count, 1);
}

TEST(apc, a_held_kernel_mutex_holds_normal_apcs)
{
    static KMUTEX mutex;

    reset_log();
    KeInitializeMutex(&mutex, 0);
    KeWaitForSingleObject(&mutex, Executive, KernelMode, FALSE, NULL);
    CHECK(KeAreApcsDisabled()); /* Microsoft's "Kernel Mutexes": the owner is in a critical region */
    KeInsertQueueApc(make(0, KeGetCurrentThread(), FALSE), NULL, NULL, 0);
    CHECK_EQ(KtLog.Count, 0);
    KeReleaseMutex(&mutex, FALSE);
    CHECK_EQ(KtLog.Count, 2);
    CHECK(!KeAreApcsDisabled());
}

/* The second thread: (optionally in a critical region) waits for KtGo, logs how its wait ended. */
static VOID waiter(PVOID Context)
{
    BOOLEAN critical = Context != NULL;

    if (critical)
        KeEnterCriticalRegion();
    KeSetEvent(&KtReady, IO_NO_INCREMENT, FALSE);
    NTSTATUS status = KeWaitForSingleObject(&KtGo, Executive, KernelMode, FALSE, NULL);
    log_entry('W', (ULONG_PTR)status);
    if (critical)
        KeLeaveCriticalRegion();
}

static PKTHREAD start(PKSTART_ROUTINE Routine, PVOID Context, KPRIORITY Priority, KAFFINITY Affinity)
{
    KtStack = MmCreateKernelStack(KERNEL_STACK_PAGES);
    if (KtStack == NULL)
        return NULL;
    KeInitializeEvent(&KtGo, NotificationEvent, FALSE);
    KeInitializeEvent(&KtReady, NotificationEvent, FALSE);
    KeInitializeThread(&KtThread, KtStack, KERNEL_STACK_PAGES, Routine, Context, Priority);
    KtThread.Affinity.Mask = Affinity;
    KeStartThread(&KtThread);
    return &KtThread;
}

static VOID finish(VOID)
{
    LARGE_INTEGER limit = { .QuadPart = -200 * TICK_100NS };

    KtStop = 1;
    KeSetEvent(&KtGo, IO_NO_INCREMENT, FALSE);
    CHECK_EQ(KeWaitForSingleObject(&KtThread, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    MmDeleteKernelStack(KtStack, KERNEL_STACK_PAGES);
}

/* Until the thread is in its wait (its State is read without the lock: it only has to get there). */
static BOOLEAN until_waiting(PKTHREAD Thread)
{
    for (ULONG i = 0; i < 1000000 && __atomic_load_n(&Thread->State, __ATOMIC_ACQUIRE) != Waiting; i++)
        arch_pause();
    return Thread->State == Waiting;
}

TEST(apc, a_waiting_thread_runs_it_and_its_wait_goes_on)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };

    reset_log();
    PKTHREAD t = start(waiter, NULL, 8, ~0ull);
    REQUIRE(t != NULL);
    KeWaitForSingleObject(&KtReady, Executive, KernelMode, FALSE, &limit);
    REQUIRE(until_waiting(t));
    CHECK(KeInsertQueueApc(make(0, t, TRUE), (PVOID)1, NULL, 0));
    CHECK(KeInsertQueueApc(make(1, t, FALSE), (PVOID)2, NULL, 0));
    for (ULONG i = 0; i < 1000 && KtLog.Count < 3; i++)
        KtWaitTicks(1);
    CHECK(until_waiting(t)); /* back in its wait: STATUS_KERNEL_APC is never returned */
    finish();
    REQUIRE_EQ(KtLog.Count, 4);
    CHECK_EQ(KtLog.Kind[0], 'S');
    CHECK_EQ(KtLog.Kind[1], 'K');
    CHECK_EQ(KtLog.Kind[2], 'N');
    for (ULONG i = 0; i < 3; i++)
        CHECK(KtLog.Thread[i] == t); /* in the waiter's context, not the inserter's */
    CHECK_EQ(KtLog.Kind[3], 'W');
    CHECK_EQ(KtLog.Tag[3], STATUS_SUCCESS);
}

TEST(apc, a_waiter_in_a_critical_region_is_woken_only_for_a_special_apc)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };

    reset_log();
    PKTHREAD t = start(waiter, (PVOID)1, 8, ~0ull);
    REQUIRE(t != NULL);
    KeWaitForSingleObject(&KtReady, Executive, KernelMode, FALSE, &limit);
    REQUIRE(until_waiting(t));
    KeInsertQueueApc(make(0, t, FALSE), (PVOID)1, NULL, 0);
    KtWaitTicks(2);
    CHECK_EQ(KtLog.Count, 0);
    CHECK_EQ(t->State, Waiting);
    KeInsertQueueApc(make(1, t, TRUE), (PVOID)2, NULL, 0);
    for (ULONG i = 0; i < 1000 && KtLog.Count < 1; i++)
        KtWaitTicks(1);
    finish(); /* the wait ends, the region ends, then the normal APC runs */
    REQUIRE_EQ(KtLog.Count, 4);
    CHECK_EQ(KtLog.Kind[0], 'S');
    CHECK_EQ(KtLog.Kind[1], 'W');
    CHECK_EQ(KtLog.Kind[2], 'K');
    CHECK_EQ(KtLog.Kind[3], 'N');
}

static VOID spinner(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeSetEvent(&KtReady, IO_NO_INCREMENT, FALSE);
    while (!__atomic_load_n(&KtStop, __ATOMIC_ACQUIRE))
        arch_pause();
}

TEST(apc, a_thread_running_on_another_processor_is_interrupted)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };
    ULONG last = (ULONG)KeNumberProcessors - 1;

    SKIP_UNLESS(KeNumberProcessors > 1, "one processor");
    reset_log();
    KtStop = 0;
    PKTHREAD t = start(spinner, NULL, 8, 1ull << last);
    REQUIRE(t != NULL);
    KeWaitForSingleObject(&KtReady, Executive, KernelMode, FALSE, &limit);
    CHECK(KeInsertQueueApc(make(0, t, TRUE), NULL, NULL, 0));
    for (ULONG i = 0; i < 1000 && KtLog.Count < 1; i++)
        KtWaitTicks(1);
    CHECK_EQ(KtLog.Count, 1); /* while it still spins: an IPI, then 0x1F over there */
    finish();
    CHECK(KtLog.Thread[0] == t);
    CHECK_EQ(KtLog.Cpu[0], last);
}

/* Readied at DISPATCH_LEVEL on this processor, so it cannot run yet: the APC waits for its switch. */
static VOID wait_then_log(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeWaitForSingleObject(&KtGo, Executive, KernelMode, FALSE, NULL);
    log_entry('W', 0);
}

TEST(apc, a_ready_thread_takes_it_when_it_is_switched_in)
{
    LARGE_INTEGER limit = { .QuadPart = -64 * TICK_100NS };
    KIRQL old;

    reset_log();
    PKTHREAD t = start(wait_then_log, NULL, 12, 1ull << KeGetCurrentProcessorNumber());
    REQUIRE(t != NULL);
    REQUIRE(until_waiting(t));
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    KeSetEvent(&KtGo, IO_NO_INCREMENT, FALSE);
    CHECK(t->State == Ready || t->State == Standby);
    CHECK(KeInsertQueueApc(make(0, t, TRUE), NULL, NULL, 0));
    KeLowerIrql(old); /* it preempts this thread, takes its APC, then returns from its wait */
    CHECK_EQ(KeWaitForSingleObject(t, Executive, KernelMode, FALSE, &limit), STATUS_SUCCESS);
    MmDeleteKernelStack(KtStack, KERNEL_STACK_PAGES);
    REQUIRE_EQ(KtLog.Count, 2);
    CHECK_EQ(KtLog.Kind[0], 'S');
    CHECK_EQ(KtLog.Kind[1], 'W');
    CHECK(KtLog.Thread[0] == t);
}

TEST(apc, an_ended_thread_takes_no_more)
{
    PKTHREAD t = start(wait_then_log, NULL, 8, ~0ull);
    REQUIRE(t != NULL);
    finish();
    CHECK(!KeInsertQueueApc(make(0, t, TRUE), NULL, NULL, 0));
}

static VOID raise_and_return(PKAPC Apc, PKNORMAL_ROUTINE *Normal, PVOID *Context, PVOID *Arg1, PVOID *Arg2)
{
    UNREFERENCED_PARAMETER(Apc);
    UNREFERENCED_PARAMETER(Normal);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KfRaiseIrql(DISPATCH_LEVEL);
}

TEST_BUGCHECK(apc, a_kernel_routine_returning_at_dispatch_level, IRQL_UNEXPECTED_VALUE)
{
    KeInitializeApc(&KtApc[0], KeGetCurrentThread(), OriginalApcEnvironment, raise_and_return, NULL, NULL,
                    KernelMode, NULL);
    TEST_EXPECT_PARAM(1, DISPATCH_LEVEL << 16 | APC_LEVEL << 8 | 0);
    TEST_EXPECT_PARAM(2, raise_and_return);
    TEST_EXPECT_PARAM(3, &KtApc[0]);
    TEST_EXPECT_PARAM(4, 0);
    KeInsertQueueApc(&KtApc[0], NULL, NULL, 0);
}

static VOID normal_stays_raised(PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KfRaiseIrql(APC_LEVEL);
}

TEST_BUGCHECK(apc, a_normal_routine_returning_at_apc_level, IRQL_UNEXPECTED_VALUE)
{
    KeInitializeApc(&KtApc[0], KeGetCurrentThread(), OriginalApcEnvironment, kernel_routine, NULL,
                    normal_stays_raised, KernelMode, NULL);
    TEST_EXPECT_PARAM(1, APC_LEVEL << 16 | PASSIVE_LEVEL << 8 | 1);
    TEST_EXPECT_PARAM(2, kernel_routine);
    TEST_EXPECT_PARAM(3, &KtApc[0]);
    TEST_EXPECT_PARAM(4, normal_stays_raised);
    KeInsertQueueApc(&KtApc[0], NULL, NULL, 0);
}

static VOID leaves_a_region_open(PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    KeEnterCriticalRegion();
}

TEST_BUGCHECK(apc, a_thread_ending_in_a_critical_region, KERNEL_APC_PENDING_DURING_EXIT)
{
    TEST_EXPECT_PARAM(1, 0);
    TEST_EXPECT_PARAM(2, (ULONG_PTR)-1); /* the disable count: one region deep */
    TEST_EXPECT_PARAM(3, PASSIVE_LEVEL);
    start(leaves_a_region_open, NULL, 8, ~0ull);
    KeWaitForSingleObject(&KtGo, Executive, KernelMode, FALSE, NULL);
}
