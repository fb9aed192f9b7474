/*
 * ioapic.c - the I/O APIC (82093AA datasheet): an index register at +0x00,
 * a data window at +0x10, and one 64-bit redirection entry per input pin
 * at index 0x10 + 2 * pin.  Fixed delivery, physical destination.
 */
#include <arch/arch.h>
#include <arch/ioapic.h>
#include <irqlab/memmap.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_VERSION 0x01
#define REG_REDIRECTION(pin) (0x10 + 2 * (pin))
#define RTE_MASKED (1ull << 16)
#define RTE_LEVEL (1ull << 15)
#define RTE_ACTIVE_LOW (1ull << 13)

static struct {
    volatile ULONG *mmio;
    ULONG id, gsi_base, pins;
} IoApics[IOAPIC_MAX];
static ULONG IoApicCount;

static ULONG read_reg(ULONG i, ULONG reg)
{
    IoApics[i].mmio[IOREGSEL / 4] = reg;
    return IoApics[i].mmio[IOWIN / 4];
}

static void write_reg(ULONG i, ULONG reg, ULONG value)
{
    IoApics[i].mmio[IOREGSEL / 4] = reg;
    IoApics[i].mmio[IOWIN / 4] = value;
}

/* The I/O APIC serving gsi and its pin there; FALSE if none does. */
static BOOLEAN locate(ULONG gsi, ULONG *index, ULONG *pin)
{
    for (ULONG i = 0; i < IoApicCount; i++) {
        if (gsi >= IoApics[i].gsi_base && gsi - IoApics[i].gsi_base < IoApics[i].pins) {
            *index = i;
            *pin = gsi - IoApics[i].gsi_base;
            return TRUE;
        }
    }
    return FALSE;
}

static void write_entry(ULONG i, ULONG pin, ULONG64 entry)
{
    /* High half first: the entry may be live once the low half (with the mask bit) lands. */
    write_reg(i, REG_REDIRECTION(pin) + 1, (ULONG)(entry >> 32));
    write_reg(i, REG_REDIRECTION(pin), (ULONG)entry);
}

BOOLEAN ioapic_read_entry(ULONG gsi, ULONG64 *entry)
{
    ULONG i, pin;
    if (!locate(gsi, &i, &pin))
        return FALSE;
    *entry = ((ULONG64)read_reg(i, REG_REDIRECTION(pin) + 1) << 32) | read_reg(i, REG_REDIRECTION(pin));
    return TRUE;
}

BOOLEAN ioapic_add(ULONG id, ULONG64 phys, ULONG gsi_base)
{
    if (IoApicCount == IOAPIC_MAX || (phys & 0xf))
        return FALSE;
    ULONG i = IoApicCount++;
    IoApics[i].mmio = MmDirectMap(phys);
    IoApics[i].id = id;
    IoApics[i].gsi_base = gsi_base;
    IoApics[i].pins = ((read_reg(i, REG_VERSION) >> 16) & 0xff) + 1;
    for (ULONG pin = 0; pin < IoApics[i].pins; pin++)
        write_entry(i, pin, RTE_MASKED);
    return TRUE;
}

BOOLEAN ioapic_route(ULONG gsi, ULONG vector, ULONG dest, BOOLEAN active_low, BOOLEAN level)
{
    ULONG i, pin;
    if (!locate(gsi, &i, &pin) || vector < 32 || vector > 255)
        return FALSE;
    write_entry(i, pin, ((ULONG64)(dest & 0xff) << 56) | RTE_MASKED | (level ? RTE_LEVEL : 0) |
                            (active_low ? RTE_ACTIVE_LOW : 0) | vector);
    return TRUE;
}

static BOOLEAN set_mask(ULONG gsi, BOOLEAN masked)
{
    ULONG i, pin;
    if (!locate(gsi, &i, &pin))
        return FALSE;
    ULONG low = read_reg(i, REG_REDIRECTION(pin));
    write_reg(i, REG_REDIRECTION(pin), masked ? low | (ULONG)RTE_MASKED : low & ~(ULONG)RTE_MASKED);
    return TRUE;
}

BOOLEAN ioapic_mask(ULONG gsi) { return set_mask(gsi, TRUE); }
BOOLEAN ioapic_unmask(ULONG gsi) { return set_mask(gsi, FALSE); }
ULONG ioapic_count(void) { return IoApicCount; }
