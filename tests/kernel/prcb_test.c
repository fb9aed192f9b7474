/*
 * prcb_test.c - the KPCR/KPRCB layout (19041 offsets are pinned at compile
 * time in <irqlab/prcb.h>; here they are read back through GS at run time,
 * as NT code reads them), and the per-CPU counters the clock keeps.
 */
#include <arch/arch.h>
#include <irqlab/prcb.h>
#include <irqlab/test.h>
#include <irqlab/kequery.h>

static ULONG64 idt_base(void)
{
    struct __attribute__((packed)) {
        USHORT Limit;
        ULONG64 Base;
    } idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    return idtr.Base;
}

TEST(prcb, fields_read_through_gs_at_19041_offsets)
{
    PKPCR pcr = KeGetPcr();
    PKPRCB prcb = KeGetCurrentPrcb();

    CHECK_EQ(arch_gs_read64(0x18), (ULONG64)pcr);                 /* Self */
    CHECK_EQ(arch_gs_read64(0x20), (ULONG64)prcb);                /* CurrentPrcb */
    CHECK_EQ((ULONG64)prcb, (ULONG64)pcr + 0x180);                /* embedded Prcb */
    CHECK_EQ(arch_gs_read64(0x38), idt_base());                   /* IdtBase */
    CHECK_EQ(arch_gs_read64(0x180 + 0x24) & 0xffffffff, KeGetCurrentProcessorNumber()); /* Number */
    CHECK_EQ(arch_gs_read64(0x180 + 0x3110), (ULONG64)prcb->DpcStack);
    CHECK_NE(prcb->DpcStack, NULL);
    /* MaximumDpcQueueDepth: the clock adapts it (1 to the tunable, 4 by default), so the offset is
     * checked against the field, not against the default a busy earlier test may have moved. */
    KIRQL old;
    KeRaiseIrql(HIGH_LEVEL, &old); /* the clock adapts it on this CPU: not between the two reads */
    ULONG depth = (ULONG)prcb->MaximumDpcQueueDepth;
    CHECK_EQ(arch_gs_read64(0x180 + 0x3118) & 0xffffffff, depth);
    KeLowerIrql(old);
    CHECK(depth >= 1 && depth <= KiMaximumDpcQueueDepth);
    CHECK_EQ(arch_gs_read64(0x180 + 0x3120) & 0xffffffff, 3);    /* MinimumDpcRate */
    CHECK_EQ((ULONG64)&prcb->DpcData[0], (ULONG64)prcb + 0x30c0);
}

TEST(prcb, irql_snapshot_matches_cr8)
{
    KIRQL old = KeRaiseIrqlToDpcLevel();
    KiSnapshotIrql();
    CHECK_EQ(arch_gs_read64(0x50) & 0xff, DISPATCH_LEVEL);       /* KPCR.Irql */
    CHECK_EQ(KeGetCurrentPrcb()->DebuggerSavedIRQL, DISPATCH_LEVEL);
    KeLowerIrql(old);
    KiSnapshotIrql();
    CHECK_EQ(KeGetPcr()->Irql, PASSIVE_LEVEL);
}

TEST(prcb, processor_number_ex_names_group_zero)
{
    PROCESSOR_NUMBER pn = { 0xffff, 0xff, 0xff };
    ULONG n = KeGetCurrentProcessorNumberEx(&pn);

    CHECK_EQ(n, KeGetCurrentProcessorNumber());
    CHECK_EQ(pn.Group, 0);
    CHECK_EQ(pn.Number, n);
    CHECK_EQ(pn.Reserved, 0);
}

/* Clock ticks are charged to the level they interrupt, all of them to KernelTime (NT's KeUpdateRunTime). */
TEST(prcb, clock_ticks_charged_to_interrupted_level)
{
    PKPRCB prcb = KeGetCurrentPrcb();
    KIRQL old;

    ULONG kernel = prcb->KernelTime, passive = (ULONG)prcb->Irqlab.TicksAtIrql[PASSIVE_LEVEL];
    ULONG ticks = KtWaitTicks(3);
    CHECK_GE(ticks, 3);
    CHECK_GE(prcb->KernelTime - kernel, ticks);
    CHECK_GE(prcb->Irqlab.TicksAtIrql[PASSIVE_LEVEL] - passive, ticks);

    KeRaiseIrql(5, &old); /* a device level: the clock (13) still gets through */
    ULONG interrupt = prcb->InterruptTime, at5 = (ULONG)prcb->Irqlab.TicksAtIrql[5];
    ULONG count = prcb->InterruptCount, clocks = prcb->ClockInterrupts;
    kernel = prcb->KernelTime;
    ticks = KtWaitTicks(3);
    KeLowerIrql(old);
    CHECK_GE(ticks, 3);
    CHECK_EQ(prcb->InterruptTime - interrupt, ticks);
    CHECK_EQ(prcb->Irqlab.TicksAtIrql[5] - at5, ticks);
    CHECK_EQ(prcb->KernelTime - kernel, ticks); /* NT: interrupt time is part of kernel time */
    CHECK_GE(prcb->InterruptCount - count, prcb->ClockInterrupts - clocks);
    CHECK_GE(prcb->Irqlab.InterruptsAtIrql[CLOCK_LEVEL], prcb->ClockInterrupts);
    CHECK_EQ(prcb->UserTime, 0);
}
