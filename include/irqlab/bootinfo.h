/*
 * bootinfo.h - the one record the loader hands to the kernel.
 *
 * The loader (boot/, a UEFI application) fills it in, exits boot services and
 * jumps to the kernel entry with RDI = physical address of this record.  The
 * kernel knows nothing of UEFI: everything it needs from the firmware is here,
 * as physical addresses and plain integers.  Bump IRQLAB_BOOTINFO_VERSION on
 * any layout change; the kernel refuses a record whose magic, version or size
 * it does not know.
 */
#ifndef IRQLAB_BOOTINFO_H
#define IRQLAB_BOOTINFO_H

#include <stdint.h>

#define IRQLAB_BOOTINFO_MAGIC   0x4f464e4942514952ULL /* "RIQBINFO" little-endian */
#define IRQLAB_BOOTINFO_VERSION 1

/* Virtual layout shared by loader and kernel (x86-64, 4-level paging). */
#define IRQLAB_DIRECT_MAP_BASE  0xffff800000000000ULL /* phys p is at base + p */
#define IRQLAB_KERNEL_BASE      0xffffffff80000000ULL /* -mcmodel=kernel: top 2 GiB */
#define IRQLAB_DIRECT_MAP_MIN   0x100000000ULL        /* map at least 4 GiB (MMIO) */

/* Where the loader finds the kernel and its command line on the ESP. */
#define IRQLAB_KERNEL_PATH  L"\\irqlab\\kernel.elf"
#define IRQLAB_CMDLINE_PATH L"\\irqlab\\cmdline.txt"

#define IRQLAB_CMDLINE_MAX  512 /* bytes, including the terminating NUL */
#define IRQLAB_MAX_SEGMENTS 8

/* Memory range types: UEFI's types folded into what a kernel cares about. */
enum irqlab_mem_type {
    IRQLAB_MEM_USABLE = 1,       /* free RAM (conventional, boot services code/data) */
    IRQLAB_MEM_LOADER = 2,       /* kernel image, page tables, this record: in use */
    IRQLAB_MEM_ACPI_RECLAIM = 3, /* ACPI tables: keep until parsed */
    IRQLAB_MEM_ACPI_NVS = 4,
    IRQLAB_MEM_RESERVED = 5,     /* firmware reserved, runtime services, unusable */
    IRQLAB_MEM_MMIO = 6,
    IRQLAB_MEM_PERSISTENT = 7,
};

struct irqlab_mem_range {
    uint64_t base;  /* physical, 4 KiB aligned */
    uint64_t pages; /* 4 KiB pages */
    uint32_t type;  /* enum irqlab_mem_type */
    uint32_t efi_type; /* the firmware's own type, for diagnostics */
};

/* One PT_LOAD segment as the loader placed it. */
#define IRQLAB_SEG_X 1u
#define IRQLAB_SEG_W 2u
#define IRQLAB_SEG_R 4u
struct irqlab_segment {
    uint64_t vaddr; /* page aligned */
    uint64_t paddr; /* page aligned, physically contiguous */
    uint64_t size;  /* bytes, rounded up to pages */
    uint32_t flags; /* IRQLAB_SEG_* (from p_flags) */
    uint32_t reserved;
};

enum irqlab_fb_format {
    IRQLAB_FB_NONE = 0,
    IRQLAB_FB_RGBX = 1, /* byte 0 red */
    IRQLAB_FB_BGRX = 2, /* byte 0 blue */
};

struct irqlab_framebuffer {
    uint64_t base; /* physical; 0 when there is no GOP */
    uint64_t size;
    uint32_t width, height;
    uint32_t pixels_per_scanline;
    uint32_t format; /* enum irqlab_fb_format */
};

struct irqlab_bootinfo {
    uint64_t magic;   /* IRQLAB_BOOTINFO_MAGIC */
    uint32_t version; /* IRQLAB_BOOTINFO_VERSION */
    uint32_t size;    /* sizeof(struct irqlab_bootinfo) */

    uint64_t memmap;       /* phys address of struct irqlab_mem_range[memmap_count] */
    uint32_t memmap_count; /* sorted by base, non-overlapping */
    uint32_t segment_count;
    struct irqlab_segment segments[IRQLAB_MAX_SEGMENTS];

    uint64_t kernel_entry;   /* virtual, from e_entry */
    uint64_t loader_pml4;    /* phys address of the page tables in CR3 at entry */
    uint64_t direct_map_end; /* phys limit the loader's direct map covers */

    uint64_t rsdp;          /* phys address of the ACPI RSDP, 0 if none */
    uint32_t rsdp_revision; /* 0 = ACPI 1.0 (RSDT only), 2 = ACPI 2.0+ (XSDT) */
    uint32_t reserved0;

    struct irqlab_framebuffer fb;

    uint64_t loader_image_base; /* where UEFI loaded BOOTX64.EFI (for gdb) */
    uint64_t boot_tsc;          /* rdtsc just before the jump to the kernel */

    char cmdline[IRQLAB_CMDLINE_MAX]; /* NUL terminated, no trailing newline */
};

#endif
