/*
 * smp_test.c - every processor the MADT lists is up, knows who it is, and
 * answers IPIs: checked on each CPU itself (through KeIpiGenericCall) and
 * gathered on the boot CPU, which is the only one that may CHECK.
 */
#include <arch/arch.h>
#include <arch/acpi.h>
#include <irqlab/hal.h>
#include <irqlab/prcb.h>
#include <irqlab/rtl.h>
#include <irqlab/test.h>
#include <irqlab/kequery.h>

struct identity {
    volatile ULONG Calls;
    KIRQL Irql;
    BOOLEAN InterruptsOff;
    ULONG Number;
    ULONG ApicId;
    PKPCR Pcr;
    PKPRCB Prcb;
    ULONG64 GsBase;
    ULONG64 Cr0, Cr4, Efer;
};

static struct identity KtSeen[MAXIMUM_PROCESSORS];

/* Runs on every CPU at once, at IPI_LEVEL. */
static ULONG_PTR record_identity(ULONG_PTR Context)
{
    ULONG n = KeGetCurrentProcessorNumber();
    struct identity *me = &KtSeen[n];

    __atomic_add_fetch(&me->Calls, 1, __ATOMIC_RELAXED);
    me->Irql = KeGetCurrentIrql();
    me->InterruptsOff = !(arch_read_flags() & ARCH_FLAGS_IF);
    me->Number = n;
    me->ApicId = HalGetCurrentApicId();
    me->Pcr = KeGetPcr();
    me->Prcb = KeGetCurrentPrcb();
    me->GsBase = arch_rdmsr(ARCH_MSR_GS_BASE);
    me->Cr0 = arch_read_cr0();
    me->Cr4 = arch_read_cr4();
    me->Efer = arch_rdmsr(ARCH_MSR_EFER);
    return Context + n;
}

static ULONG enabled_madt_cpus(void)
{
    const struct acpi_info *acpi = HalGetAcpiInfo();
    ULONG n = 0;

    for (ULONG i = 0; acpi && i < acpi->cpu_count; i++)
        n += acpi->cpus[i].enabled;
    return n > KiProcessorLimit ? KiProcessorLimit : n;
}

TEST(smp, every_madt_processor_is_online)
{
    KAFFINITY active;

    CHECK_EQ(KeNumberProcessors, enabled_madt_cpus());
    CHECK_EQ(KeQueryActiveProcessorCount(&active), KeNumberProcessors);
    CHECK_EQ(active, KeNumberProcessors == 64 ? ~0ull : (1ull << KeNumberProcessors) - 1);
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        REQUIRE(KiProcessorBlock[n] != NULL);
        CHECK_EQ(KiProcessorBlock[n]->Number, n);
        CHECK_EQ(KiProcessorBlock[n]->GroupSetMember, 1ull << n);
        CHECK(n == 0 || KiProcessorBlock[n]->Irqlab.Started);
    }
    for (LONG n = KeNumberProcessors; n < MAXIMUM_PROCESSORS; n++)
        CHECK(KiProcessorBlock[n] == NULL);
}

TEST(smp, generic_call_runs_once_on_each_cpu_at_ipi_level)
{
    memset(KtSeen, 0, sizeof(KtSeen));
    CHECK_EQ(KeIpiGenericCall(record_identity, 1000), 1000); /* the caller's result: CPU 0 */
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        CHECK_EQ(KtSeen[n].Calls, 1);
        CHECK_EQ(KtSeen[n].Irql, IPI_LEVEL);
    }
    for (LONG n = KeNumberProcessors; n < MAXIMUM_PROCESSORS; n++)
        CHECK_EQ(KtSeen[n].Calls, 0);
    CHECK_EQ(KeGetCurrentIrql(), PASSIVE_LEVEL);
}

/* Microsoft's page allows any IRQL below IPI_LEVEL: from CLOCK_LEVEL it runs and returns there. */
TEST(smp, generic_call_from_clock_level)
{
    KIRQL old;

    memset(KtSeen, 0, sizeof(KtSeen));
    KeRaiseIrql(CLOCK_LEVEL, &old);
    CHECK_EQ(KeIpiGenericCall(record_identity, 7), 7);
    CHECK_EQ(KeGetCurrentIrql(), CLOCK_LEVEL);
    KeLowerIrql(old);
    for (LONG n = 0; n < KeNumberProcessors; n++)
        CHECK_EQ(KtSeen[n].Calls, 1);
}

/* PRCB number, APIC ID and the GS-relative self pointers agree, CPU by CPU. */
TEST(smp, each_cpu_knows_who_it_is)
{
    memset(KtSeen, 0, sizeof(KtSeen));
    KeIpiGenericCall(record_identity, 0);
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        struct identity *s = &KtSeen[n];
        PKPRCB prcb = KiProcessorBlock[n];
        CHECK_EQ(s->Number, n);
        CHECK(s->Prcb == prcb);
        CHECK(s->Pcr == CONTAINING_RECORD(prcb, KPCR, Prcb));
        CHECK_EQ(s->GsBase, (ULONG64)s->Pcr);
        CHECK(s->Pcr->Self == s->Pcr);
        CHECK_EQ(s->ApicId, prcb->InitialApicId);
        for (LONG m = 0; m < n; m++)
            CHECK_NE(KtSeen[m].ApicId, s->ApicId);
    }
}

/* Every CPU runs with the boot CPU's CR0, CR4 and EFER (arch_cpu_init sets them on each). */
TEST(smp, every_cpu_has_the_same_control_registers)
{
    ULONG64 fpu = ARCH_CR0_MP | ARCH_CR0_NE, mode = ARCH_CR0_PE | ARCH_CR0_WP | ARCH_CR0_PG;

    memset(KtSeen, 0, sizeof(KtSeen));
    KeIpiGenericCall(record_identity, 0);
    for (LONG n = 0; n < KeNumberProcessors; n++) {
        CHECK_EQ(KtSeen[n].Cr0 & (fpu | mode), fpu | mode);
        CHECK_EQ(KtSeen[n].Cr4 & (ARCH_CR4_PAE | ARCH_CR4_OSFXSR), ARCH_CR4_PAE | ARCH_CR4_OSFXSR);
        CHECK_EQ(KtSeen[n].Cr0, KtSeen[0].Cr0);
        CHECK_EQ(KtSeen[n].Cr4, KtSeen[0].Cr4);
        CHECK_EQ(KtSeen[n].Efer, KtSeen[0].Efer);
    }
}

static BOOLEAN wait_for_ipi(PKPRCB Prcb, ULONG64 Before)
{
    for (ULONG i = 0; i < 2000 && Prcb->Irqlab.IpiCount == Before; i++)
        KeStallExecutionProcessor(500);
    return Prcb->Irqlab.IpiCount != Before;
}

/* One target at a time: only that CPU's IPI count moves. */
TEST(smp, ipi_reaches_only_its_target)
{
    ULONG64 before[MAXIMUM_PROCESSORS];
    LONG cpus = KeNumberProcessors;

    for (LONG target = 1; target < cpus; target++) {
        for (LONG n = 0; n < cpus; n++)
            before[n] = KiProcessorBlock[n]->Irqlab.IpiCount;
        KiIpiSend(1ull << target, 0);
        CHECK(wait_for_ipi(KiProcessorBlock[target], before[target]));
        for (LONG n = 0; n < cpus; n++)
            if (n != target)
                CHECK_EQ(KiProcessorBlock[n]->Irqlab.IpiCount, before[n]);
    }
}

/* A set, then all-but-self: each member is interrupted. */
TEST(smp, ipi_reaches_a_set_and_all_others)
{
    LONG cpus = KeNumberProcessors;
    KAFFINITY odd = 0, others = KeQueryActiveProcessors() & ~1ull;
    ULONG64 before[MAXIMUM_PROCESSORS];

    for (LONG n = 1; n < cpus; n += 2)
        odd |= 1ull << n;
    for (int round = 0; round < 2; round++) {
        KAFFINITY set = round ? others : odd;
        for (LONG n = 0; n < cpus; n++)
            before[n] = KiProcessorBlock[n]->Irqlab.IpiCount;
        KiIpiSend(set, 0);
        for (LONG n = 0; n < cpus; n++)
            if (set & (1ull << n))
                CHECK(wait_for_ipi(KiProcessorBlock[n], before[n]));
        CHECK_EQ(KiProcessorBlock[0]->Irqlab.IpiCount, before[0]);
    }
}

/* Each AP waits in KiIdleLoop at DISPATCH_LEVEL and the clock wakes it from hlt. */
TEST(smp, application_processors_idle_at_dispatch_level)
{
    ULONG64 halts[MAXIMUM_PROCESSORS], ticks[MAXIMUM_PROCESSORS], passive[MAXIMUM_PROCESSORS];

    for (LONG n = 1; n < KeNumberProcessors; n++) {
        halts[n] = KiProcessorBlock[n]->Irqlab.IdleHalts;
        ticks[n] = KiProcessorBlock[n]->ClockInterrupts;
        passive[n] = KiProcessorBlock[n]->Irqlab.TicksAtIrql[PASSIVE_LEVEL]; /* earlier tests' threads */
    }
    for (LONG n = 1; n < KeNumberProcessors; n++) { /* a generous bound: TCG on a busy host */
        for (ULONG i = 0; i < 400 && KiProcessorBlock[n]->ClockInterrupts - ticks[n] < 2; i++)
            KeStallExecutionProcessor(5000);
    }
    for (LONG n = 1; n < KeNumberProcessors; n++) {
        PKPRCB prcb = KiProcessorBlock[n];
        CHECK_GT(prcb->Irqlab.IdleHalts, halts[n]);
        CHECK_GT(prcb->ClockInterrupts, ticks[n]);
        CHECK_GT(prcb->Irqlab.TicksAtIrql[DISPATCH_LEVEL], 0);
        CHECK_EQ(prcb->Irqlab.TicksAtIrql[PASSIVE_LEVEL], passive[n]); /* idle: no thread ran there */
    }
}
