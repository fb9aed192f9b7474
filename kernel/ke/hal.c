/*
 * hal.c - bringing up the interrupt hardware (NT's HalInitSystem, and
 * HalInitializeProcessor on every CPU): ACPI's MADT, the I/O APICs (every
 * line masked until a driver routes it), each CPU's local APIC with its
 * spurious and error vectors and its LINT NMI lines.  A broken or missing MADT is reported and
 * the kernel runs on without I/O APIC routing.
 */
#include <arch/acpi.h>
#include <arch/apic.h>
#include <arch/ioapic.h>
#include <arch/arch.h>
#include <irqlab/interrupt.h>
#include <irqlab/rtl.h>
#include <irqlab/vectors.h>
#include <irqlab/mm.h>
#include "ki.h"

static KINTERRUPT KiApicErrorInterrupt;
static struct acpi_info KiAcpi;
static BOOLEAN KiAcpiValid;

const struct acpi_info *HalGetAcpiInfo(void)
{
    return KiAcpiValid ? &KiAcpi : NULL;
}

/* ACPI tables are reached through the direct map; both ends must be mapped. */
static const void *acpi_map(uint64_t phys, uint64_t length, void *ctx)
{
    UNREFERENCED_PARAMETER(ctx);
    if (length == 0 || phys + length < phys || phys + length > (1ull << 46))
        return NULL; /* beyond any direct map this kernel builds */
    PVOID va = MmDirectMap(phys);
    if (!arch_mmu_query((ULONG64)va) || !arch_mmu_query((ULONG64)va + length - 1))
        return NULL;
    return va;
}

static void parse_acpi(ULONG64 rsdp)
{
    if (rsdp == 0) {
        DbgPrint("acpi: the loader found no RSDP; no I/O APIC routing\n");
        return;
    }
    if (acpi_parse(rsdp, acpi_map, NULL, &KiAcpi) != 0) {
        DbgPrint("acpi: %s; no I/O APIC routing\n", KiAcpi.error);
        return;
    }
    KiAcpiValid = TRUE;
    for (ULONG i = 0; i < KiAcpi.ioapic_count; i++)
        if (!ioapic_add(KiAcpi.ioapics[i].id, KiAcpi.ioapics[i].address, KiAcpi.ioapics[i].gsi_base))
            DbgPrint("acpi: I/O APIC %u at %llx refused\n", KiAcpi.ioapics[i].id,
                     (ULONG64)KiAcpi.ioapics[i].address);
    DbgPrint("acpi: MADT %u CPUs, %u I/O APICs, %u overrides, %u NMI lines; 8042 %s\n", KiAcpi.cpu_count,
             ioapic_count(), KiAcpi.override_count, KiAcpi.nmi_count,
             !KiAcpi.fadt.boot_flags_valid ? "unknown"
             : (KiAcpi.fadt.boot_flags & ACPI_BOOT_8042) ? "present" : "absent");
}

/* LINT0/LINT1 as NMI where the MADT says so for this CPU (or for all). */
static void program_nmi_lines(void)
{
    ULONG id = apic_id();

    for (ULONG n = 0; KiAcpiValid && n < KiAcpi.nmi_count; n++) {
        const struct acpi_nmi *e = &KiAcpi.nmis[n];
        BOOLEAN mine = e->uid == ACPI_UID_ALL;
        for (ULONG c = 0; !mine && c < KiAcpi.cpu_count; c++)
            mine = KiAcpi.cpus[c].uid == e->uid && KiAcpi.cpus[c].apic_id == id;
        if (mine)
            apic_set_lint_nmi(e->lint, e->polarity == ACPI_POLARITY_LOW, e->trigger == ACPI_TRIGGER_LEVEL);
    }
}

static BOOLEAN KiApicErrorService(PKINTERRUPT Interrupt, PVOID Context)
{
    UNREFERENCED_PARAMETER(Context);
    DbgPrint("apic: error interrupt, ESR %08x (%llu so far)\n", apic_read_error(),
             Interrupt->ServiceCount + 1);
    return TRUE;
}

void KiInitializeHal(ULONG64 Rsdp)
{
    PCSTR mode = KeGetCommandLineValue("apic");
    BOOLEAN force_xapic = mode && strcmp(mode, "xapic") == 0;

    if (mode && !force_xapic)
        DbgPrint("apic: apic=%s is not known (apic=xapic is); ignoring it\n", mode);
    KiInitializeInterrupts();
    parse_acpi(Rsdp);
    apic_init(force_xapic, SPURIOUS_VECTOR, APIC_ERROR_VECTOR);
    KeGetCurrentPrcb()->InitialApicId = apic_id();
    program_nmi_lines();
    KiConnectSystemInterrupt(&KiApicErrorInterrupt, KiApicErrorService, APIC_ERROR_VECTOR);
    DbgPrint("apic: local APIC id %u, %s, version %08x\n", apic_id(),
             apic_is_x2apic() ? "x2APIC (MSRs)" : "xAPIC (MMIO)", apic_read(APIC_VERSION));
}

void KiInitializeHalProcessor(void)
{
    apic_init_cpu(SPURIOUS_VECTOR, APIC_ERROR_VECTOR);
    /* The boot CPU chose this CPU by the APIC ID the MADT gave; the APIC must agree. */
    ASSERT(apic_id() == KeGetCurrentPrcb()->InitialApicId);
    program_nmi_lines();
}
