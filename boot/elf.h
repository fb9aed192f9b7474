/*
 * elf.h - ELF64 kernel image validation for the loader.
 *
 * Pure C (no UEFI, no libc): the loader and the host unit test
 * (tests/host/test_elf.c) compile the same code.  irqlab_elf_check() decides
 * whether a file is a kernel the loader can place and, if so, says where each
 * PT_LOAD segment goes.  The file is read byte by byte, so it may sit at any
 * alignment and any length; nothing is read outside [image, image + size).
 */
#ifndef IRQLAB_BOOT_ELF_H
#define IRQLAB_BOOT_ELF_H

#include <stddef.h>
#include <stdint.h>

#include <irqlab/bootinfo.h>

/* The on-disk layouts (System V gABI), little-endian. */
#define IRQLAB_EI_NIDENT 16
struct irqlab_elf64_ehdr {
    uint8_t e_ident[IRQLAB_EI_NIDENT];
    uint16_t e_type;
    uint16_t e_machine;
    uint32_t e_version;
    uint64_t e_entry;
    uint64_t e_phoff;
    uint64_t e_shoff;
    uint32_t e_flags;
    uint16_t e_ehsize;
    uint16_t e_phentsize;
    uint16_t e_phnum;
    uint16_t e_shentsize;
    uint16_t e_shnum;
    uint16_t e_shstrndx;
};

struct irqlab_elf64_phdr {
    uint32_t p_type;
    uint32_t p_flags;
    uint64_t p_offset;
    uint64_t p_vaddr;
    uint64_t p_paddr;
    uint64_t p_filesz;
    uint64_t p_memsz;
    uint64_t p_align;
};

#define IRQLAB_ELFCLASS64 2
#define IRQLAB_ELFDATA2LSB 1
#define IRQLAB_EV_CURRENT 1
#define IRQLAB_ET_EXEC 2
#define IRQLAB_EM_X86_64 62
#define IRQLAB_PT_LOAD 1
#define IRQLAB_PF_X 1u
#define IRQLAB_PF_W 2u
#define IRQLAB_PF_R 4u
#define IRQLAB_ELF_PAGE 4096u

/* One PT_LOAD segment as the file describes it (memsz > 0). */
struct irqlab_elf_segment {
    uint64_t vaddr;
    uint64_t offset; /* of the segment's first byte in the file */
    uint64_t filesz; /* bytes to copy from the file; the rest up to memsz is zero */
    uint64_t memsz;
    uint32_t flags; /* IRQLAB_PF_* */
};

/* What the loader must do; segments keep program-header order. */
struct irqlab_elf_plan {
    uint64_t entry;
    uint32_t count;
    struct irqlab_elf_segment seg[IRQLAB_MAX_SEGMENTS];
};

/*
 * Validate the ELF64 file image[0, size).  Returns 0 and fills *plan when it
 * is a loadable irqlab kernel; otherwise returns -1, sets *why to a short
 * static English reason ("bad magic", "overlapping segments", ...) and leaves
 * *plan unspecified.  PT_LOAD segments with memsz 0 occupy nothing and are
 * skipped; other program header types are ignored.
 */
int irqlab_elf_check(const void *image, uint64_t size, struct irqlab_elf_plan *plan, const char **why);

#endif
