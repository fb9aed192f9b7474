/*
 * test_elf.c - host unit test of the loader's ELF validation (boot/elf.c).
 *
 * Each case builds a kernel image in memory, usually by breaking one field
 * of a valid two-segment image, and checks the verdict and the reason.
 * Output is KTAP: one "ok N - elf.<case>" line per case; exit status 1 when
 * any case failed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "elf.h"

#define TEXT_VADDR 0xffffffff80100000ULL
#define DATA_VADDR 0xffffffff80102000ULL
#define IMAGE_SIZE 0x3000u
#define PHOFF 64u
#define MAX_PHDRS 12

/* A valid kernel: RX text at file 0x1000, RW data + bss at file 0x2000. */
struct image {
    struct irqlab_elf64_ehdr eh;
    struct irqlab_elf64_phdr ph[MAX_PHDRS];
    uint64_t size;
};

static uint8_t file[IMAGE_SIZE];
static int failures;
static int cases;

static struct irqlab_elf64_phdr load_phdr(uint64_t vaddr, uint64_t offset, uint64_t filesz, uint64_t memsz,
                                          uint32_t flags)
{
    struct irqlab_elf64_phdr ph = {
        .p_type = IRQLAB_PT_LOAD,
        .p_flags = flags,
        .p_offset = offset,
        .p_vaddr = vaddr,
        .p_paddr = vaddr,
        .p_filesz = filesz,
        .p_memsz = memsz,
        .p_align = 0x1000,
    };
    return ph;
}

static struct image valid_image(void)
{
    struct image im = {.size = IMAGE_SIZE};

    memcpy(im.eh.e_ident,
           "\x7f"
           "ELF",
           4);
    im.eh.e_ident[4] = IRQLAB_ELFCLASS64;
    im.eh.e_ident[5] = IRQLAB_ELFDATA2LSB;
    im.eh.e_ident[6] = IRQLAB_EV_CURRENT;
    im.eh.e_type = IRQLAB_ET_EXEC;
    im.eh.e_machine = IRQLAB_EM_X86_64;
    im.eh.e_version = IRQLAB_EV_CURRENT;
    im.eh.e_entry = TEXT_VADDR + 0x10;
    im.eh.e_phoff = PHOFF;
    im.eh.e_ehsize = sizeof(im.eh);
    im.eh.e_phentsize = sizeof(struct irqlab_elf64_phdr);
    im.eh.e_phnum = 2;
    im.ph[0] = load_phdr(TEXT_VADDR, 0x1000, 0x100, 0x100, IRQLAB_PF_R | IRQLAB_PF_X);
    im.ph[1] = load_phdr(DATA_VADDR, 0x2000, 0x10, 0x3000, IRQLAB_PF_R | IRQLAB_PF_W);
    return im;
}

/* Lay the headers out in the file at e_phoff (when it fits) and check it. */
static int run(const struct image *im, struct irqlab_elf_plan *plan, const char **why)
{
    memset(file, 0, sizeof(file));
    memcpy(file, &im->eh, sizeof(im->eh));
    if (im->eh.e_phoff <= IMAGE_SIZE - sizeof(im->ph))
        memcpy(file + im->eh.e_phoff, im->ph, sizeof(im->ph));
    return irqlab_elf_check(file, im->size, plan, why);
}

static void report(const char *name, int ok, const char *diag)
{
    cases++;
    printf("%sok %d - elf.%s\n", ok ? "" : "not ", cases, name);
    if (!ok) {
        printf("    # %s\n", diag);
        failures++;
    }
}

static void expect_reject(const char *name, const struct image *im, const char *reason)
{
    struct irqlab_elf_plan plan;
    const char *why = NULL;
    char diag[160];
    int rc = run(im, &plan, &why);

    snprintf(diag, sizeof(diag), "expected \"%s\", got rc %d, \"%s\"", reason, rc, why ? why : "(null)");
    report(name, rc != 0 && why != NULL && strcmp(why, reason) == 0, diag);
}

static void expect_accept(const char *name, const struct image *im, uint32_t count)
{
    struct irqlab_elf_plan plan;
    const char *why = NULL;
    char diag[160];
    int rc = run(im, &plan, &why);

    snprintf(diag, sizeof(diag), "expected accept with %u segments, got rc %d, \"%s\", count %u", count, rc,
             why ? why : "(null)", rc == 0 ? plan.count : 0);
    report(name, rc == 0 && why == NULL && plan.count == count, diag);
}

static void test_valid_plan(void)
{
    struct image im = valid_image();
    struct irqlab_elf_plan plan;
    const char *why;
    int ok = run(&im, &plan, &why) == 0 && plan.entry == TEXT_VADDR + 0x10 && plan.count == 2 &&
             plan.seg[0].vaddr == TEXT_VADDR && plan.seg[0].offset == 0x1000 && plan.seg[0].filesz == 0x100 &&
             plan.seg[0].memsz == 0x100 && plan.seg[0].flags == (IRQLAB_PF_R | IRQLAB_PF_X) &&
             plan.seg[1].vaddr == DATA_VADDR && plan.seg[1].filesz == 0x10 && plan.seg[1].memsz == 0x3000 &&
             plan.seg[1].flags == (IRQLAB_PF_R | IRQLAB_PF_W);

    report("valid_plan", ok, "plan does not match the program headers");
}

static void test_header_cases(void)
{
    struct image im;

    im = valid_image();
    im.size = 0;
    expect_reject("zero_size_file", &im, "file too small for an ELF header");
    im = valid_image();
    im.size = 63;
    expect_reject("truncated_header", &im, "file too small for an ELF header");
    im = valid_image();
    im.eh.e_ident[0] = 0x7e;
    expect_reject("bad_magic", &im, "bad magic");
    im = valid_image();
    im.eh.e_ident[4] = 1;
    expect_reject("wrong_class", &im, "not ELFCLASS64");
    im = valid_image();
    im.eh.e_ident[5] = 2;
    expect_reject("big_endian", &im, "not little-endian");
    im = valid_image();
    im.eh.e_version = 2;
    expect_reject("bad_version", &im, "unknown ELF version");
    im = valid_image();
    im.eh.e_machine = 3;
    expect_reject("wrong_machine", &im, "not x86-64");
    im = valid_image();
    im.eh.e_type = 3;
    expect_reject("not_exec", &im, "not ET_EXEC");
    im = valid_image();
    im.eh.e_phentsize = 32;
    expect_reject("bad_phentsize", &im, "unexpected program header size");
}

static void test_phdr_table_cases(void)
{
    struct image im;

    im = valid_image();
    im.eh.e_phnum = 0xffff;
    expect_reject("phdrs_past_eof", &im, "program headers outside the file");
    im = valid_image();
    im.eh.e_phoff = IMAGE_SIZE + 8;
    expect_reject("phoff_past_eof", &im, "program headers outside the file");
    im = valid_image();
    im.eh.e_phoff = UINT64_MAX - 10;
    expect_reject("phoff_overflow", &im, "program headers outside the file");
    im = valid_image();
    im.eh.e_phnum = 0;
    expect_reject("no_phdrs", &im, "no loadable segment");
    im = valid_image();
    im.ph[0].p_type = 4;
    im.ph[1].p_type = 0x6474e551;
    expect_reject("no_load_segment", &im, "no loadable segment");
    im = valid_image();
    im.eh.e_phoff = 0x41;
    expect_accept("unaligned_phoff", &im, 2);
    im = valid_image();
    im.eh.e_phnum = 3;
    im.ph[2] = load_phdr(0, UINT64_MAX, 0, 0, 7);
    im.ph[2].p_type = 0x6474e551; /* PT_GNU_STACK: ignored whatever it says */
    expect_accept("other_phdr_ignored", &im, 2);
    im = valid_image();
    im.eh.e_phnum = 3;
    im.ph[2] = load_phdr(DATA_VADDR + 0x4000, 0x2000, 0, 0, IRQLAB_PF_R);
    expect_accept("empty_segment_skipped", &im, 2);
}

static void test_segment_cases(void)
{
    struct image im;

    im = valid_image();
    im.ph[1].p_filesz = 0x3001;
    expect_reject("filesz_gt_memsz", &im, "filesz > memsz");
    im = valid_image();
    im.ph[1].p_offset = IMAGE_SIZE + 0x10;
    expect_reject("offset_past_eof", &im, "segment data outside the file");
    im = valid_image();
    im.ph[1].p_filesz = 0x1001;
    expect_reject("data_past_eof", &im, "segment data outside the file");
    im = valid_image();
    im.ph[1].p_offset = UINT64_MAX - 4;
    expect_reject("offset_overflow", &im, "segment data outside the file");
    im = valid_image();
    im.ph[0].p_vaddr = 0x100000;
    im.eh.e_entry = 0x100010;
    expect_reject("low_half_vaddr", &im, "segment below the kernel base");
    im = valid_image();
    im.ph[0].p_vaddr = IRQLAB_KERNEL_BASE - 0x1000;
    expect_reject("below_kernel_base", &im, "segment below the kernel base");
    im = valid_image();
    im.ph[1].p_vaddr = 0xfffffffffffff000ULL;
    expect_reject("vaddr_wraps", &im, "segment wraps the address space");
    im = valid_image();
    im.ph[1].p_memsz = UINT64_MAX - 0x100;
    expect_reject("memsz_overflow", &im, "segment wraps the address space");
    im = valid_image();
    im.ph[1].p_vaddr = DATA_VADDR + 0x10;
    expect_reject("misaligned", &im, "misaligned segment");
    im = valid_image();
    im.ph[1].p_flags |= IRQLAB_PF_X;
    expect_reject("wx_segment", &im, "segment both writable and executable");
}

static void test_layout_cases(void)
{
    struct image im;

    im = valid_image();
    im.ph[1].p_vaddr = TEXT_VADDR;
    im.ph[1].p_offset = 0x1000;
    expect_reject("overlapping", &im, "overlapping segments");
    im = valid_image();
    im.ph[1].p_vaddr = TEXT_VADDR + 0x100;
    im.ph[1].p_offset = 0x2100;
    expect_reject("overlap_same_page", &im, "overlapping segments");
    im = valid_image();
    im.ph[0].p_vaddr = DATA_VADDR + 0x2000;
    im.eh.e_entry = DATA_VADDR + 0x2010;
    expect_reject("overlap_in_bss", &im, "overlapping segments");
    im = valid_image();
    im.eh.e_entry = DATA_VADDR;
    expect_reject("entry_in_data", &im, "entry not in an executable segment");
    im = valid_image();
    im.eh.e_entry = TEXT_VADDR + 0x100;
    expect_reject("entry_past_text", &im, "entry not in an executable segment");
    im = valid_image();
    im.eh.e_entry = 0;
    expect_reject("entry_zero", &im, "entry not in an executable segment");

    im = valid_image();
    im.eh.e_phnum = IRQLAB_MAX_SEGMENTS + 1;
    for (uint32_t i = 2; i < IRQLAB_MAX_SEGMENTS + 1; i++)
        im.ph[i] = load_phdr(DATA_VADDR + 0x10000 * i, 0x2000, 0, 0x1000, IRQLAB_PF_R);
    expect_reject("too_many_segments", &im, "too many segments");
    im.eh.e_phnum = IRQLAB_MAX_SEGMENTS;
    expect_accept("max_segments", &im, IRQLAB_MAX_SEGMENTS);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep earlier results if a sanitizer aborts */
    printf("KTAP version 1\n");
    test_valid_plan();
    test_header_cases();
    test_phdr_table_cases();
    test_segment_cases();
    test_layout_cases();
    printf("1..%d\n", cases);
    return failures != 0;
}
