/*
 * acpi.c - the static ACPI tables (ACPI 6.5 section 5.2): RSDP, XSDT or RSDT,
 * MADT, FADT and HPET, read the way NT's HAL reads them at phase 0.
 *
 * Firmware tables are input, not truth: every address goes through the
 * caller's map function, every length is checked against what it granted
 * before a byte past the header is read, and a table is used only after its
 * checksum matched.  Fields are read byte by byte, little endian, so nothing
 * depends on the tables' alignment or on packed structs.
 */
#include <stdarg.h>
#include <irqlab/rtl.h>
#include <arch/acpi.h>

#define RSDP_V1_LEN 20 /* ACPI 1.0 part, covered by the first checksum */
#define RSDP_V2_LEN 36
#define HDR_LEN 36       /* the common description table header */
#define MADT_ENTRIES 44  /* after the header, LAPIC address and flags */
#define FADT_MIN_LEN 116 /* the ACPI 1.0 FADT ends after Flags */
#define HPET_LEN 56
#define GAS_LEN 12 /* Generic Address Structure: space, widths, then the address at +4 */
#define GAS_MEMORY 0
#define GAS_IO 1

/* FADT offsets (section 5.2.9); boot flags and X_ fields exist from revision 3 (ACPI 2.0). */
#define FADT_PM_TMR_BLK 76
#define FADT_PM_TMR_LEN 91
#define FADT_BOOT_FLAGS 109
#define FADT_FLAGS 112
#define FADT_X_PM_TMR_BLK 208
#define FADT_REV_ACPI2 3
#define FADT_TMR_VAL_EXT (1u << 8)

/* MADT entry types (section 5.2.12). */
enum {
    MADT_LAPIC = 0,
    MADT_IOAPIC = 1,
    MADT_OVERRIDE = 2,
    MADT_LAPIC_NMI = 4,
    MADT_LAPIC_ADDR = 5,
    MADT_X2APIC = 9,
    MADT_X2APIC_NMI = 10
};

/* The bytes each decoded entry type reads; other types are skipped by their length. */
static const uint8_t madt_entry_len[] = {
    [MADT_LAPIC] = 8,       [MADT_IOAPIC] = 12, [MADT_OVERRIDE] = 10,   [MADT_LAPIC_NMI] = 6,
    [MADT_LAPIC_ADDR] = 12, [MADT_X2APIC] = 16, [MADT_X2APIC_NMI] = 12,
};

enum { T_XSDT, T_RSDT, T_MADT, T_FADT, T_HPET, T_COUNT };

struct parser {
    acpi_map_fn map;
    void *ctx;
    struct acpi_info *out;
    uint64_t tables[T_COUNT]; /* the first MADT, FADT and HPET the root table lists */
};

static int parse_madt(struct parser *p, const uint8_t *t, uint32_t len);
static int parse_fadt(struct parser *p, const uint8_t *t, uint32_t len);
static int parse_hpet(struct parser *p, const uint8_t *t, uint32_t len);

static const struct {
    char sig[5];
    const char *name;
    uint32_t min_len;
    int (*parse)(struct parser *p, const uint8_t *t, uint32_t len);
} kinds[T_COUNT] = {
    [T_XSDT] = {"XSDT", "XSDT", HDR_LEN, NULL},
    [T_RSDT] = {"RSDT", "RSDT", HDR_LEN, NULL},
    [T_MADT] = {"APIC", "MADT", MADT_ENTRIES, parse_madt},
    [T_FADT] = {"FACP", "FADT", FADT_MIN_LEN, parse_fadt},
    [T_HPET] = {"HPET", "HPET", HPET_LEN, parse_hpet},
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | (uint32_t)rd16(p + 2) << 16;
}
static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static bool same(const uint8_t *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)s[i])
            return false;
    return true;
}

/* ACPI checksums: all bytes, the checksum byte included, sum to 0 mod 256. */
static bool checksum_ok(const uint8_t *p, uint64_t len)
{
    uint8_t sum = 0;
    for (uint64_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

/* Writes out->error with Rtl's formatter (host tests link the same kernel/rtl/printf.c). */
static __attribute__((format(printf, 3, 4))) int report(struct acpi_info *out, int rc, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    RtlFormatV(out->error, sizeof(out->error), fmt, ap);
    va_end(ap);
    return rc;
}

/* map() behind the wrap-around check, so no caller hands it a range past 2^64. */
static const uint8_t *grant(const struct parser *p, uint64_t phys, uint64_t len)
{
    if (len > UINT64_MAX - phys)
        return NULL;
    return p->map(phys, len, p->ctx);
}

/* Section 5.2.5.3: revision 2 adds Length, the XSDT address and a checksum over Length bytes. */
static int parse_rsdp(struct parser *p, uint64_t phys, uint64_t *root)
{
    struct acpi_info *out = p->out;
    const uint8_t *r = grant(p, phys, RSDP_V1_LEN);

    if (!r)
        return report(out, ACPI_E_UNMAPPED, "RSDP at 0x%llx is outside memory", (unsigned long long)phys);
    if (!same(r, "RSD PTR ", 8))
        return report(out, ACPI_E_RSDP, "RSDP signature mismatch");
    if (!checksum_ok(r, RSDP_V1_LEN))
        return report(out, ACPI_E_RSDP, "RSDP checksum mismatch");
    out->rsdp_revision = r[15];
    if (r[15] >= 2) {
        uint32_t len;
        if (!(r = grant(p, phys, RSDP_V2_LEN)))
            return report(out, ACPI_E_UNMAPPED, "RSDP revision 2 part is outside memory");
        len = rd32(r + 20);
        if (len < RSDP_V2_LEN)
            return report(out, ACPI_E_RSDP, "RSDP length %u is below %u", len, RSDP_V2_LEN);
        if (!(r = grant(p, phys, len)))
            return report(out, ACPI_E_UNMAPPED, "RSDP length 0x%x runs outside memory", len);
        if (!checksum_ok(r, len))
            return report(out, ACPI_E_RSDP, "RSDP extended checksum mismatch");
        /* Section 5.2.5.3: where both exist, the XSDT is the one to use. */
        if ((*root = rd64(r + 24))) {
            out->root = ACPI_ROOT_XSDT;
            return ACPI_OK;
        }
    }
    if (!(*root = rd32(r + 16)))
        return report(out, ACPI_E_RSDP, "RSDP names neither an RSDT nor an XSDT");
    out->root = ACPI_ROOT_RSDT;
    return ACPI_OK;
}

/* Checks signature, length and checksum, then returns the whole table in *table. */
static int load_table(struct parser *p, int kind, uint64_t phys, const uint8_t **table, uint32_t *len)
{
    const char *name = kinds[kind].name;
    const uint8_t *t = grant(p, phys, HDR_LEN);

    if (!t)
        return report(p->out, ACPI_E_UNMAPPED, "%s at 0x%llx is outside memory", name,
                      (unsigned long long)phys);
    if (!same(t, kinds[kind].sig, 4))
        return report(p->out, ACPI_E_TABLE, "%s signature mismatch", name);
    *len = rd32(t + 4);
    if (*len < kinds[kind].min_len)
        return report(p->out, ACPI_E_TABLE, "%s length %u is below %u", name, *len, kinds[kind].min_len);
    if (!(t = grant(p, phys, *len)))
        return report(p->out, ACPI_E_UNMAPPED, "%s length 0x%x runs outside memory", name, *len);
    if (!checksum_ok(t, *len))
        return report(p->out, ACPI_E_TABLE, "%s checksum mismatch", name);
    *table = t;
    return ACPI_OK;
}

/* Notes where the first MADT, FADT and HPET are; the other tables are not ours to judge. */
static int walk_root(struct parser *p, uint64_t phys)
{
    int kind = p->out->root == ACPI_ROOT_XSDT ? T_XSDT : T_RSDT;
    uint32_t step = kind == T_XSDT ? 8 : 4, len;
    const uint8_t *t;
    int rc = load_table(p, kind, phys, &t, &len);

    if (rc)
        return rc;
    if ((len - HDR_LEN) % step)
        return report(p->out, ACPI_E_TABLE, "%s length %u leaves a partial %u-byte entry", kinds[kind].name,
                      len, step);
    for (uint32_t i = 0; i < (len - HDR_LEN) / step; i++) {
        const uint8_t *e = t + HDR_LEN + (uint64_t)i * step;
        uint64_t addr = step == 8 ? rd64(e) : rd32(e);
        if (!addr)
            continue; /* unused slot: ACPICA skips these too */
        const uint8_t *h = grant(p, addr, HDR_LEN);
        if (!h)
            return report(p->out, ACPI_E_UNMAPPED, "%s entry %u points outside memory", kinds[kind].name, i);
        for (int k = T_MADT; k < T_COUNT; k++)
            if (!p->tables[k] && same(h, kinds[k].sig, 4))
                p->tables[k] = addr;
    }
    return ACPI_OK;
}

/* MPS INTI flags: polarity in bits 0-1, trigger in bits 2-3; 2 is reserved in both. */
static bool decode_inti(uint16_t flags, uint8_t *polarity, uint8_t *trigger)
{
    *polarity = flags & 3;
    *trigger = (flags >> 2) & 3;
    return *polarity != 2 && *trigger != 2;
}

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags)
{
    if (out->cpu_count == ACPI_MAX_CPUS) {
        out->cpus_dropped++;
        return;
    }
    /* Bit 0 Enabled; bit 1 Online Capable: absent now, may be hot-added (ACPI 6.3+). */
    out->cpus[out->cpu_count++] =
        (struct acpi_cpu){.apic_id = apic_id, .uid = uid, .enabled = flags & 1, .online_capable = flags & 2};
}

static void add_ioapic(struct acpi_info *out, const uint8_t *e)
{
    if (out->ioapic_count == ACPI_MAX_IOAPICS) {
        out->entries_dropped++;
        return;
    }
    out->ioapics[out->ioapic_count++] =
        (struct acpi_ioapic){.id = e[2], .address = rd32(e + 4), .gsi_base = rd32(e + 8)};
}

static int add_override(struct parser *p, const uint8_t *e, uint32_t off)
{
    struct acpi_info *out = p->out;
    struct acpi_override o = {.bus = e[2], .irq = e[3], .gsi = rd32(e + 4)};

    if (!decode_inti(rd16(e + 8), &o.polarity, &o.trigger))
        return report(out, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x%x has reserved INTI flags", off);
    if (out->override_count == ACPI_MAX_OVERRIDES)
        out->entries_dropped++;
    else
        out->overrides[out->override_count++] = o;
    return ACPI_OK;
}

static int add_nmi(struct parser *p, uint32_t off, uint32_t uid, uint16_t flags, uint8_t lint)
{
    struct acpi_info *out = p->out;
    struct acpi_nmi n = {.uid = uid, .lint = lint};

    if (!decode_inti(flags, &n.polarity, &n.trigger))
        return report(out, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x%x has reserved INTI flags", off);
    if (lint > 1)
        return report(out, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x%x names LINT%u", off, lint);
    if (out->nmi_count == ACPI_MAX_NMIS)
        out->entries_dropped++;
    else
        out->nmis[out->nmi_count++] = n;
    return ACPI_OK;
}

static int madt_entry(struct parser *p, const uint8_t *e, uint32_t off)
{
    switch (e[0]) {
    case MADT_LAPIC:
        add_cpu(p->out, e[3], e[2], rd32(e + 4));
        return ACPI_OK;
    case MADT_X2APIC:
        add_cpu(p->out, rd32(e + 4), rd32(e + 12), rd32(e + 8));
        return ACPI_OK;
    case MADT_IOAPIC:
        add_ioapic(p->out, e);
        return ACPI_OK;
    case MADT_OVERRIDE:
        return add_override(p, e, off);
    case MADT_LAPIC_NMI: /* the 8-bit UID 0xFF means all processors, like 0xFFFFFFFF in type 10 */
        return add_nmi(p, off, e[2] == 0xff ? ACPI_UID_ALL : e[2], rd16(e + 3), e[5]);
    case MADT_X2APIC_NMI:
        return add_nmi(p, off, rd32(e + 4), rd16(e + 2), e[8]);
    case MADT_LAPIC_ADDR: /* the 64-bit address replaces the header's 32-bit one */
        p->out->lapic_base = rd64(e + 4);
        return ACPI_OK;
    default:
        return ACPI_OK;
    }
}

/* An entry is {type, length, ...}: it must fit the table and hold what its type needs. */
static int check_entry(struct parser *p, const uint8_t *t, uint32_t len, uint32_t off)
{
    uint8_t type, elen, need;

    if (len - off < 2)
        return report(p->out, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x%x is cut off by the table end",
                      off);
    type = t[off];
    elen = t[off + 1];
    need = type < ARRAYSIZE(madt_entry_len) && madt_entry_len[type] ? madt_entry_len[type] : 2;
    if (elen < 2)
        return report(p->out, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x%x has length %u", off, elen);
    if (elen > len - off)
        return report(p->out, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x%x runs past the table end", off);
    if (elen < need)
        return report(p->out, ACPI_E_MADT_ENTRY, "MADT entry at offset 0x%x (type %u) is %u bytes, needs %u",
                      off, type, elen, need);
    return ACPI_OK;
}

static int parse_madt(struct parser *p, const uint8_t *t, uint32_t len)
{
    p->out->lapic_base = rd32(t + 36);
    p->out->madt_flags = rd32(t + 40);
    for (uint32_t off = MADT_ENTRIES; off < len; off += t[off + 1]) {
        int rc = check_entry(p, t, len, off);
        if (rc || (rc = madt_entry(p, t + off, off)))
            return rc;
    }
    return ACPI_OK;
}

static int parse_fadt(struct parser *p, const uint8_t *t, uint32_t len)
{
    bool acpi2 = t[8] >= FADT_REV_ACPI2;
    uint64_t port = t[FADT_PM_TMR_LEN] == 4 ? rd32(t + FADT_PM_TMR_BLK) : 0;
    const uint8_t *x = t + FADT_X_PM_TMR_BLK;

    /* Section 5.2.9: a non-zero X_PM_TMR_BLK wins; only an I/O port is usable as the PM timer. */
    if (acpi2 && len >= FADT_X_PM_TMR_BLK + GAS_LEN && rd64(x + 4))
        port = x[0] == GAS_IO ? rd64(x + 4) : 0;
    p->out->fadt.pm_timer_port = port <= 0xffff ? (uint16_t)port : 0;
    p->out->fadt.pm_timer_32bit = rd32(t + FADT_FLAGS) & FADT_TMR_VAL_EXT;
    /* Before ACPI 2.0 these bytes were reserved: "no 8042" there means "not said". */
    p->out->fadt.boot_flags_valid = acpi2;
    p->out->fadt.boot_flags = acpi2 ? rd16(t + FADT_BOOT_FLAGS) : 0;
    p->out->fadt.present = true;
    return ACPI_OK;
}

/* IA-PC HPET specification 1.0a, table 3: the base address is a GAS at offset 40. */
static int parse_hpet(struct parser *p, const uint8_t *t, uint32_t len)
{
    UNREFERENCED_PARAMETER(len); /* HPET_LEN, checked by load_table, covers every field read */
    if (t[40] != GAS_MEMORY || !rd64(t + 44))
        return report(p->out, ACPI_E_TABLE, "HPET base address is not in system memory");
    p->out->hpet.base = rd64(t + 44);
    p->out->hpet.min_tick = rd16(t + 53);
    p->out->hpet.present = true;
    return ACPI_OK;
}

static int parse_table(struct parser *p, int kind)
{
    const uint8_t *t;
    uint32_t len;
    int rc = load_table(p, kind, p->tables[kind], &t, &len);

    return rc ? rc : kinds[kind].parse(p, t, len);
}

int acpi_parse(uint64_t rsdp_phys, acpi_map_fn map, void *ctx, struct acpi_info *out)
{
    struct parser p = {.map = map, .ctx = ctx, .out = out};
    uint64_t root;
    int rc;

    __builtin_memset(out, 0, sizeof(*out));
    if (!rsdp_phys)
        return report(out, ACPI_E_RSDP, "no RSDP");
    if ((rc = parse_rsdp(&p, rsdp_phys, &root)) || (rc = walk_root(&p, root)))
        return rc;
    /* MADT first: a broken optional table must not cost the CPU list. */
    for (int k = T_MADT; k < T_COUNT; k++)
        if (p.tables[k] && (rc = parse_table(&p, k)))
            return rc;
    if (!p.tables[T_MADT])
        return report(out, ACPI_E_NO_MADT, "no MADT");
    return report(out, ACPI_OK, "ok");
}

/* Conforming means "as the bus says", and ISA says active high, edge. */
uint32_t acpi_isa_irq_to_gsi(const struct acpi_info *info, uint8_t irq, int *active_low, int *level)
{
    uint32_t gsi = irq;
    int low = 0, lvl = 0;

    for (uint32_t i = 0; i < info->override_count; i++) {
        const struct acpi_override *o = &info->overrides[i];
        if (o->bus == 0 && o->irq == irq) {
            gsi = o->gsi;
            low = o->polarity == ACPI_POLARITY_LOW;
            lvl = o->trigger == ACPI_TRIGGER_LEVEL;
            break;
        }
    }
    if (active_low)
        *active_low = low;
    if (level)
        *level = lvl;
    return gsi;
}
