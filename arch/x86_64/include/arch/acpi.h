/*
 * acpi.h - the static ACPI tables the kernel needs before it has drivers:
 * RSDP -> XSDT/RSDT -> MADT (CPUs, I/O APICs, overrides, LAPIC NMIs), FADT
 * (IA-PC boot flags, PM timer) and HPET.  NT reads the same tables in its HAL
 * (halacpi.dll); this is pure parsing, shared with the host tests.
 */
#ifndef ARCH_ACPI_H
#define ARCH_ACPI_H

#include <irqlab/nt.h>

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_NMIS 16

#define ACPI_UID_ALL 0xffffffffu      /* an NMI entry meant for every processor */
#define ACPI_MADT_PCAT_COMPAT 0x1u    /* MADT flags: dual 8259s are present */
#define ACPI_BOOT_LEGACY_DEVICES 0x1u /* FADT IA-PC boot flags (section 5.2.9.3) */
#define ACPI_BOOT_8042 0x2u

/* acpi_parse results; out->error says which table and what was wrong. */
enum acpi_status {
    ACPI_OK = 0,
    ACPI_E_RSDP = -1,       /* no RSDP, or its signature, checksum or length is wrong */
    ACPI_E_UNMAPPED = -2,   /* a pointer or a length reaches outside what map() grants */
    ACPI_E_TABLE = -3,      /* a table's signature, length, checksum or field is invalid */
    ACPI_E_MADT_ENTRY = -4, /* a MADT entry is malformed */
    ACPI_E_NO_MADT = -5,
};

enum acpi_root { ACPI_ROOT_NONE, ACPI_ROOT_RSDT, ACPI_ROOT_XSDT };

/* The MPS INTI flag encodings (ACPI 6.5 section 5.2.12.5); 2 is reserved and rejected. */
enum acpi_polarity { ACPI_POLARITY_CONFORMING = 0, ACPI_POLARITY_HIGH = 1, ACPI_POLARITY_LOW = 3 };
enum acpi_trigger { ACPI_TRIGGER_CONFORMING = 0, ACPI_TRIGGER_EDGE = 1, ACPI_TRIGGER_LEVEL = 3 };

/* Every type 0/9 entry is listed; start only those enabled or online_capable. */
struct acpi_cpu {
    uint32_t apic_id;
    uint32_t uid; /* ACPI processor UID, what NMI entries name */
    bool enabled;
    bool online_capable;
};

struct acpi_ioapic {
    uint32_t id;
    uint32_t gsi_base;
    uint64_t address;
};

struct acpi_override {
    uint8_t bus; /* 0 = ISA */
    uint8_t irq;
    uint8_t polarity; /* enum acpi_polarity */
    uint8_t trigger;  /* enum acpi_trigger */
    uint32_t gsi;
};

struct acpi_nmi {
    uint32_t uid; /* ACPI_UID_ALL for every processor */
    uint8_t lint; /* 0 or 1 */
    uint8_t polarity;
    uint8_t trigger;
};

struct acpi_info {
    uint8_t rsdp_revision;
    uint8_t root; /* enum acpi_root */
    uint64_t lapic_base;
    uint32_t madt_flags;

    uint32_t cpu_count, cpus_dropped; /* dropped: entries past ACPI_MAX_CPUS */
    struct acpi_cpu cpus[ACPI_MAX_CPUS];
    uint32_t ioapic_count;
    struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
    uint32_t override_count;
    struct acpi_override overrides[ACPI_MAX_OVERRIDES];
    uint32_t nmi_count;
    struct acpi_nmi nmis[ACPI_MAX_NMIS];
    uint32_t entries_dropped; /* I/O APIC, override and NMI entries past their limits */

    struct {
        bool present;
        bool boot_flags_valid;  /* the field exists from FADT revision 3 (ACPI 2.0) */
        uint16_t boot_flags;    /* ACPI_BOOT_* */
        uint16_t pm_timer_port; /* 0: no PM timer */
        bool pm_timer_32bit;
    } fadt;
    struct {
        bool present;
        uint64_t base;
        uint16_t min_tick;
    } hpet;

    char error[96]; /* "ok", or the first problem found */
};

/*
 * Returns a pointer to [phys, phys + length), or NULL if that is not all
 * readable.  Every pointer returned must stay valid until acpi_parse returns.
 */
typedef const void *(*acpi_map_fn)(uint64_t phys, uint64_t length, void *ctx);

/*
 * Fills out from the tables under the RSDP at rsdp_phys.  Returns ACPI_OK or
 * a negative enum acpi_status; the first problem stops the parse, and what was
 * parsed before it stays in out.  The MADT is parsed first, then the FADT and
 * the HPET, so a broken optional table never costs the CPU list; a missing
 * MADT is reported last, with the FADT and HPET already filled in.
 */
int acpi_parse(uint64_t rsdp_phys, acpi_map_fn map, void *ctx, struct acpi_info *out);

/* The GSI an ISA IRQ arrives on, after the overrides; ISA default: same number, high, edge. */
uint32_t acpi_isa_irq_to_gsi(const struct acpi_info *info, uint8_t irq, int *active_low, int *level);

#endif
