/*
 * apic.h - the local APIC: xAPIC through MMIO, or x2APIC through MSRs when
 * CPUID offers it (never under TCG), behind one interface.
 */
#ifndef ARCH_APIC_H
#define ARCH_APIC_H

#include <irqlab/nt.h>

/* Register offsets in xAPIC MMIO terms; x2APIC uses MSR 0x800 + (offset >> 4). */
#define APIC_ID        0x020
#define APIC_VERSION   0x030
#define APIC_TPR       0x080
#define APIC_EOI       0x0b0
#define APIC_SVR       0x0f0
#define APIC_ISR_BASE  0x100
#define APIC_IRR_BASE  0x200
#define APIC_ESR       0x280
#define APIC_ICR_LOW   0x300
#define APIC_ICR_HIGH  0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE  0x3e0

#define APIC_LVT_MASKED   (1u << 16)
#define APIC_LVT_PERIODIC (1u << 17)
#define APIC_LVT_NMI      (4u << 8)
#define APIC_LVT_LEVEL    (1u << 15)
#define APIC_LVT_ACTIVE_LOW (1u << 13)

enum apic_shorthand { APIC_DEST_SINGLE = 0, APIC_DEST_SELF = 1, APIC_DEST_ALL = 2, APIC_DEST_OTHERS = 3 };

/* Boot CPU: picks the mode (force_xapic ignores x2APIC even when CPUID has it),
 * masks the 8259s, then sets up its own APIC as apic_init_cpu does. */
void apic_init(BOOLEAN force_xapic, ULONG spurious_vector, ULONG error_vector);
/* Any CPU, after apic_init on the boot CPU: this CPU's APIC in the chosen mode. */
void apic_init_cpu(ULONG spurious_vector, ULONG error_vector);
BOOLEAN apic_is_x2apic(void);
ULONG apic_read(ULONG reg);
void apic_write(ULONG reg, ULONG value);
void apic_eoi(void);
ULONG apic_id(void);
/* Fixed delivery of vector to dest (an APIC ID) or a shorthand; waits until the APIC accepted it. */
void apic_send_ipi(ULONG dest, ULONG vector, enum apic_shorthand shorthand);
void apic_self_ipi(ULONG vector);
void apic_send_nmi(ULONG dest, enum apic_shorthand shorthand);
/* The start-up pair (Intel SDM vol. 3, 9.4.4): INIT, then STARTUP at physical page `page`. */
void apic_send_init(ULONG dest);
void apic_send_startup(ULONG dest, ULONG page);
BOOLEAN apic_irr_pending(ULONG vector);
BOOLEAN apic_in_service(ULONG vector);
/* Reads and clears the error status (the ESR must be written before it is read). */
ULONG apic_read_error(void);
/* Programs LINT0/LINT1 as NMI with the MADT's polarity and trigger. */
void apic_set_lint_nmi(ULONG lint, BOOLEAN active_low, BOOLEAN level);

#endif
