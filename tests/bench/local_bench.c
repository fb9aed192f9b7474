/*
 * local_bench.c - this CPU's paths (make bench, figures 1, 2, 3 and 6):
 * KeRaiseIrql/KeLowerIrql beside what the API must do (read CR8, two
 * writes) and the floor (two bare `mov cr8`); KeInsertQueueDpc beside NT's
 * mandated work (CR8 to HIGH_LEVEL, `lock cmpxchg`, list link, CR8 back)
 * and the floor (the `lock cmpxchg` and link alone); insert -> routine start beside
 * a bare self-IPI to an empty handler; DPC throughput.
 */
#include <irqlab/hal.h>
#include <arch/arch.h>
#include <irqlab/bench.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/vectors.h>

#define ROUNDS 2000
#define EMPTY_VECTOR DEVICE_VECTOR(3, 14) /* the lowest device class: nothing else there */

static BENCH_METRIC BenchA, BenchB, BenchC, BenchD;

BENCH(local, raise_lower_irql)
{
    KIRQL old;

    BenchBegin(&BenchA, "KeRaiseIrql(2)+KeLowerIrql(0)");
    BenchBegin(&BenchB, "two bare mov cr8 (the floor)");
    BenchBegin(&BenchD, "read cr8, two writes (the API's work)");
    for (ULONG i = 0; i < ROUNDS; i++) {
        ULONG64 t0 = BenchStart();
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeLowerIrql(old);
        BenchRecord(&BenchA, BenchNet(t0, BenchStop()));
        t0 = BenchStart();
        arch_write_cr8(DISPATCH_LEVEL);
        arch_write_cr8(PASSIVE_LEVEL);
        BenchRecord(&BenchB, BenchNet(t0, BenchStop()));
        t0 = BenchStart();
        ULONG64 was = arch_read_cr8(); /* a raise must return the old level: it reads CR8 */
        arch_write_cr8(DISPATCH_LEVEL);
        arch_write_cr8(was);
        BenchRecord(&BenchD, BenchNet(t0, BenchStop()));
    }
    BenchReport(&BenchA, &BenchD, 120);
    BenchReport(&BenchA, &BenchB, 0);
}

static VOID empty_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
}

/* The bare primitive under an insert: claim a word with lock cmpxchg, link a node at a tail. */
static VOID claim_and_link(volatile ULONG64 *Word, SINGLE_LIST_ENTRY *Node, SINGLE_LIST_ENTRY **Tail)
{
    ULONG64 expected = 0;

    __atomic_compare_exchange_n(Word, &expected, 1, FALSE, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    Node->Next = NULL;
    (*Tail)->Next = Node;
    *Tail = Node;
}

BENCH(local, insert_at_dispatch)
{
    static KDPC dpc;
    static SINGLE_LIST_ENTRY head, node, *tail;
    static volatile ULONG64 word;
    KIRQL old;

    KeInitializeDpc(&dpc, empty_dpc, NULL);
    BenchBegin(&BenchA, "KeInsertQueueDpc (this CPU)");
    BenchBegin(&BenchB, "lock cmpxchg + list link (the floor)");
    BenchBegin(&BenchD, "cr8 to HIGH, lock cmpxchg + link, cr8 back (NT's work)");
    BenchBegin(&BenchC, "KeInsertQueueDpc, already queued");
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (ULONG i = 0; i < ROUNDS; i++) {
        ULONG64 t0 = BenchStart();
        KeInsertQueueDpc(&dpc, NULL, NULL);
        BenchRecord(&BenchA, BenchNet(t0, BenchStop()));
        t0 = BenchStart();
        KeInsertQueueDpc(&dpc, NULL, NULL); /* FALSE: nothing changes */
        BenchRecord(&BenchC, BenchNet(t0, BenchStop()));
        KeRemoveQueueDpc(&dpc);
        word = 0;
        head.Next = NULL;
        tail = &head;
        t0 = BenchStart();
        claim_and_link(&word, &node, &tail);
        BenchRecord(&BenchB, BenchNet(t0, BenchStop()));
        word = 0;
        head.Next = NULL;
        tail = &head;
        t0 = BenchStart();
        ULONG64 was = arch_read_cr8(); /* NT's insert raises to HIGH_LEVEL around the claim and link */
        arch_write_cr8(HIGH_LEVEL);
        claim_and_link(&word, &node, &tail);
        arch_write_cr8(was);
        BenchRecord(&BenchD, BenchNet(t0, BenchStop()));
    }
    KeLowerIrql(old);
    BenchReport(&BenchA, &BenchD, 130);
    BenchReport(&BenchA, &BenchB, 0);
    BenchReport(&BenchC, &BenchB, 0);
}


static VOID stamp_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    BenchArrived = BenchStop();
}

BENCH(local, insert_to_routine_same_cpu)
{
    static KDPC dpc;
    static KINTERRUPT empty;

    KeInitializeDpc(&dpc, stamp_dpc, NULL);
    KeInitializeInterrupt(&empty, BenchStampIsr, NULL, NULL, EMPTY_VECTOR, 3, 3, Latched, FALSE);
    if (!KeConnectInterrupt(&empty)) {
        BenchReportValue("insert -> routine (same CPU)", 0, "", "vector taken: not measured");
        return;
    }
    BenchBegin(&BenchA, "insert -> routine (PASSIVE, here)");
    BenchBegin(&BenchB, "self-IPI -> empty handler");
    for (ULONG i = 0; i < ROUNDS; i++) {
        ULONG64 t0 = BenchStart();
        KeInsertQueueDpc(&dpc, NULL, NULL); /* Medium at PASSIVE: the 0x2F fires before it returns */
        BenchRecord(&BenchA, BenchNet(t0, BenchArrived));
        t0 = BenchStart();
        HalSendSelfIpi(EMPTY_VECTOR);
        BenchRecord(&BenchB, BenchNet(t0, BenchArrived));
    }
    KeDisconnectInterrupt(&empty);
    BenchReport(&BenchA, &BenchB, 130);
}

/* Throughput: DPCs retired per second on this CPU, batched and one interrupt each. */
BENCH(local, dpc_throughput)
{
    static KDPC dpcs[256];
    KIRQL old;

    for (ULONG i = 0; i < 256; i++)
        KeInitializeDpc(&dpcs[i], empty_dpc, NULL);
    BenchBegin(&BenchA, "per DPC, batched (256 per drain)");
    BenchBegin(&BenchB, "per DPC, one 0x2F each");
    for (ULONG round = 0; round < 64; round++) {
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        for (ULONG i = 0; i < 256; i++)
            KeInsertQueueDpc(&dpcs[i], NULL, NULL);
        ULONG64 t0 = BenchStart();
        KeLowerIrql(old); /* one drain runs all 256 */
        BenchRecord(&BenchA, BenchNet(t0, BenchStop()) / 256);
        t0 = BenchStart();
        for (ULONG i = 0; i < 256; i++)
            KeInsertQueueDpc(&dpcs[i], NULL, NULL); /* each runs before the next insert */
        BenchRecord(&BenchB, BenchNet(t0, BenchStop()) / 256);
    }
    BenchReport(&BenchA, NULL, 0);
    BenchReport(&BenchB, &BenchA, 0);
    ULONG64 hz = KeQueryTscFrequency(NULL);
    BenchReportValue("batched DPCs per second (this CPU)", BenchA.Samples[BenchA.Count / 2] ? hz / BenchA.Samples[BenchA.Count / 2] : 0,
                  "DPC/s", "empty routine");
}
