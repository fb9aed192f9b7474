/*
 * local_bench.c - this CPU's paths (make bench, figures 1, 2, 3 and 6):
 * KeRaiseIrql/KeLowerIrql beside two bare `mov cr8`; KeInsertQueueDpc
 * beside one `lock cmpxchg` plus a list link; insert -> routine start beside
 * a bare self-IPI to an empty handler; DPC throughput.
 */
#include <arch/apic.h>
#include <arch/arch.h>
#include <irqlab/bench.h>
#include <irqlab/dpc.h>
#include <irqlab/interrupt.h>
#include <irqlab/prcb.h>
#include <irqlab/vectors.h>

#define ROUNDS 2000
#define EMPTY_VECTOR DEVICE_VECTOR(3, 14) /* the lowest device class: nothing else there */

static KB_METRIC KbA, KbB, KbC;

static ULONG64 net(ULONG64 T0, ULONG64 T1)
{
    ULONG64 d = T1 - T0;
    return d > KbOverhead() ? d - KbOverhead() : 0;
}

BENCH(local, raise_lower_irql)
{
    KIRQL old;

    KbBegin(&KbA, "KeRaiseIrql(2)+KeLowerIrql(0)");
    KbBegin(&KbB, "two bare mov cr8");
    for (ULONG i = 0; i < ROUNDS; i++) {
        ULONG64 t0 = KbStart();
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        KeLowerIrql(old);
        KbRecord(&KbA, net(t0, KbStop()));
        t0 = KbStart();
        arch_write_cr8(DISPATCH_LEVEL);
        arch_write_cr8(PASSIVE_LEVEL);
        KbRecord(&KbB, net(t0, KbStop()));
    }
    KbReport(&KbA, &KbB, 120);
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
    KbBegin(&KbA, "KeInsertQueueDpc (this CPU)");
    KbBegin(&KbB, "lock cmpxchg + list link");
    KbBegin(&KbC, "KeInsertQueueDpc, already queued");
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    for (ULONG i = 0; i < ROUNDS; i++) {
        ULONG64 t0 = KbStart();
        KeInsertQueueDpc(&dpc, NULL, NULL);
        KbRecord(&KbA, net(t0, KbStop()));
        t0 = KbStart();
        KeInsertQueueDpc(&dpc, NULL, NULL); /* FALSE: nothing changes */
        KbRecord(&KbC, net(t0, KbStop()));
        KeRemoveQueueDpc(&dpc);
        word = 0;
        head.Next = NULL;
        tail = &head;
        t0 = KbStart();
        claim_and_link(&word, &node, &tail);
        KbRecord(&KbB, net(t0, KbStop()));
    }
    KeLowerIrql(old);
    KbReport(&KbA, &KbB, 300);
    KbReport(&KbC, &KbB, 0);
}

static volatile ULONG64 KbArrived;

static VOID stamp_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
    KbArrived = KbStop();
}

static BOOLEAN stamp_isr(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Interrupt);
    UNREFERENCED_PARAMETER(Context);
    KbArrived = KbStop();
    return TRUE;
}

BENCH(local, insert_to_routine_same_cpu)
{
    static KDPC dpc;
    static KINTERRUPT empty;

    KeInitializeDpc(&dpc, stamp_dpc, NULL);
    KeInitializeInterrupt(&empty, stamp_isr, NULL, NULL, EMPTY_VECTOR, 3, 3, Latched, FALSE);
    if (!KeConnectInterrupt(&empty)) {
        KbReportValue("insert -> routine (same CPU)", 0, "", "vector taken: not measured");
        return;
    }
    KbBegin(&KbA, "insert -> routine (PASSIVE, here)");
    KbBegin(&KbB, "self-IPI -> empty handler");
    for (ULONG i = 0; i < ROUNDS; i++) {
        ULONG64 t0 = KbStart();
        KeInsertQueueDpc(&dpc, NULL, NULL); /* Medium at PASSIVE: the 0x2F fires before it returns */
        KbRecord(&KbA, net(t0, KbArrived));
        t0 = KbStart();
        apic_self_ipi(EMPTY_VECTOR);
        KbRecord(&KbB, net(t0, KbArrived));
    }
    KeDisconnectInterrupt(&empty);
    KbReport(&KbA, &KbB, 130);
}

/* Throughput: DPCs retired per second on this CPU, batched and one interrupt each. */
BENCH(local, dpc_throughput)
{
    static KDPC dpcs[256];
    KIRQL old;

    for (ULONG i = 0; i < 256; i++)
        KeInitializeDpc(&dpcs[i], empty_dpc, NULL);
    KbBegin(&KbA, "per DPC, batched (256 per drain)");
    KbBegin(&KbB, "per DPC, one 0x2F each");
    for (ULONG round = 0; round < 64; round++) {
        KeRaiseIrql(DISPATCH_LEVEL, &old);
        for (ULONG i = 0; i < 256; i++)
            KeInsertQueueDpc(&dpcs[i], NULL, NULL);
        ULONG64 t0 = KbStart();
        KeLowerIrql(old); /* one drain runs all 256 */
        KbRecord(&KbA, net(t0, KbStop()) / 256);
        t0 = KbStart();
        for (ULONG i = 0; i < 256; i++)
            KeInsertQueueDpc(&dpcs[i], NULL, NULL); /* each runs before the next insert */
        KbRecord(&KbB, net(t0, KbStop()) / 256);
    }
    KbReport(&KbA, NULL, 0);
    KbReport(&KbB, &KbA, 0);
    ULONG64 hz = KeQueryTscFrequency(NULL);
    KbReportValue("batched DPCs per second (this CPU)", KbA.Samples[KbA.Count / 2] ? hz / KbA.Samples[KbA.Count / 2] : 0,
                  "DPC/s", "empty routine");
}
