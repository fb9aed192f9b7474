/*
 * mp.c - bringing up the application processors (NT's KeStartAllProcessors).
 *
 * The boot CPU walks the processors the HAL found in the MADT and starts
 * each enabled one in turn: a KPCR, descriptor tables and guarded stacks are
 * prepared, the HAL sends the AP INIT-STARTUP-STARTUP (kernel/hal/halmp.c), and the boot CPU
 * waits a bounded time for the AP to say it is up.  One that stays silent is
 * reported, sent back to sleep and skipped; the system runs on the others.
 * Each AP sets up its own tables, APIC and clock, then idles at
 * DISPATCH_LEVEL in KiIdleLoop.
 */
#include <irqlab/hal.h>
#include <irqlab/interrupt.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include <irqlab/vectors.h>
#include "ki.h"

#define AP_ANSWER_MS 2000 /* how long a woken AP may take to reach C (TCG is slow) */

struct mp_tally {
    ULONG Started, Silent, Disabled, TooMany, Unreachable;
};

static PKI_PROCESSOR KiSpareProcessor; /* prepared for an AP that never answered */
ULONG KiProcessorLimit = MAXIMUM_PROCESSORS;

/* The AP's first C code: on its own stack and the kernel's CR3, interrupts off. */
static DECLSPEC_NORETURN void KiSystemStartupAp(void *Context)
{
    PKI_PROCESSOR p = Context;
    PKPRCB prcb = &p->Pcr.Prcb;

    arch_cpu_init(p->ArchTables, &p->Pcr, &p->StackTop[KI_STACK_DOUBLE_FAULT]);
    ULONG apic_id = HalInitializeProcessor();
    /* The boot CPU chose this CPU by the APIC ID the MADT gave; the APIC must agree. */
    ASSERT(apic_id == prcb->InitialApicId);
    KiStartClockProcessor();
    KiInitializeIdleThread(p);
    /* NT's idle loop runs at DISPATCH_LEVEL: DPC interrupts stay pending, it drains them itself. */
    arch_write_cr8(DISPATCH_LEVEL);
    __atomic_store_n(&prcb->Irqlab.Started, 1, __ATOMIC_RELEASE);
    KiIdleLoop();
}

static BOOLEAN wait_started(PKPRCB Prcb)
{
    for (ULONG ms = 0; ms < AP_ANSWER_MS; ms++) {
        if (__atomic_load_n(&Prcb->Irqlab.Started, __ATOMIC_ACQUIRE))
            return TRUE;
        KeStallExecutionProcessor(1000);
    }
    return __atomic_load_n(&Prcb->Irqlab.Started, __ATOMIC_ACQUIRE);
}

/* Starts the AP with this APIC ID as CPU number `Number`; FALSE if it never answered. */
static BOOLEAN start_one(ULONG ApicId, ULONG Number)
{
    PKI_PROCESSOR p = KiSpareProcessor;

    if (p == NULL) {
        ULONG pages = (sizeof(KI_PROCESSOR) + PAGE_SIZE - 1) / PAGE_SIZE;
        p = MmAllocateKernelPages(pages);
        if (p == NULL)
            return FALSE;
    }
    KiSpareProcessor = p;
    KiInitializeProcessorBlock(p, Number, ApicId);
    if (!KiAllocateProcessorStacks(p)) {
        DbgPrint("smp: out of memory for CPU %u's stacks\n", Number);
        return FALSE;
    }
    HalStartProcessor(ApicId, p->StackTop[KI_STACK_KERNEL], KiSystemStartupAp, p);
    if (!wait_started(&p->Pcr.Prcb)) {
        HalCancelProcessorStart(ApicId);
        DbgPrint("smp: the processor with APIC ID %u did not answer within %u ms; skipping it\n", ApicId,
                 AP_ANSWER_MS);
        return FALSE;
    }
    KiSpareProcessor = NULL;
    KiAddActiveProcessor(&p->Pcr.Prcb);
    return TRUE;
}

static void start_all(struct mp_tally *t)
{
    ULONG self = KeGetCurrentPrcb()->InitialApicId;
    HAL_PROCESSOR c;

    for (ULONG i = 0; HalQueryProcessor(i, &c); i++) {
        if (c.ApicId == self)
            continue;
        if (!c.Enabled) {
            t->Disabled++;
        } else if ((ULONG)KeNumberProcessors >= KiProcessorLimit) {
            t->TooMany++;
        } else if (!c.Reachable) {
            t->Unreachable++;
        } else if (start_one(c.ApicId, (ULONG)KeNumberProcessors)) {
            t->Started++;
        } else {
            t->Silent++;
        }
    }
}

/* One line, whole (APs may print too): how many are up and why any others are not. */
static void report(const struct mp_tally *t, ULONG64 ms)
{
    char line[256];
    int n = RtlFormat(line, sizeof(line), "smp: %d processor%s online (%u started in %llu ms)",
                      KeNumberProcessors, KeNumberProcessors == 1 ? "" : "s", t->Started, ms);

    if (t->Silent)
        n += RtlFormat(line + n, sizeof(line) - n, "; %u did not answer", t->Silent);
    if (t->TooMany)
        n += RtlFormat(line + n, sizeof(line) - n, "; %u more not started (limit %u: numproc= or one group)",
                       t->TooMany, KiProcessorLimit);
    if (t->Unreachable)
        n += RtlFormat(line + n, sizeof(line) - n, "; %u need x2APIC (APIC ID above 254)", t->Unreachable);
    if (t->Disabled)
        n += RtlFormat(line + n, sizeof(line) - n, "; %u listed as disabled", t->Disabled);
    DbgPrint("%s\n", line);
}

VOID KeStartAllProcessors(VOID)
{
    struct mp_tally t = { 0 };
    HAL_PROCESSOR first, second;
    ULONG64 start = arch_rdtsc(), hz = KeQueryTscFrequency(NULL);

    KiProcessorLimit = KeGetCommandLineNumber("numproc", 1, MAXIMUM_PROCESSORS, MAXIMUM_PROCESSORS);
    ASSERT(KeGetCurrentIrql() == PASSIVE_LEVEL);
    if (!HalQueryProcessor(0, &first)) {
        DbgPrint("smp: no usable MADT; running on the boot processor only\n");
        return;
    }
    if (HalQueryProcessor(1, &second) && !HalPrepareProcessorStart()) {
        DbgPrint("smp: no free memory below 1 MiB for the start-up code; boot processor only\n");
        return;
    }
    start_all(&t);
    KiProcessorsUpTsc = arch_rdtsc();
    report(&t, (KiProcessorsUpTsc - start) * 1000 / hz);
}
