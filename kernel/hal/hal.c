/*
 * hal.c - bringing up the interrupt hardware (NT's HalInitSystem, and
 * HalInitializeProcessor on every CPU): ACPI's MADT, the I/O APICs (every
 * line masked until a driver routes it), each CPU's local APIC with its
 * spurious and error vectors and its LINT NMI lines.  A broken or missing
 * MADT is reported and the kernel runs on without I/O APIC routing.
 */
#include <arch/acpi.h>
#include <arch/apic.h>
#include <arch/arch.h>
#include <arch/ioapic.h>
#include <irqlab/hal.h>
#include <irqlab/mm.h>
#include <irqlab/rtl.h>
#include <irqlab/vectors.h>
#include "halp.h"

static struct acpi_info HalpAcpi;
static BOOLEAN HalpAcpiValid;
ULONG HalpBootApicId;

const struct acpi_info *HalGetAcpiInfo(VOID)
{
    return HalpAcpiValid ? &HalpAcpi : NULL;
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
    if (acpi_parse(rsdp, acpi_map, NULL, &HalpAcpi) != 0) {
        DbgPrint("acpi: %s; no I/O APIC routing\n", HalpAcpi.error);
        return;
    }
    HalpAcpiValid = TRUE;
    for (ULONG i = 0; i < HalpAcpi.ioapic_count; i++)
        if (!ioapic_add(HalpAcpi.ioapics[i].id, HalpAcpi.ioapics[i].address, HalpAcpi.ioapics[i].gsi_base))
            DbgPrint("acpi: I/O APIC %u at %llx refused\n", HalpAcpi.ioapics[i].id,
                     (ULONG64)HalpAcpi.ioapics[i].address);
    DbgPrint("acpi: MADT %u CPUs, %u I/O APICs, %u overrides, %u NMI lines; 8042 %s\n", HalpAcpi.cpu_count,
             ioapic_count(), HalpAcpi.override_count, HalpAcpi.nmi_count,
             !HalpAcpi.fadt.boot_flags_valid ? "unknown"
             : (HalpAcpi.fadt.boot_flags & ACPI_BOOT_8042) ? "present" : "absent");
}

/* LINT0/LINT1 as NMI where the MADT says so for this CPU (or for all). */
static void program_nmi_lines(void)
{
    ULONG id = apic_id();

    for (ULONG n = 0; HalpAcpiValid && n < HalpAcpi.nmi_count; n++) {
        const struct acpi_nmi *e = &HalpAcpi.nmis[n];
        BOOLEAN mine = e->uid == ACPI_UID_ALL;
        for (ULONG c = 0; !mine && c < HalpAcpi.cpu_count; c++)
            mine = HalpAcpi.cpus[c].uid == e->uid && HalpAcpi.cpus[c].apic_id == id;
        if (mine)
            apic_set_lint_nmi(e->lint, e->polarity == ACPI_POLARITY_LOW, e->trigger == ACPI_TRIGGER_LEVEL);
    }
}

ULONG HalQueryApicError(VOID)
{
    return apic_read_error();
}

ULONG HalInitSystem(ULONG64 Rsdp, BOOLEAN ForceXapic)
{
    parse_acpi(Rsdp);
    apic_init(ForceXapic, SPURIOUS_VECTOR, APIC_ERROR_VECTOR);
    HalpBootApicId = apic_id();
    program_nmi_lines();
    DbgPrint("apic: local APIC id %u, %s, version %08x\n", HalpBootApicId,
             apic_is_x2apic() ? "x2APIC (MSRs)" : "xAPIC (MMIO)", apic_read(APIC_VERSION));
    return HalpBootApicId;
}

ULONG HalInitializeProcessor(VOID)
{
    apic_init_cpu(SPURIOUS_VECTOR, APIC_ERROR_VECTOR);
    program_nmi_lines();
    return apic_id();
}

BOOLEAN HalQueryProcessor(ULONG Index, HAL_PROCESSOR *Processor)
{
    if (!HalpAcpiValid || Index >= HalpAcpi.cpu_count)
        return FALSE;
    const struct acpi_cpu *c = &HalpAcpi.cpus[Index];
    Processor->ApicId = c->apic_id;
    Processor->Enabled = c->enabled;
    Processor->Reachable = apic_is_x2apic() || c->apic_id <= 254; /* xAPIC: 8 bits, 0xff broadcasts */
    return TRUE;
}

VOID HalReturnToFirmware(FIRMWARE_REENTRY Routine)
{
    if (Routine == HalRebootRoutine || Routine == HalRestartRoutine)
        arch_reset();
    if (Routine == HalPowerDownRoutine)
        arch_exit_emulator(ARCH_EXIT_SUCCESS);
    arch_halt_forever();
}
