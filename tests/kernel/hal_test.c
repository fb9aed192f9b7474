/*
 * hal_test.c - what the HAL learned from ACPI and did with it: the MADT
 * agrees with the CPU we run on, and I/O APIC routes land in the hardware
 * exactly as asked (read back from the redirection table).
 */
#include <arch/acpi.h>
#include <arch/apic.h>
#include <arch/ioapic.h>
#include <irqlab/test.h>
#include <irqlab/vectors.h>
#include <irqlab/kequery.h>

TEST(hal, madt_describes_this_machine)
{
    const struct acpi_info *acpi = HalGetAcpiInfo();
    BOOLEAN found_self = FALSE;

    REQUIRE(acpi != NULL);
    CHECK_GE(acpi->cpu_count, 1);
    CHECK_GE(ioapic_count(), 1);
    CHECK_EQ(acpi->lapic_base, 0xfee00000);
    for (ULONG i = 0; i < acpi->cpu_count; i++)
        found_self |= acpi->cpus[i].apic_id == apic_id() && acpi->cpus[i].enabled;
    CHECK(found_self);
}

TEST(hal, isa_irq0_goes_through_its_override)
{
    const struct acpi_info *acpi = HalGetAcpiInfo();
    int low = -1, level = -1;

    REQUIRE(acpi != NULL);
    /* Both QEMU chipsets wire the PIT (IRQ0) to GSI 2, edge, active high. */
    CHECK_EQ(acpi_isa_irq_to_gsi(acpi, 0, &low, &level), 2);
    CHECK_EQ(low, 0);
    CHECK_EQ(level, 0);
    CHECK_EQ(acpi_isa_irq_to_gsi(acpi, 1, &low, &level), 1); /* the keyboard: identity */
}

TEST(hal, ioapic_route_mask_unmask)
{
    ULONG gsi = 23; /* a PCI line nothing here uses */
    ULONG vector = DEVICE_VECTOR(7, 3);
    ULONG64 entry;

    REQUIRE(ioapic_route(gsi, vector, apic_id(), TRUE, TRUE));
    REQUIRE(ioapic_read_entry(gsi, &entry));
    CHECK_EQ(entry & 0xff, vector);
    CHECK_NE(entry & (1ull << 16), 0); /* routed masked */
    CHECK_NE(entry & (1ull << 15), 0); /* level */
    CHECK_NE(entry & (1ull << 13), 0); /* active low */
    CHECK_EQ(entry >> 56, apic_id());
    CHECK(ioapic_unmask(gsi));
    REQUIRE(ioapic_read_entry(gsi, &entry));
    CHECK_EQ(entry & (1ull << 16), 0);
    CHECK(ioapic_mask(gsi));
    REQUIRE(ioapic_read_entry(gsi, &entry));
    CHECK_NE(entry & (1ull << 16), 0);
    CHECK(!ioapic_route(100000, vector, 0, FALSE, FALSE)); /* no such GSI */
}
