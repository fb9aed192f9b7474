/*
 * storm_test.c - every CPU at once inserts, retargets and removes DPCs at
 * random CPUs with random importance, while a periodic timer queues DPCs
 * too.  Afterwards every insert that was accepted and not removed has run
 * exactly once, every queue is empty, and the CPUs' DpcCount totals match
 * the inserts that were accepted.
 *
 * The storm runs in rounds (KeGenericCallDpc starts a worker DPC on each
 * CPU, which re-queues itself batch after batch); between rounds the CPUs
 * go idle for a couple of ticks, as a real system would, so the DPC
 * watchdog's cumulative limit is never reached.  `storm=<n>` on the command
 * line sets the inserts tried per CPU (make stress uses a large n).
 */
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/timer.h>
#include <irqlab/kequery.h>

KE_COMMAND_LINE_OPTION(storm, "storm", "storm=<n>: DPC operations per CPU for the storm test (test=storm.*; default 40000)");

#define POOL        32  /* DPCs each CPU owns and juggles */
#define BATCH       32  /* operations per worker run */
#define ROUND_OPS   4096 /* operations per CPU per round */
#define DEFAULT_OPS 40000

typedef struct _STORM_DPC {
    KDPC Dpc;
    ULONG64 Inserted; /* accepted inserts, counted by the owner */
    ULONG64 Removed;  /* successful removes, counted by the owner */
    volatile ULONG64 Ran;
} STORM_DPC;

typedef struct _STORM_CPU {
    STORM_DPC Pool[POOL];
    KDPC Worker;
    ULONG64 Random;
    ULONG64 OpsLeft;    /* in this round */
    ULONG64 TotalLeft;  /* in the whole storm */
    ULONG64 WorkerRuns; /* each one an accepted insert of Worker */
} STORM_CPU;

static STORM_CPU KtStorm[MAXIMUM_PROCESSORS];
static volatile LONG KtWorkersBusy;
static volatile ULONG64 KtTimerRuns;

static ULONG64 next_random(STORM_CPU *Cpu)
{
    ULONG64 x = Cpu->Random; /* xorshift64 */

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return Cpu->Random = x;
}

static VOID storm_routine(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    __atomic_add_fetch(&((STORM_DPC *)Context)->Ran, 1, __ATOMIC_RELAXED);
}

/* One random operation on one of this CPU's DPCs. */
static VOID storm_op(STORM_CPU *Cpu)
{
    ULONG64 r = next_random(Cpu);
    STORM_DPC *s = &Cpu->Pool[r % POOL];

    if ((r >> 8) % 3 == 2) {
        s->Removed += KeRemoveQueueDpc(&s->Dpc);
        return;
    }
    /* Retargeting a queued DPC is allowed: it only affects its next insert. */
    KeSetTargetProcessorDpc(&s->Dpc, (CCHAR)((r >> 16) % (ULONG64)KeNumberProcessors));
    KeSetImportanceDpc(&s->Dpc, (KDPC_IMPORTANCE)((r >> 24) % 4));
    s->Inserted += KeInsertQueueDpc(&s->Dpc, NULL, NULL);
}

static VOID worker(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    STORM_CPU *cpu = Context;

    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    for (ULONG i = 0; i < BATCH && cpu->OpsLeft; i++, cpu->OpsLeft--, cpu->TotalLeft--)
        storm_op(cpu);
    if (cpu->OpsLeft == 0) {
        __atomic_sub_fetch(&KtWorkersBusy, 1, __ATOMIC_RELEASE);
        return;
    }
    cpu->WorkerRuns += KeInsertQueueDpc(Dpc, NULL, NULL); /* to the tail: the queue runs in between */
}

static VOID start_round(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    STORM_CPU *cpu = &KtStorm[KeGetCurrentProcessorNumber()];

    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg2);
    cpu->OpsLeft = cpu->TotalLeft < ROUND_OPS ? cpu->TotalLeft : ROUND_OPS;
    if (cpu->OpsLeft)
        cpu->WorkerRuns += KeInsertQueueDpc(&cpu->Worker, NULL, NULL);
    else
        __atomic_sub_fetch(&KtWorkersBusy, 1, __ATOMIC_RELEASE);
    KeSignalCallDpcDone(Arg1);
}

static VOID count_timer(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KtTimerRuns++;
}

static ULONG64 total_dpc_count(VOID)
{
    ULONG64 sum = 0;

    for (LONG n = 0; n < KeNumberProcessors; n++)
        sum += KiProcessorBlock[n]->DpcData[0].DpcCount + KiProcessorBlock[n]->DpcData[1].DpcCount;
    return sum;
}

static VOID prepare(ULONG64 OpsPerCpu)
{
    memset(KtStorm, 0, sizeof(KtStorm));
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        STORM_CPU *cpu = &KtStorm[n];
        cpu->Random = 0x9e3779b97f4a7c15ull * (ULONG64)(n + 1);
        cpu->TotalLeft = OpsPerCpu;
        for (ULONG i = 0; i < POOL; i++)
            KeInitializeDpc(&cpu->Pool[i].Dpc, storm_routine, &cpu->Pool[i]);
        KeInitializeDpc(&cpu->Worker, worker, cpu);
        KeSetTargetProcessorDpc(&cpu->Worker, (CCHAR)n);
    }
}

TEST(storm, every_accepted_insert_runs_exactly_once)
{
    ULONG64 ops = KeGetCommandLineValue("storm") ? KeGetCommandLineNumber("storm", 1, 100000000, DEFAULT_OPS)
                                                  : DEFAULT_OPS;
    LONG cpus = KeNumberProcessors;
    ULONG rounds = 0;
    KTIMER timer;
    KDPC timer_dpc;

    prepare(ops);
    KtTimerRuns = 0;
    KeInitializeTimer(&timer);
    KeInitializeDpc(&timer_dpc, count_timer, NULL);
    ULONG64 before = total_dpc_count();
    KeSetTimerEx(&timer, (LARGE_INTEGER){ .QuadPart = -10000 }, 1, &timer_dpc); /* every tick */
    for (BOOLEAN more = TRUE; more; rounds++) {
        KtWorkersBusy = cpus;
        KeGenericCallDpc(start_round, NULL);
        while (__atomic_load_n(&KtWorkersBusy, __ATOMIC_ACQUIRE) != 0)
            KeStallExecutionProcessor(100);
        KtWaitTicks(2); /* idle: the watchdog's stretch at DISPATCH_LEVEL ends */
        more = FALSE;
        for (LONG n = 0; n < cpus; n++)
            more |= KtStorm[n].TotalLeft != 0;
    }
    KeCancelTimer(&timer);
    KeFlushQueuedDpcs();

    ULONG64 inserted = 0, workers = 0, bad = 0;
    for (LONG n = 0; n < cpus; n++) {
        CHECK_EQ(KiProcessorBlock[n]->DpcData[0].DpcQueueDepth, 0);
        CHECK(KiProcessorBlock[n]->DpcData[0].DpcList.ListHead.Next == NULL);
        workers += KtStorm[n].WorkerRuns;
        for (ULONG i = 0; i < POOL; i++) {
            STORM_DPC *s = &KtStorm[n].Pool[i];
            inserted += s->Inserted;
            bad += s->Inserted - s->Removed != s->Ran || s->Dpc.DpcData != NULL;
        }
    }
    CHECK_EQ(bad, 0);
    /* DpcCount counts accepted inserts: the storm's, the workers', the generic calls' (one per
     * other CPU per round: the caller's share is called directly, as NT's KeGenericCallDpc does)
     * and the flush's markers (a normal and a threaded one per CPU, counted in the queue each
     * joined); the timer's DPC is called by the expiry itself, as NT's KiTimerExpiration calls an
     * untargeted one, and counts nowhere. */
    CHECK_EQ(total_dpc_count() - before, inserted + workers + (ULONG64)(cpus - 1) * rounds + 2 * (ULONG64)cpus);
    CHECK_GT(KtTimerRuns, 0);
    DbgPrint("    # storm: %llu inserts accepted of %llu operations on %d CPUs in %u rounds, %llu timer DPCs\n",
             inserted, ops * (ULONG64)cpus, cpus, rounds, KtTimerRuns);
}
