/*
 * halio.c - HAL services for drivers (include/irqlab/hal.h): port I/O and
 * ISA interrupt routing through the I/O APICs.
 *
 * Every routed line goes to CPU 0 (see docs/deviations.md), masked until
 * the driver has connected its KINTERRUPT and calls HalEnableSystemInterrupt,
 * as NT's KeConnectInterrupt does for it.
 */
#include <arch/acpi.h>
#include <arch/arch.h>
#include <arch/ioapic.h>
#include <irqlab/hal.h>
#include <irqlab/rtl.h>
#include <irqlab/vectors.h>
#include "halp.h"

#define ISA_IRQS 16

static struct {
    ULONG Vector; /* 0: not routed */
    ULONG Gsi;
} HalpIsaRoutes[ISA_IRQS];

UCHAR READ_PORT_UCHAR(PUCHAR Port)
{
    return arch_inb((uint16_t)(ULONG_PTR)Port);
}

VOID WRITE_PORT_UCHAR(PUCHAR Port, UCHAR Value)
{
    arch_outb((uint16_t)(ULONG_PTR)Port, Value);
}

ULONG HalGetInterruptVector(INTERFACE_TYPE InterfaceType, ULONG BusNumber, ULONG BusInterruptLevel,
                            ULONG BusInterruptVector, PKIRQL Irql, PKAFFINITY Affinity)
{
    const struct acpi_info *acpi = HalGetAcpiInfo();
    ULONG irq = BusInterruptLevel;
    int active_low, level;

    UNREFERENCED_PARAMETER(BusInterruptVector);
    if (InterfaceType != Isa || BusNumber != 0 || irq >= ISA_IRQS || acpi == NULL)
        return 0;
    KIRQL dirql = (KIRQL)(11 - irq / 2);
    ULONG vector = (ULONG)dirql << 4 | irq;
    ULONG gsi = acpi_isa_irq_to_gsi(acpi, (uint8_t)irq, &active_low, &level);
    if (!ioapic_route(gsi, vector, HalpBootApicId, active_low, level))
        return 0; /* no I/O APIC serves that GSI */
    ioapic_mask(gsi);
    HalpIsaRoutes[irq].Vector = vector;
    HalpIsaRoutes[irq].Gsi = gsi;
    *Irql = dirql;
    *Affinity = 1;
    return vector;
}

static LONG route_of(ULONG Vector)
{
    for (LONG irq = 0; irq < ISA_IRQS; irq++)
        if (HalpIsaRoutes[irq].Vector == Vector && Vector != 0)
            return irq;
    return -1;
}

BOOLEAN HalEnableSystemInterrupt(ULONG Vector, KIRQL Irql, KINTERRUPT_MODE InterruptMode)
{
    LONG irq = route_of(Vector);

    UNREFERENCED_PARAMETER(InterruptMode);
    if (irq < 0 || VECTOR_IRQL(Vector) != Irql)
        return FALSE; /* not a vector this HAL routed, or not at its level */
    return ioapic_unmask(HalpIsaRoutes[irq].Gsi);
}

VOID HalDisableSystemInterrupt(ULONG Vector, KIRQL Irql)
{
    LONG irq = route_of(Vector);

    UNREFERENCED_PARAMETER(Irql);
    if (irq >= 0)
        ioapic_mask(HalpIsaRoutes[irq].Gsi);
}

LONG HalQuery8042Present(VOID)
{
    const struct acpi_info *acpi = HalGetAcpiInfo();

    if (acpi == NULL || !acpi->fadt.boot_flags_valid)
        return -1;
    return (acpi->fadt.boot_flags & ACPI_BOOT_8042) != 0;
}
