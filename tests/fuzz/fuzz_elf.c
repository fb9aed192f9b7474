/*
 * fuzz_elf.c - libFuzzer on the loader's kernel-file check (boot/elf.c):
 * any bytes are refused with a reason, or give a plan whose segments lie
 * inside the file, do not wrap and do not overlap.
 */
#include <stddef.h>
#include <stdint.h>
#include "elf.h"

static void check_plan(const struct irqlab_elf_plan *Plan, uint64_t Size)
{
    if (Plan->count == 0 || Plan->count > IRQLAB_MAX_SEGMENTS)
        __builtin_trap();
    for (uint32_t i = 0; i < Plan->count; i++) {
        const struct irqlab_elf_segment *s = &Plan->seg[i];
        if (s->filesz > s->memsz || s->offset > Size || s->filesz > Size - s->offset)
            __builtin_trap();
        if (s->vaddr + s->memsz < s->vaddr) /* wraps */
            __builtin_trap();
        for (uint32_t j = 0; j < i; j++) {
            const struct irqlab_elf_segment *t = &Plan->seg[j];
            if (s->vaddr < t->vaddr + t->memsz && t->vaddr < s->vaddr + s->memsz)
                __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *Data, size_t Size)
{
    struct irqlab_elf_plan plan;
    const char *why = NULL;

    if (irqlab_elf_check(Data, Size, &plan, &why) == 0)
        check_plan(&plan, Size);
    else if (why == NULL || why[0] == '\0')
        __builtin_trap();
    return 0;
}
