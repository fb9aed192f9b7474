/*
 * fence_bench.c - the reordering KeInsertQueueDpc's full fence is there for (issue 15).
 *
 * An insert for another processor stores the DPC into its queue, then reads
 * that processor's DpcRoutineActive; the retire loop stores DpcRoutineActive
 * = FALSE, then reads the queue's depth.  That is the "store buffer" litmus
 * test: a load may pass an earlier store to another address (Intel SDM vol.
 * 3, 9.2.3.4), so without a full fence on both sides each processor can read
 * the other's old value, and the DPC waits for the target's next tick.  That
 * outlier is too rare to stand out in a latency p99 under TCG, so this counts
 * the reordering itself, on processors 0 and 1 of this machine: each round
 * both store their round number and then load the other's; a round in which
 * both loads saw the previous round is one the fence exists to prevent.
 */
#include <arch/arch.h>
#include <irqlab/bench.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>

#define LITMUS_ROUNDS 50000 /* per IPI at most: each call also stops at LITMUS_BUDGET_MS */
#define LITMUS_CALLS  4     /* per variant: up to 200,000 rounds */
#define LITMUS_BUDGET_MS 500 /* every CPU waits at IPI_LEVEL meanwhile: far below the 4 s clock watchdog */

enum { NO_FENCE, INSERT_FENCE, MFENCE, LOCKED_AND, VARIANTS };

typedef struct _LITMUS_SIDE {
    volatile ULONG64 Stored;  /* the round this side has stored */
    volatile ULONG64 Ready;   /* the round this side is ready to start */
    volatile ULONG64 Done;    /* the round whose result is in Saw */
    volatile BOOLEAN Saw;     /* its load saw the other side's store of that round */
} __attribute__((aligned(64))) LITMUS_SIDE;

static LITMUS_SIDE LitmusSide[2];
static volatile ULONG64 LitmusLast;     /* the last round to run: CPU 0 lowers it when time is up */
static volatile BOOLEAN LitmusFinished; /* the other processors wait for it, so no clock ticks meanwhile */
static ULONG64 LitmusBothMissed, LitmusRounds;

/* Both sides start a step of a round together; FALSE if CPU 0 ended the run before this round. */
static BOOLEAN rendezvous(volatile ULONG64 *Mine, volatile ULONG64 *Theirs, ULONG64 Round)
{
    __atomic_store_n(Mine, Round, __ATOMIC_RELEASE);
    while (__atomic_load_n(Theirs, __ATOMIC_ACQUIRE) < Round) {
        if (Round > __atomic_load_n(&LitmusLast, __ATOMIC_ACQUIRE))
            return FALSE;
        arch_pause();
    }
    return TRUE;
}

/* The store, the barrier under test, the load: what should_request and KiRetireDpcList each do. */
static BOOLEAN store_then_load(ULONG Me, ULONG64 Round, ULONG Variant)
{
    __atomic_store_n(&LitmusSide[Me].Stored, Round, __ATOMIC_RELAXED);
    if (Variant == INSERT_FENCE)
        __atomic_thread_fence(__ATOMIC_SEQ_CST); /* as should_request's; gcc emits lock or [rsp],0 */
    else if (Variant == MFENCE)
        __asm__ volatile("mfence" ::: "memory");
    else if (Variant == LOCKED_AND)
        __atomic_and_fetch(&LitmusSide[Me].Ready, ~0ull, __ATOMIC_SEQ_CST); /* as the retire loop's */
    else
        __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the compiler keeps the order; the processor need not */
    return __atomic_load_n(&LitmusSide[1 - Me].Stored, __ATOMIC_RELAXED) >= Round;
}

/* Processor 0 and 1's rounds; CPU 0 counts, and ends the run when its time budget is spent. */
static VOID run_rounds(ULONG Me, ULONG Variant)
{
    ULONG64 deadline = arch_rdtsc() + KeQueryTscFrequency(NULL) / 1000 * LITMUS_BUDGET_MS;

    for (ULONG64 round = 1; round <= __atomic_load_n(&LitmusLast, __ATOMIC_ACQUIRE); round++) {
        if (Me == 0 && arch_rdtsc() > deadline) {
            __atomic_store_n(&LitmusLast, round - 1, __ATOMIC_RELEASE);
            return;
        }
        if (!rendezvous(&LitmusSide[Me].Ready, &LitmusSide[1 - Me].Ready, round))
            return;
        LitmusSide[Me].Saw = store_then_load(Me, round, Variant);
        if (!rendezvous(&LitmusSide[Me].Done, &LitmusSide[1 - Me].Done, round))
            return;
        if (Me == 0) {
            LitmusRounds++;
            LitmusBothMissed += !LitmusSide[0].Saw && !LitmusSide[1].Saw;
        }
    }
}

/* On every processor at IPI_LEVEL (KeIpiGenericCall); the others wait for the pair to finish. */
static ULONG_PTR litmus_worker(ULONG_PTR Variant)
{
    ULONG me = KeGetCurrentProcessorNumber();

    if (me <= 1)
        run_rounds(me, (ULONG)Variant);
    if (me == 0)
        __atomic_store_n(&LitmusFinished, TRUE, __ATOMIC_RELEASE);
    while (!__atomic_load_n(&LitmusFinished, __ATOMIC_ACQUIRE))
        arch_pause();
    return 0;
}

static VOID run_variant(ULONG Variant)
{
    LitmusBothMissed = LitmusRounds = 0;
    for (ULONG call = 0; call < LITMUS_CALLS; call++) {
        memset(LitmusSide, 0, sizeof(LitmusSide));
        LitmusLast = LITMUS_ROUNDS;
        LitmusFinished = FALSE;
        KeIpiGenericCall(litmus_worker, Variant);
    }
}

BENCH(remote, store_load_litmus)
{
    static const PCSTR names[VARIANTS] = {
        "store; load (no fence)", "store; lock or [rsp]; load (the insert's fence)",
        "store; mfence; load", "store; lock and; load (the retire loop's)",
    };
    CHAR row[96], note[48];

    if ((KeQueryActiveProcessors() & 3) != 3) {
        BenchReportValue("store-load litmus", 0, "", "needs processors 0 and 1: not measured");
        return;
    }
    for (ULONG variant = NO_FENCE; variant < VARIANTS; variant++) {
        run_variant(variant);
        RtlFormat(row, sizeof(row), "both loads missed, %s", names[variant]);
        RtlFormat(note, sizeof(note), "of %llu, CPUs 0 and 1", LitmusRounds);
        BenchReportValue(row, LitmusBothMissed, "rounds", note);
    }
}
