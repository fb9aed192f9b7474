/*
 * memmap.h - the kernel's virtual layout every floor may rely on: the page
 * size and the direct map.  All physical memory is mapped at
 * IRQLAB_DIRECT_MAP_BASE (bootinfo.h), so a physical address p is reachable
 * at MmDirectMap(p); arch/ and the HAL use it below kernel/mm.
 */
#ifndef IRQLAB_MEMMAP_H
#define IRQLAB_MEMMAP_H

#include <irqlab/bootinfo.h>
#include <irqlab/nt.h>

#define PAGE_SIZE 4096
#define PAGE_SHIFT 12

static inline PVOID MmDirectMap(ULONG64 PhysicalAddress)
{
    return (PVOID)(IRQLAB_DIRECT_MAP_BASE + PhysicalAddress);
}

#endif
