/*
 * apic.c - the local APIC (Intel SDM vol. 3, chapter 11).
 *
 * xAPIC is reached through its MMIO page in the direct map; x2APIC, where
 * CPUID.1:ECX[21] offers it, through MSRs 0x800+.  TCG has no x2APIC, so the
 * MMIO path is the one every test here runs.  The 8259 PICs are remapped out
 * of the way and masked: all interrupts come through the APICs, as on NT x64.
 */
#include <arch/apic.h>
#include <arch/arch.h>
#include <irqlab/memmap.h>

#define APIC_BASE_MSR    0x1b
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_SVR_ENABLE  (1u << 8)
#define ICR_PENDING      (1u << 12)
#define ICR_ASSERT       (1u << 14)
#define ICR_FIXED        (0u << 8)
#define ICR_NMI          (4u << 8)
#define ICR_INIT         (5u << 8)
#define ICR_STARTUP      (6u << 8)
#define X2APIC_MSR(reg)  (0x800u + ((reg) >> 4))
#define X2APIC_SELF_IPI  0x83f

static volatile ULONG *ApicMmio;
static BOOLEAN ApicX2;

ULONG apic_read(ULONG reg)
{
    if (ApicX2)
        return (ULONG)arch_rdmsr(X2APIC_MSR(reg));
    return ApicMmio[reg / 4];
}

void apic_write(ULONG reg, ULONG value)
{
    if (ApicX2)
        arch_wrmsr(X2APIC_MSR(reg), value);
    else
        ApicMmio[reg / 4] = value;
}

BOOLEAN apic_is_x2apic(void) { return ApicX2; }
void apic_eoi(void) { apic_write(APIC_EOI, 0); }

ULONG apic_id(void)
{
    ULONG id = apic_read(APIC_ID);
    return ApicX2 ? id : id >> 24;
}

/* ICW1-4: vectors 0xf0-0xff (never installed), then mask every line. */
static void pic_disable(void)
{
    static const uint8_t init[2][4] = { { 0x11, 0xf0, 0x04, 0x01 }, { 0x11, 0xf8, 0x02, 0x01 } };
    for (int i = 0; i < 4; i++) {
        arch_outb(0x20 + (i ? 1 : 0), init[0][i]);
        arch_outb(0xa0 + (i ? 1 : 0), init[1][i]);
    }
    arch_outb(0x21, 0xff);
    arch_outb(0xa1, 0xff);
}

void apic_init(BOOLEAN force_xapic, ULONG spurious_vector, ULONG error_vector)
{
    uint32_t r[4];

    arch_cpuid(1, 0, r);
    ApicX2 = !force_xapic && (r[2] & (1u << 21));
    ApicMmio = MmDirectMap(arch_rdmsr(APIC_BASE_MSR) & 0x000ffffffffff000ull);
    pic_disable();
    apic_init_cpu(spurious_vector, error_vector);
}

void apic_init_cpu(ULONG spurious_vector, ULONG error_vector)
{
    ULONG64 base = arch_rdmsr(APIC_BASE_MSR);

    arch_wrmsr(APIC_BASE_MSR, base | APIC_BASE_ENABLE | (ApicX2 ? APIC_BASE_X2APIC : 0));
    apic_write(APIC_TPR, 0); /* IRQL lives in CR8, which is TPR[7:4] */
    apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
    apic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
    apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
    apic_write(APIC_LVT_ERROR, error_vector);
    apic_write(APIC_ESR, 0);
    apic_write(APIC_SVR, APIC_SVR_ENABLE | spurious_vector);
    apic_eoi(); /* anything the firmware left in service */
}

/*
 * Writes the ICR and waits until the APIC took it.  In xAPIC mode that is two
 * writes (destination, then command): interrupts stay off in between, or an
 * ISR on this CPU sending its own IPI could change the destination under us.
 */
static void send_icr(ULONG dest, ULONG low)
{
    if (ApicX2) {
        arch_wrmsr(X2APIC_MSR(APIC_ICR_LOW), ((ULONG64)dest << 32) | low);
        return;
    }
    ULONG64 flags = arch_save_disable();
    apic_write(APIC_ICR_HIGH, dest << 24);
    apic_write(APIC_ICR_LOW, low);
    while (apic_read(APIC_ICR_LOW) & ICR_PENDING)
        arch_pause();
    arch_restore(flags);
}

void apic_send_ipi(ULONG dest, ULONG vector, enum apic_shorthand shorthand)
{
    if (ApicX2 && shorthand == APIC_DEST_SELF) {
        arch_wrmsr(X2APIC_SELF_IPI, vector);
        return;
    }
    send_icr(dest, vector | ((ULONG)shorthand << 18) | ICR_ASSERT | ICR_FIXED);
}

void apic_send_nmi(ULONG dest, enum apic_shorthand shorthand)
{
    send_icr(dest, ((ULONG)shorthand << 18) | ICR_ASSERT | ICR_NMI);
}

void apic_send_init(ULONG dest)
{
    send_icr(dest, ICR_ASSERT | ICR_INIT);
}

void apic_send_startup(ULONG dest, ULONG page)
{
    send_icr(dest, ICR_ASSERT | ICR_STARTUP | page);
}

void apic_self_ipi(ULONG vector)
{
    apic_send_ipi(0, vector, APIC_DEST_SELF);
}

static BOOLEAN vector_bit(ULONG base, ULONG vector)
{
    return (apic_read(base + (vector / 32) * 0x10) >> (vector % 32)) & 1;
}

BOOLEAN apic_irr_pending(ULONG vector) { return vector_bit(APIC_IRR_BASE, vector); }
BOOLEAN apic_in_service(ULONG vector) { return vector_bit(APIC_ISR_BASE, vector); }

ULONG apic_read_error(void)
{
    apic_write(APIC_ESR, 0);
    return apic_read(APIC_ESR);
}

void apic_set_lint_nmi(ULONG lint, BOOLEAN active_low, BOOLEAN level)
{
    ULONG v = APIC_LVT_NMI | (active_low ? APIC_LVT_ACTIVE_LOW : 0) | (level ? APIC_LVT_LEVEL : 0);
    apic_write(lint ? APIC_LVT_LINT1 : APIC_LVT_LINT0, v);
}
