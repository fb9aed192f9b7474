/*
 * test_acpi.c - acpi_parse against tables built in memory: a QEMU q35 set
 * (RSDP 2 -> XSDT -> FACP, APIC, HPET, MCFG, WAET), an ACPI 1.0 RSDT set,
 * x2APIC and odd CPU entries, and corrupt inputs that must each give a clean
 * error.  The fake map hands out an exact-size heap copy of every range it
 * grants, so ASan catches any read past a grant.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arch/acpi.h>
#include "ktap.h"

#define BASE 0x100000u /* physical address of the fake memory */
#define SIZE 0x10000u
#define Q35_IOAPIC 0x4c /* offsets of the entries in the q35 MADT with 4 CPUs */
#define Q35_IRQ0   0x58
#define Q35_NMI    0x8a

static uint8_t mem[SIZE];
static size_t used;
static void **grants;
static size_t grant_count;

/* As naive about wrap-around as a quick kernel check: acpi_parse must never ask for one. */
static const void *fake_map(uint64_t phys, uint64_t length, void *ctx)
{
    (void)ctx;
    if (phys < BASE || phys + length > BASE + SIZE)
        return NULL;
    void *copy = malloc(length ? length : 1);
    memcpy(copy, mem + (phys - BASE), length);
    grants = realloc(grants, (grant_count + 1) * sizeof(*grants));
    grants[grant_count++] = copy;
    return copy;
}

static void reset(void)
{
    while (grant_count)
        free(grants[--grant_count]);
    memset(mem, 0, sizeof(mem));
    used = 0;
}

static uint8_t *at(uint64_t phys) { return mem + (phys - BASE); }

static void wr(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    while (n--)
        s += *p++;
    return s;
}

/* Writes a table field and fixes the checksum (over what fits in memory): only that field is wrong. */
static void poke(uint64_t phys, uint32_t off, uint64_t v, int bytes)
{
    uint8_t *t = at(phys);
    wr(t + off, v, bytes);
    uint64_t len = t[4] | t[5] << 8 | t[6] << 16 | (uint64_t)t[7] << 24;
    t[9] = 0;
    t[9] = (uint8_t)-sum(t, len < BASE + SIZE - phys ? len : BASE + SIZE - phys);
}

/* The same for the RSDP and its two checksums. */
static void poke_rsdp(uint64_t phys, uint32_t off, uint64_t v, int bytes)
{
    uint8_t *r = at(phys);
    wr(r + off, v, bytes);
    r[8] = 0, r[32] = 0;
    r[8] = (uint8_t)-sum(r, 20);
    r[32] = (uint8_t)-sum(r, 36);
}

struct tbl { uint8_t b[4096]; uint32_t n; }; /* a table being built: bytes, length so far */

static void put(struct tbl *t, uint64_t v, int bytes)
{
    wr(t->b + t->n, v, bytes);
    t->n += bytes;
}

static void begin(struct tbl *t, const char *sig, uint8_t rev)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->b, sig, 4);
    t->b[8] = rev;
    memcpy(t->b + 10, "BOCHS BXPC    ", 14);
    t->n = 36;
}

/* Sets length and checksum, copies the table into fake memory, returns its address. */
static uint64_t place(struct tbl *t)
{
    uint64_t phys = BASE + used;
    wr(t->b + 4, t->n, 4);
    t->b[9] = (uint8_t)-sum(t->b, t->n);
    memcpy(mem + used, t->b, t->n);
    used = (used + t->n + 15) & ~15ul;
    return phys;
}

static void lapic(struct tbl *t, uint8_t uid, uint8_t id, uint32_t flags)
{
    put(t, 0, 1), put(t, 8, 1), put(t, uid, 1), put(t, id, 1), put(t, flags, 4);
}
static void x2apic(struct tbl *t, uint32_t id, uint32_t flags, uint32_t uid)
{
    put(t, 9, 1), put(t, 16, 1), put(t, 0, 2), put(t, id, 4), put(t, flags, 4), put(t, uid, 4);
}
static void ioapic(struct tbl *t, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
    put(t, 1, 1), put(t, 12, 1), put(t, id, 1), put(t, 0, 1), put(t, addr, 4), put(t, gsi_base, 4);
}
static void iso(struct tbl *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    put(t, 2, 1), put(t, 10, 1), put(t, 0, 1), put(t, irq, 1), put(t, gsi, 4), put(t, flags, 2);
}
static void nmi(struct tbl *t, uint8_t uid, uint16_t flags, uint8_t lint)
{
    put(t, 4, 1), put(t, 6, 1), put(t, uid, 1), put(t, flags, 2), put(t, lint, 1);
}

static void madt_begin(struct tbl *t)
{
    begin(t, "APIC", 1);
    put(t, 0xfee00000, 4);
    put(t, ACPI_MADT_PCAT_COMPAT, 4);
}

/* Empty memory and a MADT to fill: a case adds entries, then parses with_madt(). */
static struct tbl *new_madt(void)
{
    static struct tbl t;
    reset();
    madt_begin(&t);
    return &t;
}

/* QEMU's build_madt for q35 -smp 4: IRQ0 -> GSI2, 5/9/10/11 active high level (0xd). */
static uint64_t q35_madt(void)
{
    struct tbl t;
    madt_begin(&t);
    for (int i = 0; i < 4; i++)
        lapic(&t, i, i, 1);
    ioapic(&t, 0, 0xfec00000, 0);
    iso(&t, 0, 2, 0);
    iso(&t, 5, 5, 0xd), iso(&t, 9, 9, 0xd), iso(&t, 10, 10, 0xd), iso(&t, 11, 11, 0xd);
    nmi(&t, 0xff, 0, 1);
    return place(&t);
}

/* QEMU's q35 FADT (revision 3, 244 bytes): PM timer at 0x608, 24-bit, 8042 present. */
static uint64_t fadt(uint8_t rev, uint32_t len, uint32_t flags)
{
    struct tbl t;
    begin(&t, "FACP", rev);
    wr(t.b + 76, 0x608, 4);
    t.b[91] = 4;
    wr(t.b + 109, ACPI_BOOT_8042, 2);
    wr(t.b + 112, flags, 4);
    t.b[208] = 1, t.b[209] = 32;
    wr(t.b + 212, 0x608, 8);
    t.n = len;
    return place(&t);
}

static uint64_t hpet(void)
{
    struct tbl t;
    begin(&t, "HPET", 1);
    put(&t, 0x8086a201, 4);
    put(&t, 0, 1), put(&t, 64, 1), put(&t, 0, 2), put(&t, 0xfed00000, 8);
    put(&t, 0, 1), put(&t, 0x80, 2), put(&t, 0, 1);
    return place(&t);
}

/* An RSDT or XSDT listing addr[0..n), plus extra stray bytes. */
static uint64_t root(const char *sig, const uint64_t *addr, int n, int extra)
{
    struct tbl t;
    int step = sig[0] == 'X' ? 8 : 4;
    begin(&t, sig, 1);
    for (int i = 0; i < n; i++)
        put(&t, addr[i], step);
    t.n += extra;
    return place(&t);
}

/* A table acpi_parse has no business reading beyond its header. */
static uint64_t blob(const char *sig, uint32_t len) { return root(sig, NULL, 0, len - 36); }

static uint64_t rsdp(uint8_t rev, uint64_t rsdt, uint64_t xsdt)
{
    uint64_t phys = BASE + used;
    uint8_t *r = at(phys);
    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "BOCHS ", 6);
    r[15] = rev;
    wr(r + 16, rsdt, 4);
    wr(r + 24, xsdt, 8);
    poke_rsdp(phys, 20, 36, 4);
    used += 48;
    return phys;
}

struct set { uint64_t rsdp, xsdt, madt, fadt, hpet; };
static struct set s; /* the tables of the last q35(), for cases to poke */

/* What OVMF hands a q35 guest: RSDP 2 -> XSDT -> FACP, APIC, HPET, MCFG, WAET. */
static struct set q35(void)
{
    reset();
    s.fadt = fadt(3, 244, 0x84a5);
    s.madt = q35_madt();
    s.hpet = hpet();
    uint64_t list[] = { s.fadt, s.madt, s.hpet, blob("MCFG", 60), blob("WAET", 40) };
    s.xsdt = root("XSDT", list, 5, 0);
    s.rsdp = rsdp(2, 0, s.xsdt);
    return s;
}

/* An RSDP 2 -> XSDT set around one MADT given as entries. */
static uint64_t with_madt(struct tbl *t)
{
    uint64_t madt = place(t);
    return rsdp(2, 0, root("XSDT", &madt, 1, 0));
}

static struct acpi_info info; /* 4 KiB: not on the stack of every case */

static int parse(uint64_t rsdp_phys) { return acpi_parse(rsdp_phys, fake_map, NULL, &info); }

#define FAILS(rsdp_phys, status, message)                                                  \
    do {                                                                                   \
        EXPECT(parse(rsdp_phys) == (status));                                              \
        EXPECT_STR(info.error, (message));                                                 \
    } while (0)

/* ---- cases --------------------------------------------------------------- */
static void good_tables(void)
{
    CASE("acpi.q35_xsdt") {
        EXPECT(parse(q35().rsdp) == ACPI_OK);
        EXPECT_STR(info.error, "ok");
        EXPECT(info.rsdp_revision == 2 && info.root == ACPI_ROOT_XSDT);
        EXPECT(info.lapic_base == 0xfee00000 && (info.madt_flags & ACPI_MADT_PCAT_COMPAT));
        EXPECT(info.cpu_count == 4 && info.cpus_dropped == 0);
        for (uint32_t i = 0; i < info.cpu_count; i++)
            EXPECT(info.cpus[i].apic_id == i && info.cpus[i].uid == i && info.cpus[i].enabled &&
                   !info.cpus[i].online_capable);
        EXPECT(info.ioapic_count == 1 && info.ioapics[0].address == 0xfec00000);
        EXPECT(info.ioapics[0].gsi_base == 0);
        EXPECT(info.override_count == 5 && info.overrides[0].irq == 0 && info.overrides[0].gsi == 2);
        EXPECT(info.overrides[0].polarity == ACPI_POLARITY_CONFORMING);
        EXPECT(info.overrides[2].irq == 9 && info.overrides[2].polarity == ACPI_POLARITY_HIGH &&
               info.overrides[2].trigger == ACPI_TRIGGER_LEVEL);
        EXPECT(info.nmi_count == 1 && info.nmis[0].uid == ACPI_UID_ALL && info.nmis[0].lint == 1);
        EXPECT(info.fadt.present && info.fadt.boot_flags_valid && (info.fadt.boot_flags & ACPI_BOOT_8042));
        EXPECT(info.fadt.pm_timer_port == 0x608 && !info.fadt.pm_timer_32bit);
        EXPECT(info.hpet.present && info.hpet.base == 0xfed00000 && info.hpet.min_tick == 0x80);
    }
    CASE("acpi.isa_irq_to_gsi") {
        int low = -1, level = -1;
        parse(q35().rsdp);
        EXPECT(acpi_isa_irq_to_gsi(&info, 0, &low, &level) == 2 && !low && !level);
        EXPECT(acpi_isa_irq_to_gsi(&info, 9, &low, &level) == 9 && !low && level);
        EXPECT(acpi_isa_irq_to_gsi(&info, 1, &low, &level) == 1 && !low && !level);
        EXPECT(acpi_isa_irq_to_gsi(&info, 11, NULL, NULL) == 11);
        info.overrides[0] = (struct acpi_override){ .irq = 7, .gsi = 23, .polarity = ACPI_POLARITY_LOW,
                                                    .trigger = ACPI_TRIGGER_LEVEL };
        info.overrides[1] = (struct acpi_override){ .bus = 1, .irq = 4, .gsi = 30 };
        EXPECT(acpi_isa_irq_to_gsi(&info, 7, &low, &level) == 23 && low && level);
        EXPECT(acpi_isa_irq_to_gsi(&info, 4, &low, &level) == 4); /* not an ISA override */
    }
    CASE("acpi.rsdt_only_revision_0") {
        reset();
        uint64_t list[] = { fadt(1, 116, 0x1a5), q35_madt() };
        EXPECT(parse(rsdp(0, root("RSDT", list, 2, 0), 0)) == ACPI_OK);
        EXPECT(info.rsdp_revision == 0 && info.root == ACPI_ROOT_RSDT && info.cpu_count == 4);
        /* An ACPI 1.0 FADT: the legacy PM timer, no boot flags to trust. */
        EXPECT(info.fadt.present && !info.fadt.boot_flags_valid && info.fadt.boot_flags == 0);
        EXPECT(info.fadt.pm_timer_port == 0x608 && info.fadt.pm_timer_32bit && !info.hpet.present);
    }
    CASE("acpi.fadt_x_pm_timer_wins") {
        poke(q35().fadt, 76, 0x408, 4); /* the legacy PM_TMR_BLK disagrees */
        EXPECT(parse(s.rsdp) == ACPI_OK && info.fadt.pm_timer_port == 0x608);
        poke(s.fadt, 208, 0, 1); /* X_PM_TMR_BLK in memory space: no usable PM timer */
        EXPECT(parse(s.rsdp) == ACPI_OK && info.fadt.pm_timer_port == 0);
    }
    CASE("acpi.revision_2_without_xsdt_uses_rsdt") {
        struct tbl *t = new_madt();
        lapic(t, 9, 9, 1);
        uint64_t list[] = { 0, q35_madt(), place(t) }; /* a null slot; the second MADT is ignored */
        EXPECT(parse(rsdp(2, root("RSDT", list, 3, 0), 0)) == ACPI_OK);
        EXPECT(info.root == ACPI_ROOT_RSDT && info.cpu_count == 4 && info.override_count == 5);
    }
    CASE("acpi.x2apic_entries") {
        struct tbl *t = new_madt();
        x2apic(t, 0x100, 1, 7);
        x2apic(t, 0x101, 1, 8);
        /* An x2APIC NMI for all, the 64-bit LAPIC address, an NMI source and an unknown type (skipped). */
        put(t, 10, 1), put(t, 12, 1), put(t, 0xd, 2), put(t, 0xffffffff, 4), put(t, 1, 4);
        put(t, 5, 1), put(t, 12, 1), put(t, 0, 2), put(t, 0xfee0000000ull, 8);
        put(t, 3, 1), put(t, 8, 1), put(t, 0, 6);
        put(t, 0x7f, 1), put(t, 5, 1), put(t, 0, 3);
        EXPECT(parse(with_madt(t)) == ACPI_OK);
        EXPECT(info.cpu_count == 2 && info.cpus[1].apic_id == 0x101 && info.cpus[1].uid == 8);
        EXPECT(info.nmi_count == 1 && info.nmis[0].uid == ACPI_UID_ALL && info.nmis[0].lint == 1);
        EXPECT(info.nmis[0].trigger == ACPI_TRIGGER_LEVEL && info.nmis[0].polarity == ACPI_POLARITY_HIGH);
        EXPECT(info.lapic_base == 0xfee0000000ull && !info.fadt.present && !info.hpet.present);
    }
    CASE("acpi.disabled_and_online_capable_cpus") {
        struct tbl *t = new_madt();
        lapic(t, 0, 0, 1);
        lapic(t, 1, 1, 0); /* not present, never startable */
        lapic(t, 2, 2, 2); /* online capable: may be hot-added */
        x2apic(t, 0x300, 2, 3);
        EXPECT(parse(with_madt(t)) == ACPI_OK && info.cpu_count == 4);
        EXPECT(info.cpus[0].enabled && !info.cpus[0].online_capable);
        EXPECT(!info.cpus[1].enabled && !info.cpus[1].online_capable);
        EXPECT(!info.cpus[2].enabled && info.cpus[2].online_capable);
        EXPECT(!info.cpus[3].enabled && info.cpus[3].online_capable && info.cpus[3].apic_id == 0x300);
    }
    CASE("acpi.more_cpus_than_the_limit") {
        struct tbl *t = new_madt();
        for (int i = 0; i < 200; i++)
            lapic(t, i, i, 1);
        for (int i = 0; i < 100; i++)
            x2apic(t, 0x1000 + i, 1, 200 + i);
        for (int i = 0; i < ACPI_MAX_IOAPICS + 1; i++)
            ioapic(t, i, 0xfec00000 + 0x1000 * i, 24 * i);
        EXPECT(parse(with_madt(t)) == ACPI_OK);
        EXPECT(info.cpu_count == ACPI_MAX_CPUS && info.cpus_dropped == 300 - ACPI_MAX_CPUS);
        EXPECT(info.cpus[ACPI_MAX_CPUS - 1].apic_id == 0x1000 + 55);
        EXPECT(info.ioapic_count == ACPI_MAX_IOAPICS && info.entries_dropped == 1);
    }
}

/* Each corrupt input gives its own clean error; what was parsed before the problem stays. */
static void bad_rsdp_and_root(void)
{
    CASE("acpi.rsdp_missing_or_outside_memory") {
        reset();
        FAILS(0, ACPI_E_RSDP, "no RSDP");
        FAILS(0x1000, ACPI_E_UNMAPPED, "RSDP at 0x1000 is outside memory");
        FAILS(UINT64_MAX - 4, ACPI_E_UNMAPPED, "RSDP at 0xfffffffffffffffb is outside memory");
    }
    CASE("acpi.rsdp_bad_signature_checksums_or_length") {
        s = q35();
        poke_rsdp(s.rsdp, 3, 'X', 1);
        FAILS(s.rsdp, ACPI_E_RSDP, "RSDP signature mismatch");
        s = q35();
        at(s.rsdp)[8] ^= 1;
        FAILS(s.rsdp, ACPI_E_RSDP, "RSDP checksum mismatch");
        s = q35();
        at(s.rsdp)[33] = 0x5a; /* reserved, covered only by the extended checksum */
        FAILS(s.rsdp, ACPI_E_RSDP, "RSDP extended checksum mismatch");
        EXPECT(info.rsdp_revision == 2 && info.cpu_count == 0);
        s = q35();
        poke_rsdp(s.rsdp, 20, 20, 4);
        FAILS(s.rsdp, ACPI_E_RSDP, "RSDP length 20 is below 36");
        poke_rsdp(s.rsdp, 20, 0xffffffff, 4);
        FAILS(s.rsdp, ACPI_E_UNMAPPED, "RSDP length 0xffffffff runs outside memory");
    }
    CASE("acpi.xsdt_or_its_entries_outside_memory") {
        s = q35();
        poke_rsdp(s.rsdp, 24, 0xdead0000, 8);
        FAILS(s.rsdp, ACPI_E_UNMAPPED, "XSDT at 0xdead0000 is outside memory");
        EXPECT(info.root == ACPI_ROOT_XSDT);
        uint64_t list[] = { s.fadt, s.madt, s.hpet, 0x7fff0000 };
        FAILS(rsdp(2, 0, root("XSDT", list, 4, 0)), ACPI_E_UNMAPPED, "XSDT entry 3 points outside memory");
        list[1] = UINT64_MAX - 8; /* the end would wrap around */
        FAILS(rsdp(2, 0, root("XSDT", list, 2, 0)), ACPI_E_UNMAPPED, "XSDT entry 1 points outside memory");
        list[1] = 0xfff00000;
        FAILS(rsdp(0, root("RSDT", list, 2, 0), 0), ACPI_E_UNMAPPED, "RSDT entry 1 points outside memory");
    }
    CASE("acpi.root_table_bad") {
        s = q35();
        at(s.xsdt)[12] ^= 0x20;
        FAILS(s.rsdp, ACPI_E_TABLE, "XSDT checksum mismatch");
        FAILS(rsdp(2, 0, root("XSDT", &s.madt, 1, 4)), ACPI_E_TABLE,
              "XSDT length 48 leaves a partial 8-byte entry");
        poke(s.xsdt, 4, 20, 4);
        FAILS(s.rsdp, ACPI_E_TABLE, "XSDT length 20 is below 36");
        poke(s.xsdt, 4, 0xffffffff, 4);
        FAILS(s.rsdp, ACPI_E_UNMAPPED, "XSDT length 0xffffffff runs outside memory");
        poke(s.xsdt, 0, 0x54445352, 4); /* "RSDT" */
        FAILS(s.rsdp, ACPI_E_TABLE, "XSDT signature mismatch");
    }

}

static void bad_tables(void)
{
    CASE("acpi.truncated_tables") {
        s = q35();
        poke(s.madt, 4, SIZE, 4); /* runs off the end of memory */
        FAILS(s.rsdp, ACPI_E_UNMAPPED, "MADT length 0x10000 runs outside memory");
        poke(s.madt, 4, 0xffffffff, 4);
        FAILS(s.rsdp, ACPI_E_UNMAPPED, "MADT length 0xffffffff runs outside memory");
        poke(s.madt, 4, 40, 4);
        FAILS(s.rsdp, ACPI_E_TABLE, "MADT length 40 is below 44");
        poke(s.fadt, 4, 100, 4);
        FAILS(s.rsdp, ACPI_E_TABLE, "MADT length 40 is below 44"); /* the MADT still goes first */
        poke(s.madt, 4, Q35_NMI + 6, 4);
        FAILS(s.rsdp, ACPI_E_TABLE, "FADT length 100 is below 116");
    }
    CASE("acpi.bad_table_checksum_or_field") {
        s = q35();
        at(s.madt)[36] ^= 0x10;
        FAILS(s.rsdp, ACPI_E_TABLE, "MADT checksum mismatch");
        EXPECT(info.cpu_count == 0 && info.lapic_base == 0 && info.root == ACPI_ROOT_XSDT);
        s = q35(); /* a broken optional table keeps the MADT */
        at(s.fadt)[100] ^= 1;
        FAILS(s.rsdp, ACPI_E_TABLE, "FADT checksum mismatch");
        EXPECT(info.cpu_count == 4 && info.ioapic_count == 1 && !info.fadt.present);
        s = q35();
        poke(s.hpet, 40, 1, 1); /* an I/O port instead of memory */
        FAILS(s.rsdp, ACPI_E_TABLE, "HPET base address is not in system memory");
        EXPECT(info.cpu_count == 4 && info.fadt.present && !info.hpet.present);
    }
    CASE("acpi.madt_entry_length_zero_or_past_the_end") {
        s = q35();
        poke(s.madt, Q35_IOAPIC + 1, 0, 1);
        FAILS(s.rsdp, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x4c has length 0");
        EXPECT(info.cpu_count == 4 && info.ioapic_count == 0); /* what came before is kept */
        s = q35();
        poke(s.madt, Q35_NMI + 1, 7, 1);
        FAILS(s.rsdp, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x8a runs past the table end");
        EXPECT(info.override_count == 5 && info.nmi_count == 0);
        poke(s.madt, Q35_NMI + 1, 6, 1);
        poke(s.madt, 4, Q35_NMI + 7, 4); /* one stray byte: not even a type and a length */
        FAILS(s.rsdp, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x90 is cut off by the table end");
    }
    CASE("acpi.madt_entry_shorter_than_its_type") {
        s = q35();
        poke(s.madt, Q35_IOAPIC + 1, 8, 1);
        FAILS(s.rsdp, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x4c (type 1) is 8 bytes, needs 12");
        s = q35();
        poke(s.madt, Q35_NMI + 1, 5, 1);
        poke(s.madt, 4, Q35_NMI + 5, 4);
        FAILS(s.rsdp, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x8a (type 4) is 5 bytes, needs 6");
    }
    CASE("acpi.madt_entry_bad_fields") {
        s = q35();
        poke(s.madt, Q35_IRQ0 + 8, 0x2, 2); /* polarity 2 is reserved */
        FAILS(s.rsdp, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x58 has reserved INTI flags");
        poke(s.madt, Q35_IRQ0 + 8, 0x0, 2);
        poke(s.madt, Q35_NMI + 5, 2, 1);
        FAILS(s.rsdp, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x8a names LINT2");
    }
    CASE("acpi.no_madt") {
        reset();
        uint64_t list[] = { fadt(3, 244, 0x84a5), hpet(), blob("WAET", 40) };
        FAILS(rsdp(2, 0, root("XSDT", list, 3, 0)), ACPI_E_NO_MADT, "no MADT");
        EXPECT(info.fadt.present && info.hpet.present && info.cpu_count == 0);
    }
}

int main(void)
{
    good_tables();
    bad_rsdp_and_root();
    bad_tables();
    reset();
    free(grants);
    return ktap_finish();
}
