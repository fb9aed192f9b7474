/*
 * ioapic.h - I/O APICs: global system interrupts (GSIs) to vectors.
 */
#ifndef ARCH_IOAPIC_H
#define ARCH_IOAPIC_H

#include <irqlab/nt.h>

#define IOAPIC_MAX 8

/* Registers the I/O APIC at phys (from the MADT) serving GSIs from gsi_base; all its lines masked. */
BOOLEAN ioapic_add(ULONG id, ULONG64 phys, ULONG gsi_base);
/* Sends gsi to vector on the CPU with APIC ID dest; left masked until ioapic_unmask. */
BOOLEAN ioapic_route(ULONG gsi, ULONG vector, ULONG dest, BOOLEAN active_low, BOOLEAN level);
BOOLEAN ioapic_mask(ULONG gsi);
BOOLEAN ioapic_unmask(ULONG gsi);
/* The raw 64-bit redirection entry (for the debugger and tests); FALSE if no I/O APIC has gsi. */
BOOLEAN ioapic_read_entry(ULONG gsi, ULONG64 *entry);
ULONG ioapic_count(void);

#endif
