/*
 * paging.c - build the kernel's initial 4-level page tables (see paging.h).
 *
 * Intel SDM Vol. 3A 4.5 (4-level paging): intermediate entries are present
 * and writable with execution allowed, so the leaf alone decides W and NX.
 */
#include <cpuid.h>
#include <stddef.h>

#include "paging.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_PS (1ULL << 7) /* in a PD entry: a 2 MiB page */
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000ffffffffff000ULL

#define SHIFT_4K 12
#define SHIFT_2M 21
#define SHIFT_PD 30   /* one page directory covers 1 GiB */
#define SHIFT_PDPT 39 /* one PDPT covers 512 GiB */

#define MSR_EFER 0xC0000080u
#define EFER_NXE (1ULL << 11)
#define CPUID_NX (1u << 20)
#define CR4_LA57 (1ULL << 12)

static uint64_t *table_at(uint64_t phys)
{
    return (uint64_t *)(uintptr_t)phys;
}

/* 0 and a zeroed page in *page (physical 0 is a valid page), -1 when empty. */
static int take_page(struct irqlab_pt_pool *pool, uint64_t *page)
{
    uint64_t *t;

    if (pool->next >= pool->end)
        return -1;
    *page = pool->next;
    pool->next += IRQLAB_PAGE_SIZE;
    t = table_at(*page);
    for (int i = 0; i < 512; i++)
        t[i] = 0;
    return 0;
}

/* The entry for va in the table whose entries map 2^leaf_shift bytes,
   creating the tables above it; NULL when the pool is empty. */
static uint64_t *leaf_entry(struct irqlab_pt_pool *pool, uint64_t pml4, uint64_t va, int leaf_shift)
{
    uint64_t t = pml4;

    for (int shift = SHIFT_PDPT; shift > leaf_shift; shift -= 9) {
        uint64_t *e = &table_at(t)[(va >> shift) & 511];

        if (!(*e & PTE_P)) {
            uint64_t next;

            if (take_page(pool, &next) != 0)
                return NULL;
            *e = next | PTE_P | PTE_W;
        }
        t = *e & PTE_ADDR;
    }
    return &table_at(t)[(va >> leaf_shift) & 511];
}

/* Tables of coverage 2^shift touched by [va, va + len), len > 0. */
static uint64_t tables_for(uint64_t va, uint64_t len, int shift)
{
    return ((va + len - 1) >> shift) - (va >> shift) + 1;
}

static uint64_t range_tables(uint64_t va, uint64_t len, int leaf_shift)
{
    uint64_t n = 0;

    /* The tables holding the leaves cover 2^(leaf_shift + 9) bytes each. */
    for (int shift = leaf_shift + 9; shift <= SHIFT_PDPT; shift += 9)
        n += tables_for(va, len, shift);
    return n;
}

uint64_t irqlab_paging_map_end(uint64_t ram_top)
{
    uint64_t end;

    if (ram_top > IRQLAB_MAP_END_MAX)
        return 0;
    end = (ram_top + IRQLAB_LARGE_PAGE - 1) & ~(IRQLAB_LARGE_PAGE - 1);
    return end < IRQLAB_DIRECT_MAP_MIN ? IRQLAB_DIRECT_MAP_MIN : end;
}

uint64_t irqlab_paging_pages_needed(const struct irqlab_segment *seg, uint32_t count, uint64_t map_end)
{
    uint64_t n = 1; /* the PML4 */

    for (uint32_t i = 0; i < count; i++)
        n += range_tables(seg[i].vaddr, seg[i].size, SHIFT_4K);
    n += range_tables(0, map_end, SHIFT_2M);
    n += range_tables(IRQLAB_DIRECT_MAP_BASE, map_end, SHIFT_2M);
    return n;
}

static int map_segment(struct irqlab_pt_pool *pool, uint64_t pml4, const struct irqlab_segment *s, int nx)
{
    uint64_t flags = PTE_P;

    if (s->flags & IRQLAB_SEG_W)
        flags |= PTE_W;
    if (nx && !(s->flags & IRQLAB_SEG_X))
        flags |= PTE_NX;
    for (uint64_t off = 0; off < s->size; off += IRQLAB_PAGE_SIZE) {
        uint64_t *e = leaf_entry(pool, pml4, s->vaddr + off, SHIFT_4K);

        if (e == NULL)
            return -1;
        *e = (s->paddr + off) | flags;
    }
    return 0;
}

/* Physical [0, map_end) at va_base with 2 MiB pages. */
static int map_large(struct irqlab_pt_pool *pool, uint64_t pml4, uint64_t va_base, uint64_t map_end,
                     uint64_t flags)
{
    for (uint64_t pa = 0; pa < map_end; pa += IRQLAB_LARGE_PAGE) {
        uint64_t *e = leaf_entry(pool, pml4, va_base + pa, SHIFT_2M);

        if (e == NULL)
            return -1;
        *e = pa | flags | PTE_PS | PTE_P;
    }
    return 0;
}

int irqlab_paging_build(struct irqlab_pt_pool *pool, const struct irqlab_segment *seg, uint32_t count,
                        uint64_t map_end, int nx, uint64_t *pml4)
{
    uint64_t root;

    if (take_page(pool, &root) != 0)
        return -1;
    for (uint32_t i = 0; i < count; i++) {
        if (map_segment(pool, root, &seg[i], nx) != 0)
            return -1;
    }
    if (map_large(pool, root, IRQLAB_DIRECT_MAP_BASE, map_end, PTE_W | (nx ? PTE_NX : 0)) != 0)
        return -1;
    if (map_large(pool, root, 0, map_end, PTE_W) != 0)
        return -1;
    *pml4 = root;
    return 0;
}

int irqlab_cpu_has_nx(void)
{
    unsigned int a, b, c, d;

    /* __get_cpuid checks the highest extended leaf first. */
    if (!__get_cpuid(0x80000001, &a, &b, &c, &d))
        return 0;
    return (d & CPUID_NX) != 0;
}

static void enable_nx(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
    lo |= (uint32_t)EFER_NXE;
    __asm__ volatile("wrmsr" : : "a"(lo), "d"(hi), "c"(MSR_EFER) : "memory");
}

/* EFER.NXE first: with it clear, bit 63 in our tables is a reserved bit.
   The identity map keeps this code mapped across the CR3 switch. */
void irqlab_paging_enter(uint64_t pml4, int nx, uint64_t entry, uint64_t arg)
{
    if (nx)
        enable_nx();
    __asm__ volatile("mov %0, %%cr3\n\t"
                     "jmp *%1"
                     :
                     : "r"(pml4), "r"(entry), "D"(arg)
                     : "memory");
    __builtin_unreachable();
}

int irqlab_cpu_la57_active(void)
{
    uint64_t cr4;

    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    return (cr4 & CR4_LA57) != 0;
}
