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
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>

#define LITMUS_ROUNDS 50000 /* per IPI: well under a second at IPI_LEVEL, far from the clock watchdog */
#define LITMUS_CALLS  4     /* per variant: 200,000 rounds */

enum { NO_FENCE, MFENCE, LOCKED_OR };

typedef struct _LITMUS_SIDE {
    volatile ULONG64 Stored;  /* the round this side has stored */
    volatile ULONG64 Ready;   /* the round this side is ready to start */
    volatile ULONG64 Done;    /* the round whose result is in Saw */
    volatile BOOLEAN Saw;     /* its load saw the other side's store of that round */
} __attribute__((aligned(64))) LITMUS_SIDE;

static LITMUS_SIDE LitmusSide[2];
static ULONG64 LitmusBothMissed;

/* Both sides start a round together: announce it, wait for the other. */
static VOID rendezvous(volatile ULONG64 *Mine, volatile ULONG64 *Theirs, ULONG64 Round)
{
    __atomic_store_n(Mine, Round, __ATOMIC_RELEASE);
    while (__atomic_load_n(Theirs, __ATOMIC_ACQUIRE) < Round)
        arch_pause();
}

/* The store, the barrier under test, the load: what should_request and KiRetireDpcList each do. */
static BOOLEAN store_then_load(ULONG Me, ULONG64 Round, ULONG Variant)
{
    __atomic_store_n(&LitmusSide[Me].Stored, Round, __ATOMIC_RELAXED);
    if (Variant == MFENCE)
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    else if (Variant == LOCKED_OR)
        __atomic_or_fetch(&LitmusSide[Me].Ready, 0, __ATOMIC_SEQ_CST);
    else
        __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the compiler keeps the order; the processor need not */
    return __atomic_load_n(&LitmusSide[1 - Me].Stored, __ATOMIC_RELAXED) >= Round;
}

/* On every processor at IPI_LEVEL (KeIpiGenericCall): processors 0 and 1 run the rounds. */
static ULONG_PTR litmus_worker(ULONG_PTR Variant)
{
    ULONG me = KeGetCurrentProcessorNumber();

    if (me > 1)
        return 0;
    for (ULONG64 round = 1; round <= LITMUS_ROUNDS; round++) {
        rendezvous(&LitmusSide[me].Ready, &LitmusSide[1 - me].Ready, round);
        LitmusSide[me].Saw = store_then_load(me, round, (ULONG)Variant);
        rendezvous(&LitmusSide[me].Done, &LitmusSide[1 - me].Done, round);
        if (me == 0 && !LitmusSide[0].Saw && !LitmusSide[1].Saw)
            LitmusBothMissed++;
    }
    return 0;
}

static ULONG64 both_missed(ULONG Variant)
{
    LitmusBothMissed = 0;
    for (ULONG call = 0; call < LITMUS_CALLS; call++) {
        memset(LitmusSide, 0, sizeof(LitmusSide));
        KeIpiGenericCall(litmus_worker, Variant);
    }
    return LitmusBothMissed;
}

BENCH(remote, store_load_litmus)
{
    static const PCSTR names[] = { "store; load (no fence)", "store; mfence; load (the insert's fence)",
                                   "store; lock or; load (the retire loop's)" };
    CHAR row[96];

    if (KeNumberProcessors < 2) {
        BenchReportValue("store-load litmus", 0, "", "one CPU: not measured");
        return;
    }
    for (ULONG variant = NO_FENCE; variant <= LOCKED_OR; variant++) {
        RtlFormat(row, sizeof(row), "both loads missed, %s", names[variant]);
        BenchReportValue(row, both_missed(variant), "rounds", "of 200000, CPUs 0 and 1");
    }
}
