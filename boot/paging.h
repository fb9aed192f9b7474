/*
 * paging.h - the kernel's first 4-level page tables, built by the loader.
 *
 * Three regions, each in its own PML4 slots so they never share a table:
 *   - every kernel segment at its link address, 4 KiB pages, writable only if
 *     the segment is, no-execute unless it is executable (W^X per segment);
 *   - the direct map: physical [0, map_end) at IRQLAB_DIRECT_MAP_BASE, 2 MiB
 *     pages, read-write, no-execute;
 *   - an identity map of the same range, executable, so that the loader's own
 *     code survives the CR3 switch; the kernel drops it.
 * NX bits are written only when the CPU has NX; irqlab_paging_enter() then
 * sets EFER.NXE before it loads CR3.  No EFI headers: tables are plain pages that
 * the loader allocates and that are identity mapped while it runs.
 */
#ifndef IRQLAB_BOOT_PAGING_H
#define IRQLAB_BOOT_PAGING_H

#include <stdint.h>

#include <irqlab/bootinfo.h>

#define IRQLAB_PAGE_SIZE 4096ULL
#define IRQLAB_LARGE_PAGE 0x200000ULL
/* Identity map in PML4[0..255], direct map from PML4[256]: each <= 64 TiB. */
#define IRQLAB_MAP_END_MAX 0x400000000000ULL

/* Zeroed-on-demand pages for the tables: [next, end), physical = virtual. */
struct irqlab_pt_pool {
    uint64_t next;
    uint64_t end;
};

/* The end of the direct and identity maps for RAM ending at ram_top:
   rounded up to 2 MiB, at least IRQLAB_DIRECT_MAP_MIN; 0 when ram_top is
   beyond IRQLAB_MAP_END_MAX (the two maps would collide). */
uint64_t irqlab_paging_map_end(uint64_t ram_top);

/* An upper bound on the table pages irqlab_paging_build() takes. */
uint64_t irqlab_paging_pages_needed(const struct irqlab_segment *seg, uint32_t count, uint64_t map_end);

/* Build the tables from pool for a map_end from irqlab_paging_map_end() and
   store their physical root (for CR3) in *pml4.  Returns 0, or -1 when the pool runs dry. */
int irqlab_paging_build(struct irqlab_pt_pool *pool, const struct irqlab_segment *seg, uint32_t count,
                        uint64_t map_end, int nx, uint64_t *pml4);

/* CPUID 0x80000001 EDX bit 20. */
int irqlab_cpu_has_nx(void);
/* CR4.LA57: the firmware runs 5-level paging, which 4-level tables cannot replace. */
int irqlab_cpu_la57_active(void);

/* With interrupts off: set EFER.NXE (MSR 0xC0000080 bit 11) if nx, load CR3
   with pml4 and jump to entry with RDI = arg.  Runs from identity-mapped code. */
__attribute__((noreturn)) void irqlab_paging_enter(uint64_t pml4, int nx, uint64_t entry, uint64_t arg);

#endif
