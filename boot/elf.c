/*
 * elf.c - validate an ELF64 x86-64 kernel before the loader trusts any of it.
 *
 * The file comes from a disk anyone can write, so every field is checked and
 * every sum is checked for overflow before it is used as an offset or an
 * address.  Fields are assembled from bytes (little-endian) rather than read
 * through struct pointers: the buffer need not be aligned for them.
 */
#include "elf.h"

_Static_assert(sizeof(struct irqlab_elf64_ehdr) == 64, "ELF64 header is 64 bytes");
_Static_assert(sizeof(struct irqlab_elf64_phdr) == 56, "ELF64 program header is 56 bytes");

#define PAGE_MASK ((uint64_t)IRQLAB_ELF_PAGE - 1)
/* Highest address a segment may end at so that its page-rounded end fits. */
#define TOP_LIMIT (UINT64_MAX - PAGE_MASK)

#define EHDR_FIELD(f) offsetof(struct irqlab_elf64_ehdr, f)
#define PHDR_FIELD(f) offsetof(struct irqlab_elf64_phdr, f)

static uint64_t rd(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;

    while (bytes-- > 0)
        v = (v << 8) | p[bytes];
    return v;
}

static const char *check_ident(const uint8_t *f)
{
    if (f[0] != 0x7f || f[1] != 'E' || f[2] != 'L' || f[3] != 'F')
        return "bad magic";
    if (f[4] != IRQLAB_ELFCLASS64)
        return "not ELFCLASS64";
    if (f[5] != IRQLAB_ELFDATA2LSB)
        return "not little-endian";
    if (f[6] != IRQLAB_EV_CURRENT || rd(f + EHDR_FIELD(e_version), 4) != IRQLAB_EV_CURRENT)
        return "unknown ELF version";
    if (rd(f + EHDR_FIELD(e_machine), 2) != IRQLAB_EM_X86_64)
        return "not x86-64";
    if (rd(f + EHDR_FIELD(e_type), 2) != IRQLAB_ET_EXEC)
        return "not ET_EXEC";
    return NULL;
}

static void read_phdr(const uint8_t *p, struct irqlab_elf64_phdr *ph)
{
    ph->p_type = (uint32_t)rd(p + PHDR_FIELD(p_type), 4);
    ph->p_flags = (uint32_t)rd(p + PHDR_FIELD(p_flags), 4);
    ph->p_offset = rd(p + PHDR_FIELD(p_offset), 8);
    ph->p_vaddr = rd(p + PHDR_FIELD(p_vaddr), 8);
    ph->p_filesz = rd(p + PHDR_FIELD(p_filesz), 8);
    ph->p_memsz = rd(p + PHDR_FIELD(p_memsz), 8);
}

/* The checks that need only the segment itself and the file size. */
static const char *check_segment(const struct irqlab_elf64_phdr *ph, uint64_t size)
{
    if (ph->p_filesz > ph->p_memsz)
        return "filesz > memsz";
    if (ph->p_offset > size || ph->p_filesz > size - ph->p_offset)
        return "segment data outside the file";
    if (ph->p_vaddr < IRQLAB_KERNEL_BASE)
        return "segment below the kernel base";
    if (ph->p_vaddr > TOP_LIMIT || ph->p_memsz > TOP_LIMIT - ph->p_vaddr)
        return "segment wraps the address space";
    if ((ph->p_vaddr & PAGE_MASK) != (ph->p_offset & PAGE_MASK))
        return "misaligned segment";
    if ((ph->p_flags & IRQLAB_PF_W) && (ph->p_flags & IRQLAB_PF_X))
        return "segment both writable and executable";
    return NULL;
}

/*
 * Segments are mapped with per-page permissions, so two segments sharing a
 * page overlap even when their bytes do not.  check_segment() has made the
 * rounded ends safe from overflow.
 */
static int pages_overlap(const struct irqlab_elf_segment *a, const struct irqlab_elf_segment *b)
{
    uint64_t a_lo = a->vaddr & ~PAGE_MASK;
    uint64_t a_hi = (a->vaddr + a->memsz + PAGE_MASK) & ~PAGE_MASK;
    uint64_t b_lo = b->vaddr & ~PAGE_MASK;
    uint64_t b_hi = (b->vaddr + b->memsz + PAGE_MASK) & ~PAGE_MASK;

    return a_lo < b_hi && b_lo < a_hi;
}

static const char *add_segment(struct irqlab_elf_plan *plan, const struct irqlab_elf64_phdr *ph)
{
    struct irqlab_elf_segment s = {
        .vaddr = ph->p_vaddr,
        .offset = ph->p_offset,
        .filesz = ph->p_filesz,
        .memsz = ph->p_memsz,
        .flags = ph->p_flags & (IRQLAB_PF_R | IRQLAB_PF_W | IRQLAB_PF_X),
    };

    if (plan->count == IRQLAB_MAX_SEGMENTS)
        return "too many segments";
    for (uint32_t i = 0; i < plan->count; i++) {
        if (pages_overlap(&plan->seg[i], &s))
            return "overlapping segments";
    }
    plan->seg[plan->count++] = s;
    return NULL;
}

static const char *check_phdrs(const uint8_t *f, uint64_t size, struct irqlab_elf_plan *plan)
{
    uint64_t phoff = rd(f + EHDR_FIELD(e_phoff), 8);
    uint64_t phnum = rd(f + EHDR_FIELD(e_phnum), 2);
    uint64_t table = phnum * sizeof(struct irqlab_elf64_phdr); /* < 2^22: no overflow */

    if (rd(f + EHDR_FIELD(e_phentsize), 2) != sizeof(struct irqlab_elf64_phdr))
        return "unexpected program header size";
    if (phoff > size || table > size - phoff)
        return "program headers outside the file";
    for (uint64_t i = 0; i < phnum; i++) {
        struct irqlab_elf64_phdr ph;
        const char *why;

        read_phdr(f + phoff + i * sizeof(ph), &ph);
        if (ph.p_type != IRQLAB_PT_LOAD)
            continue;
        why = check_segment(&ph, size);
        if (why == NULL && ph.p_memsz != 0)
            why = add_segment(plan, &ph);
        if (why != NULL)
            return why;
    }
    return plan->count == 0 ? "no loadable segment" : NULL;
}

static const char *check_entry(const struct irqlab_elf_plan *plan)
{
    for (uint32_t i = 0; i < plan->count; i++) {
        const struct irqlab_elf_segment *s = &plan->seg[i];

        if ((s->flags & IRQLAB_PF_X) && plan->entry >= s->vaddr && plan->entry - s->vaddr < s->memsz)
            return NULL;
    }
    return "entry not in an executable segment";
}

int irqlab_elf_check(const void *image, uint64_t size, struct irqlab_elf_plan *plan, const char **why)
{
    const uint8_t *f = image;

    plan->count = 0;
    *why = NULL;
    if (size < sizeof(struct irqlab_elf64_ehdr))
        *why = "file too small for an ELF header";
    if (*why == NULL)
        *why = check_ident(f);
    if (*why == NULL)
        *why = check_phdrs(f, size, plan);
    if (*why == NULL) {
        plan->entry = rd(f + EHDR_FIELD(e_entry), 8);
        *why = check_entry(plan);
    }
    return *why == NULL ? 0 : -1;
}
