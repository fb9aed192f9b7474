/*
 * mmu.c - the kernel's own page tables (4-level, 4 KiB and 2 MiB pages).
 *
 * Replaces the loader's tables at boot: the kernel image mapped segment by
 * segment with W^X (text RX, rodata R, data/bss RW+NX), the direct map of
 * physical memory RW+NX, no identity map, and kernel stacks in their own
 * region, each above an unmapped guard page so an overflow faults at once.
 * Pages for tables and stacks come from the allocator the caller hands
 * arch_mmu_init (kernel/mm); running out is reported, never fatal here.
 */
#include <arch/arch.h>
#include <irqlab/bootinfo.h>
#include <irqlab/memmap.h>

#define ADDR_MASK 0x000ffffffffff000ull
#define LARGE_PAGE (2ull << 20)

static ULONG64 MiNxBit;
static ULONG64 (*MiAllocatePage)(void);
static ULONG64 MiStackNext = ARCH_STACK_BASE;

static ULONG64 *table_at(ULONG64 pa)
{
    return (ULONG64 *)MmDirectMap(pa & ADDR_MASK);
}

static unsigned index_of(ULONG64 va, int level)
{
    return (va >> (12 + 9 * level)) & 511;
}

/* The table below entry `e`, allocating it if absent (intermediate entries are permissive); NULL when out of pages. */
static ULONG64 *next_table(ULONG64 *e)
{
    if (!(*e & ARCH_PTE_PRESENT)) {
        ULONG64 pa = MiAllocatePage();
        if (pa == 0)
            return NULL;
        *e = pa | ARCH_PTE_PRESENT | ARCH_PTE_WRITE;
    }
    return table_at(*e);
}

/* Maps one page of the given size (level 0: 4 KiB, level 1: 2 MiB); FALSE when out of pages. */
static BOOLEAN map(ULONG64 pml4, ULONG64 va, ULONG64 pa, ULONG64 flags, int level)
{
    ULONG64 *t = table_at(pml4);

    for (int l = 3; l > level && t != NULL; l--)
        t = next_table(&t[index_of(va, l)]);
    if (t == NULL)
        return FALSE;
    t[index_of(va, level)] = pa | flags | (level ? ARCH_PTE_LARGE : 0);
    return TRUE;
}

static ULONG64 direct_map_end(const struct irqlab_bootinfo *bi)
{
    const struct irqlab_mem_range *r = MmDirectMap(bi->memmap);
    ULONG64 end = IRQLAB_DIRECT_MAP_MIN;

    /* RAM-like ranges only: 64-bit MMIO windows are mapped when a driver asks. */
    for (uint32_t i = 0; i < bi->memmap_count; i++) {
        ULONG64 top = r[i].base + r[i].pages * PAGE_SIZE;
        if (r[i].type != IRQLAB_MEM_MMIO && top > end)
            end = top;
    }
    return (end + LARGE_PAGE - 1) & ~(LARGE_PAGE - 1);
}

BOOLEAN arch_mmu_init(const struct irqlab_bootinfo *bi, ULONG64 (*allocate_page)(void))
{
    MiAllocatePage = allocate_page;
    ULONG64 pml4 = MiAllocatePage();
    ULONG64 end = direct_map_end(bi);
    BOOLEAN ok = pml4 != 0;

    /* arch_cpu_init set CR0.WP, and EFER.NXE where the CPU has NX: W^X holds for ring 0 too. */
    MiNxBit = (arch_rdmsr(ARCH_MSR_EFER) & ARCH_EFER_NXE) ? ARCH_PTE_NX : 0;
    for (ULONG64 pa = 0; ok && pa < end; pa += LARGE_PAGE)
        ok = map(pml4, IRQLAB_DIRECT_MAP_BASE + pa, pa, ARCH_PTE_PRESENT | ARCH_PTE_WRITE | MiNxBit, 1);
    for (uint32_t s = 0; s < bi->segment_count; s++) {
        const struct irqlab_segment *seg = &bi->segments[s];
        ULONG64 flags = ARCH_PTE_PRESENT;
        if (seg->flags & IRQLAB_SEG_W)
            flags |= ARCH_PTE_WRITE;
        if (!(seg->flags & IRQLAB_SEG_X))
            flags |= MiNxBit;
        for (ULONG64 off = 0; ok && off < seg->size; off += PAGE_SIZE)
            ok = map(pml4, seg->vaddr + off, seg->paddr + off, flags, 0);
    }
    if (!ok)
        return FALSE; /* the loader's tables stay: the caller reports it */
    arch_write_cr3(pml4);
    return TRUE;
}

ULONG64 arch_mmu_map_stack(ULONG pages)
{
    ULONG64 base = MiStackNext + PAGE_SIZE; /* the page below stays unmapped: the guard */
    ULONG64 pml4 = arch_read_cr3() & ADDR_MASK;

    for (ULONG i = 0; i < pages; i++) {
        ULONG64 pa = MiAllocatePage();
        if (pa == 0 || !map(pml4, base + i * PAGE_SIZE, pa, ARCH_PTE_PRESENT | ARCH_PTE_WRITE | MiNxBit, 0))
            return 0;
    }
    MiStackNext = base + pages * PAGE_SIZE;
    return MiStackNext;
}

/* Unmaps one 4 KiB page of a stack; its physical address, or 0 if it was not mapped.  Stack
 * addresses are never handed out again, so no other CPU's TLB can bring the page back. */
ULONG64 arch_mmu_unmap_page(ULONG64 va)
{
    ULONG64 *t = table_at(arch_read_cr3());

    for (int level = 3; level > 0; level--) {
        ULONG64 e = t[index_of(va, level)];
        if (!(e & ARCH_PTE_PRESENT) || (e & ARCH_PTE_LARGE))
            return 0;
        t = table_at(e);
    }
    ULONG64 pte = t[index_of(va, 0)];
    if (!(pte & ARCH_PTE_PRESENT))
        return 0;
    t[index_of(va, 0)] = 0;
    arch_invlpg(va);
    return pte & ADDR_MASK;
}

ULONG64 arch_mmu_query(ULONG64 va)
{
    ULONG64 *t = table_at(arch_read_cr3());

    if ((ULONG64)((int64_t)(va << 16) >> 16) != va) /* non-canonical: never mapped */
        return 0;
    for (int level = 3; level >= 0; level--) {
        ULONG64 e = t[index_of(va, level)];
        if (!(e & ARCH_PTE_PRESENT))
            return 0;
        if (level == 0 || (level < 3 && (e & ARCH_PTE_LARGE)))
            return e;
        t = table_at(e);
    }
    return 0;
}

ULONG64 arch_mmu_translate(ULONG64 va)
{
    ULONG64 *t = table_at(arch_read_cr3());

    if ((ULONG64)((int64_t)(va << 16) >> 16) != va)
        return 0;
    for (int level = 3; level >= 0; level--) {
        ULONG64 e = t[index_of(va, level)];
        ULONG64 span = 1ull << (12 + 9 * level); /* what one entry of this level maps */
        if (!(e & ARCH_PTE_PRESENT))
            return 0;
        if (level == 0 || (level < 3 && (e & ARCH_PTE_LARGE)))
            return (e & ADDR_MASK & ~(span - 1)) | (va & (span - 1));
        t = table_at(e);
    }
    return 0;
}

BOOLEAN arch_mmu_nx_enabled(void)
{
    return MiNxBit != 0;
}
