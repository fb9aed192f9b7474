/*
 * dpc_test.c - the DPC engine as lab 2 checks it in the console (ActiveDpc,
 * the list head and tail, DpcCount and DpcQueueDepth) and as NT documents
 * it: when a DPC runs, where, in what order, and with what state.
 */
#include <arch/arch.h>
#include <irqlab/dpc.h>
#include <irqlab/mm.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kequery.h>

struct seen {
    volatile ULONG Runs;
    KIRQL Irql;
    BOOLEAN InterruptsOn;
    BOOLEAN RoutineActive;
    BOOLEAN OnDpcStack;
    PVOID Context, Arg1, Arg2, DpcData;
    PKDPC ActiveDpc;
    ULONG Cpu;
    ULONG Order; /* position among the DPCs of one test */
};

static volatile ULONG KtOrder;

static VOID record(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    struct seen *s = Context;
    PKPRCB prcb = KeGetCurrentPrcb();
    ULONG64 sp = arch_frame_pointer(), top = (ULONG64)prcb->DpcStack;

    s->Runs++;
    s->Irql = KeGetCurrentIrql();
    s->InterruptsOn = (arch_read_flags() & ARCH_FLAGS_IF) != 0;
    s->RoutineActive = prcb->DpcRoutineActive;
    s->OnDpcStack = sp < top && sp >= top - KERNEL_STACK_PAGES * 4096ull;
    s->Context = Context;
    s->Arg1 = Arg1;
    s->Arg2 = Arg2;
    s->DpcData = Dpc->DpcData;
    s->ActiveDpc = prcb->DpcData[0].ActiveDpc;
    s->Cpu = prcb->Number;
    s->Order = __atomic_add_fetch(&KtOrder, 1, __ATOMIC_RELAXED);
}

TEST(dpc, insert_at_passive_runs_before_return)
{
    struct seen s = { 0 };
    KDPC dpc;

    KeInitializeDpc(&dpc, record, &s);
    CHECK_EQ(dpc.Type, DpcObject);
    CHECK_EQ(dpc.Importance, MediumImportance);
    CHECK(KeInsertQueueDpc(&dpc, (PVOID)0x11, (PVOID)0x22));
    CHECK_EQ(s.Runs, 1);
    CHECK_EQ(s.Irql, DISPATCH_LEVEL);
    CHECK(s.InterruptsOn);
    CHECK(s.RoutineActive);
    CHECK(s.OnDpcStack); /* the 0x2F handler switched to KPRCB.DpcStack */
    CHECK(s.Context == &s);
    CHECK(s.Arg1 == (PVOID)0x11 && s.Arg2 == (PVOID)0x22);
    CHECK(s.DpcData == NULL); /* cleared before the call */
    CHECK(s.ActiveDpc == &dpc); /* lab 2's check 1 */
    CHECK(dpc.DpcData == NULL);
    CHECK(KeGetCurrentPrcb()->DpcData[0].ActiveDpc == NULL);
    CHECK(!KeGetCurrentPrcb()->DpcRoutineActive);
}

/* Seed checks 2-5: where an insert lands and what the counters do. */
TEST(dpc, queue_head_tail_and_counters)
{
    struct seen s[2] = { 0 };
    KDPC high, low;
    PKDPC_DATA data = &KeGetCurrentPrcb()->DpcData[0];
    KIRQL old;

    KeInitializeDpc(&high, record, &s[0]);
    KeInitializeDpc(&low, record, &s[1]);
    KeSetImportanceDpc(&high, HighImportance);
    KeSetImportanceDpc(&low, LowImportance);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    LONG depth = data->DpcQueueDepth;
    ULONG count = data->DpcCount;
    CHECK(KeInsertQueueDpc(&high, NULL, NULL));
    CHECK(data->DpcList.ListHead.Next == &high.DpcListEntry);
    CHECK(high.DpcData == data);
    CHECK(KeInsertQueueDpc(&low, NULL, NULL));
    CHECK(data->DpcList.LastEntry == &low.DpcListEntry);
    CHECK_EQ(data->DpcQueueDepth, depth + 2);
    CHECK_EQ(data->DpcCount, count + 2);
    CHECK(KeRemoveQueueDpc(&low));
    CHECK_EQ(data->DpcQueueDepth, depth + 1);
    CHECK_EQ(data->DpcCount, count + 2);
    CHECK(data->DpcList.LastEntry == &high.DpcListEntry);
    CHECK(!KeRemoveQueueDpc(&low));
    KeLowerIrql(old);
    CHECK_EQ(s[0].Runs, 1);
    CHECK_EQ(s[1].Runs, 0);
}

TEST(dpc, insert_at_dispatch_waits_and_runs_once)
{
    struct seen s = { 0 };
    KDPC dpc;
    KIRQL old;

    KeInitializeDpc(&dpc, record, &s);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK(KeInsertQueueDpc(&dpc, (PVOID)1, (PVOID)2));
    CHECK(!KeInsertQueueDpc(&dpc, (PVOID)3, (PVOID)4)); /* already queued: nothing changes */
    CHECK(dpc.SystemArgument1 == (PVOID)1);
    KtStallTicks(2);
    CHECK_EQ(s.Runs, 0);
    KeLowerIrql(old);
    CHECK_EQ(s.Runs, 1);
    CHECK(s.Arg1 == (PVOID)1 && s.Arg2 == (PVOID)2);
}

/* With threaded DPCs off (threadeddpcs=0), NT queues them as normal DPCs: DpcData[0], DISPATCH_LEVEL. */
TEST(dpc, threaded_dpc_runs_as_a_normal_one_when_they_are_off)
{
    struct seen s = { 0 };
    PKPRCB prcb = KeGetCurrentPrcb();
    KDPC dpc;
    KIRQL old;

    SKIP_UNLESS(prcb->ThreadDpcEnable == 0, "threaded DPCs are on (threadeddpcs=0 turns them off)");
    KeInitializeThreadedDpc(&dpc, record, &s);
    CHECK_EQ(dpc.Type, ThreadedDpcObject);
    CHECK_EQ(dpc.Importance, MediumImportance);
    CHECK_EQ(prcb->ThreadDpcEnable, 0);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    PVOID queue = dpc.DpcData;
    LONG threaded = prcb->DpcData[1].DpcQueueDepth;
    KeLowerIrql(old);
    CHECK(queue == &prcb->DpcData[0]);
    CHECK_EQ(threaded, 0);
    CHECK_EQ(s.Runs, 1);
    CHECK_EQ(s.Irql, DISPATCH_LEVEL);
}

TEST(dpc, removed_before_it_runs_never_runs)
{
    struct seen s = { 0 };
    KDPC dpc;
    KIRQL old;

    KeInitializeDpc(&dpc, record, &s);
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
    CHECK(KeRemoveQueueDpc(&dpc));
    CHECK(dpc.DpcData == NULL);
    KeLowerIrql(old);
    KtStallTicks(2);
    CHECK_EQ(s.Runs, 0);
    CHECK(!KeRemoveQueueDpc(&dpc));
}

/* High at the head, the others at the tail in insertion order. */
TEST(dpc, importance_decides_the_order)
{
    static const KDPC_IMPORTANCE kinds[5] = { LowImportance, MediumImportance, HighImportance,
                                              MediumHighImportance, HighImportance };
    static const ULONG expected[5] = { 3, 4, 2, 5, 1 }; /* the second High runs first */
    struct seen s[5] = { 0 };
    KDPC dpc[5];
    KIRQL old;

    KtOrder = 0;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (int i = 0; i < 5; i++) {
        KeInitializeDpc(&dpc[i], record, &s[i]);
        KeSetImportanceDpc(&dpc[i], kinds[i]);
        CHECK(KeInsertQueueDpc(&dpc[i], NULL, NULL));
    }
    KeLowerIrql(old);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(s[i].Runs, 1);
        CHECK_EQ(s[i].Order, expected[i]);
    }
}

/* Every CPU as a target, High importance so the target is interrupted at once. */
TEST(dpc, targeted_dpc_runs_on_its_target)
{
    for (LONG cpu = 0; cpu < KeNumberProcessors; cpu++) {
        struct seen s = { 0 };
        KDPC dpc;
        KeInitializeDpc(&dpc, record, &s);
        KeSetImportanceDpc(&dpc, HighImportance);
        KeSetTargetProcessorDpc(&dpc, (CCHAR)cpu);
        CHECK(KeInsertQueueDpc(&dpc, NULL, NULL));
        for (int i = 0; i < 1000 && s.Runs == 0; i++)
            KeStallExecutionProcessor(1000);
        CHECK_EQ(s.Runs, 1);
        CHECK_EQ(s.Cpu, cpu);
        CHECK_EQ(s.Irql, DISPATCH_LEVEL);
        CHECK(dpc.DpcData == NULL);
    }
}

static KDPC KtRemoteDpc;
static struct seen KtRemoteSeen;

/* On CPU 1 inside a generic call: a Medium DPC for CPU 0 asks for no interrupt. */
static ULONG_PTR queue_for_cpu0(ULONG_PTR Context)
{
    UNREFERENCED_PARAMETER(Context);
    if (KeGetCurrentProcessorNumber() == 1)
        KeInsertQueueDpc(&KtRemoteDpc, NULL, NULL);
    return 0;
}

/* Nobody requested the DISPATCH interrupt: the clock tick finds the queue (KeUpdateRunTime). */
TEST(dpc, unrequested_remote_dpc_runs_at_the_next_tick)
{
    SKIP_UNLESS(KeNumberProcessors >= 2, "needs a second CPU to queue it");
    memset(&KtRemoteSeen, 0, sizeof(KtRemoteSeen));
    KeInitializeDpc(&KtRemoteDpc, record, &KtRemoteSeen);
    KeSetTargetProcessorDpc(&KtRemoteDpc, 0);
    KeIpiGenericCall(queue_for_cpu0, 0);
    CHECK(KtRemoteDpc.DpcData != NULL || KtRemoteSeen.Runs == 1);
    KtStallTicks(3);
    CHECK_EQ(KtRemoteSeen.Runs, 1);
    CHECK_EQ(KtRemoteSeen.Cpu, 0);
}

static BOOLEAN KtRemoteRequested;

/* On CPU 1 inside a generic call, CPU 0 held at IPI_LEVEL (no tick, no drain): what did the insert ask? */
static ULONG_PTR queue_for_cpu0_and_look(ULONG_PTR Context)
{
    UNREFERENCED_PARAMETER(Context);
    if (KeGetCurrentProcessorNumber() == 1) {
        KeInsertQueueDpc(&KtRemoteDpc, NULL, NULL);
        KtRemoteRequested = (KiProcessorBlock[0]->DpcRequestSummary & DPC_NORMAL_PROCESSING_REQUESTED) != 0;
    }
    return 0;
}

/* Microsoft's "Organization of DPC Queues": another CPU starts on its queue at once for MediumHigh and High. */
TEST(dpc, medium_high_and_high_interrupt_another_cpu_medium_and_low_wait)
{
    static const KDPC_IMPORTANCE importance[] = { LowImportance, MediumImportance, MediumHighImportance,
                                                  HighImportance };

    SKIP_UNLESS(KeNumberProcessors >= 2, "needs a second CPU to queue it");
    for (ULONG i = 0; i < ARRAYSIZE(importance); i++) {
        memset(&KtRemoteSeen, 0, sizeof(KtRemoteSeen));
        KeInitializeDpc(&KtRemoteDpc, record, &KtRemoteSeen);
        KeSetImportanceDpc(&KtRemoteDpc, importance[i]);
        KeSetTargetProcessorDpc(&KtRemoteDpc, 0);
        KeIpiGenericCall(queue_for_cpu0_and_look, 0);
        CHECK_EQ(KtRemoteRequested, importance[i] == MediumHighImportance || importance[i] == HighImportance);
        KtStallTicks(2); /* an unrequested one runs at the next tick */
        CHECK_EQ(KtRemoteSeen.Runs, 1);
    }
}

static KDPC KtPairDpc[MAXIMUM_PROCESSORS][MAXIMUM_PROCESSORS];
static struct seen KtPairSeen[MAXIMUM_PROCESSORS][MAXIMUM_PROCESSORS];

/* On every CPU at DISPATCH_LEVEL (KeGenericCallDpc): one DPC from here to each CPU. */
static VOID queue_to_every_cpu(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    ULONG from = KeGetCurrentProcessorNumber();

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg2);
    for (LONG to = 0; to < KeNumberProcessors; to++) {
        PKDPC dpc = &KtPairDpc[from][to];
        KeInitializeDpc(dpc, record, &KtPairSeen[from][to]);
        KeSetImportanceDpc(dpc, (KDPC_IMPORTANCE)(to % 4)); /* every importance: the flush forces Low */
        KeSetTargetProcessorDpc(dpc, (CCHAR)to);
        KeInsertQueueDpc(dpc, NULL, NULL);
    }
    KeSignalCallDpcDone(Arg1);
}

TEST(dpc, targeted_dpc_runs_on_its_target_for_every_pair)
{
    memset(KtPairSeen, 0, sizeof(KtPairSeen));
    KeGenericCallDpc(queue_to_every_cpu, NULL);
    KeFlushQueuedDpcs();
    for (LONG from = 0; from < KeNumberProcessors; from++)
        for (LONG to = 0; to < KeNumberProcessors; to++) {
            CHECK_EQ(KtPairSeen[from][to].Runs, 1);
            CHECK_EQ(KtPairSeen[from][to].Cpu, to);
            CHECK_EQ(KtPairSeen[from][to].Irql, DISPATCH_LEVEL);
        }
}
