/*
 * fuzz_acpi.c - libFuzzer on the ACPI table parser (arch/x86_64/acpi.c),
 * which reads whatever the firmware left in memory.  The first input byte
 * picks how the rest is laid out: as raw physical memory holding the RSDP
 * and everything after it, or as the body of one MADT, FADT or HPET table
 * behind a valid RSDP and XSDT with checksums fixed, so the fuzzer gets past
 * them.  Every range the parser asks for is handed out as an exact-size heap
 * copy, so ASan catches a read past what was granted.  A parse must end in
 * ACPI_OK or an error with a message, with every count within its array.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arch/acpi.h>

#define BASE      0x100000u /* the fake memory's physical address */
#define RSDP_AT   0
#define XSDT_AT   0x40
#define TABLE_AT  0x80
#define MAX_INPUT 0x4000

static uint8_t Memory[TABLE_AT + 36 + MAX_INPUT];
static size_t MemorySize;
static void *Grants[256];
static size_t GrantCount;

static const void *map(uint64_t phys, uint64_t length, void *ctx)
{
    (void)ctx;
    if (phys < BASE || phys - BASE > MemorySize || length > MemorySize - (phys - BASE) ||
        GrantCount == sizeof(Grants) / sizeof(Grants[0]))
        return NULL;
    void *copy = malloc(length ? length : 1);
    memcpy(copy, Memory + (phys - BASE), length);
    Grants[GrantCount++] = copy;
    return copy;
}

static void put(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void checksum(uint8_t *p, size_t length, size_t field)
{
    uint8_t s = 0;

    p[field] = 0;
    for (size_t i = 0; i < length; i++)
        s += p[i];
    p[field] = (uint8_t)-s;
}

/* A table header (signature, length, revision) with Body after it, its checksum fixed. */
static size_t table(size_t at, const char *signature, uint8_t revision, const uint8_t *body, size_t size)
{
    uint8_t *t = Memory + at;

    memset(t, 0, 36);
    memcpy(t, signature, 4);
    put(t + 4, 36 + size, 4);
    t[8] = revision;
    memcpy(t + 36, body, size);
    checksum(t, 36 + size, 9);
    return 36 + size;
}

/* RSDP revision 2 -> XSDT -> one table at TABLE_AT, whose body is the input. */
static void wrap(const char *signature, const uint8_t *body, size_t size)
{
    uint8_t *rsdp = Memory + RSDP_AT, entry[8];

    memset(Memory, 0, TABLE_AT);
    memcpy(rsdp, "RSD PTR ", 8);
    rsdp[15] = 2;
    put(rsdp + 20, 36, 4);
    put(rsdp + 24, BASE + XSDT_AT, 8);
    checksum(rsdp, 20, 8);
    checksum(rsdp, 36, 32);
    put(entry, BASE + TABLE_AT, 8);
    table(XSDT_AT, "XSDT", 1, entry, sizeof(entry));
    MemorySize = TABLE_AT + table(TABLE_AT, signature, signature[0] == 'F' ? 6 : 1, body, size);
}

static void check(int status, const struct acpi_info *info)
{
    if (info->cpu_count > ACPI_MAX_CPUS || info->ioapic_count > ACPI_MAX_IOAPICS ||
        info->override_count > ACPI_MAX_OVERRIDES || info->nmi_count > ACPI_MAX_NMIS)
        __builtin_trap();
    if (memchr(info->error, '\0', sizeof(info->error)) == NULL || (status != ACPI_OK && info->error[0] == '\0'))
        __builtin_trap();
    for (uint8_t irq = 0; irq < 16; irq++) {
        int low, level;
        acpi_isa_irq_to_gsi(info, irq, &low, &level);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size)
{
    static const char *const signatures[] = { "APIC", "FACP", "HPET" };
    static struct acpi_info info;

    if (Size == 0 || Size - 1 > MAX_INPUT)
        return 0;
    if (Data[0] % 4 == 3) {
        memcpy(Memory, Data + 1, Size - 1);
        MemorySize = Size - 1;
    } else {
        wrap(signatures[Data[0] % 4], Data + 1, Size - 1);
    }
    memset(&info, 0xa5, sizeof(info)); /* the parser must not rely on a zeroed result */
    check(acpi_parse(BASE + RSDP_AT, map, NULL, &info), &info);
    while (GrantCount)
        free(Grants[--GrantCount]);
    return 0;
}
