/*
 * loader.c - irqlab's UEFI loader (BOOTX64.EFI).
 *
 * Reads \irqlab\kernel.elf from the volume it was loaded from, places the
 * kernel's segments, builds its page tables, gathers what the kernel needs
 * from the firmware into one struct irqlab_bootinfo, exits boot services and
 * jumps to the kernel with RDI = the record's physical address.  Every
 * failure before ExitBootServices prints "irqlab loader: error: <what>" and
 * returns an error status to the firmware.  UEFI identity-maps memory, so a
 * physical address is also a pointer while the loader runs.
 */
#include <efi.h>
#include <efilib.h>

#include <irqlab/bootinfo.h>

#include "elf.h"
#include "paging.h"
#include "version.h" /* IRQLAB_VERSION, in $(BUILD), written by the Makefile */

/* UEFI 2.10 7.2: types 0x80000000-0xFFFFFFFF belong to the OS loader; the
   kernel sees them as IRQLAB_MEM_LOADER, memory it must keep. */
#define LOADER_MEMORY_TYPE 0x80000001u
#define EFI_PERSISTENT_MEMORY 14 /* EfiPersistentMemory (UEFI 2.5), newer than gnu-efi */
#define PAGE_SIZE 4096u
#define MAP_SLACK_DESCRIPTORS 32 /* the map grows as we allocate after sizing it */
#define EXIT_TRIES 4

_Static_assert(IRQLAB_SEG_R == IRQLAB_PF_R && IRQLAB_SEG_W == IRQLAB_PF_W && IRQLAB_SEG_X == IRQLAB_PF_X,
               "segment flags pass through from p_flags");

struct loader {
    EFI_HANDLE image;
    UINT64 image_base;
    EFI_FILE_HANDLE root;
    struct irqlab_bootinfo *bi;
    struct irqlab_elf_plan plan;
    int nx;
    UINT8 *efi_map; /* EFI_MEMORY_DESCRIPTORs, desc_size apart */
    UINTN map_capacity, map_size, map_key, desc_size;
    UINT32 desc_version;
    struct irqlab_mem_range *ranges;
    UINTN range_capacity;
};

static EFI_STATUS fail(EFI_STATUS status, const CHAR16 *fmt, ...)
{
    va_list args;

    Print(L"irqlab loader: error: ");
    va_start(args, fmt);
    VPrint(fmt, args);
    va_end(args);
    Print(L"\n");
    return EFI_ERROR(status) ? status : EFI_LOAD_ERROR;
}

static UINTN pages_for(UINT64 bytes)
{
    return (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
}

/* Zeroed pages of type `type`; their physical address in *phys. */
static EFI_STATUS alloc_pages(UINT32 type, UINTN pages, UINT64 *phys)
{
    EFI_PHYSICAL_ADDRESS pa = 0;
    EFI_STATUS s = BS->AllocatePages(AllocateAnyPages, (EFI_MEMORY_TYPE)type, pages, &pa);

    if (!EFI_ERROR(s)) {
        ZeroMem((void *)(UINTN)pa, pages * PAGE_SIZE);
        *phys = pa;
    }
    return s;
}

static EFI_STATUS open_volume(struct loader *ld)
{
    EFI_LOADED_IMAGE *li;
    EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
    EFI_STATUS s = BS->HandleProtocol(ld->image, &LoadedImageProtocol, (void **)&li);

    if (EFI_ERROR(s))
        return fail(s, L"no loaded-image protocol: %r", s);
    ld->image_base = (UINT64)(UINTN)li->ImageBase;
    Print(L"irqlab loader %a, image base 0x%lx\n", IRQLAB_VERSION, ld->image_base);
    s = BS->HandleProtocol(li->DeviceHandle, &FileSystemProtocol, (void **)&fs);
    if (EFI_ERROR(s))
        return fail(s, L"no file system on the boot volume: %r", s);
    s = fs->OpenVolume(fs, &ld->root);
    if (EFI_ERROR(s))
        return fail(s, L"cannot open the boot volume: %r", s);
    return EFI_SUCCESS;
}

/* The whole file in a pool buffer (one spare byte, so an empty file has one). */
static EFI_STATUS read_file(struct loader *ld, const CHAR16 *path, UINT8 **data, UINT64 *size)
{
    EFI_FILE_HANDLE f;
    EFI_FILE_INFO *info;
    UINT64 done = 0;
    EFI_STATUS s = ld->root->Open(ld->root, &f, (CHAR16 *)path, EFI_FILE_MODE_READ, 0);

    if (EFI_ERROR(s))
        return s;
    info = LibFileInfo(f);
    *size = info ? info->FileSize : 0;
    *data = info ? AllocatePool(*size + 1) : NULL;
    if (*data == NULL) /* LibFileInfo does not say why it failed */
        s = info ? EFI_OUT_OF_RESOURCES : EFI_DEVICE_ERROR;
    if (info != NULL)
        FreePool(info);
    while (!EFI_ERROR(s) && done < *size) {
        UINTN n = *size - done;

        s = f->Read(f, &n, *data + done);
        if (!EFI_ERROR(s) && n == 0)
            s = EFI_END_OF_FILE; /* shorter than its directory entry says */
        done += n;
    }
    f->Close(f);
    if (EFI_ERROR(s) && *data != NULL)
        FreePool(*data);
    return s;
}

/* Copy filesz bytes of each segment into fresh zeroed pages. */
static EFI_STATUS place_segments(struct loader *ld, const UINT8 *file)
{
    for (UINT32 i = 0; i < ld->plan.count; i++) {
        const struct irqlab_elf_segment *e = &ld->plan.seg[i];
        struct irqlab_segment *out = &ld->bi->segments[i];
        UINT64 lead = e->vaddr % PAGE_SIZE; /* elf.c: no overflow below */
        UINTN pages = pages_for(lead + e->memsz);
        EFI_STATUS s = alloc_pages(LOADER_MEMORY_TYPE, pages, &out->paddr);

        if (EFI_ERROR(s))
            return fail(s, L"%s: segment at 0x%lx (%ld pages): %r", IRQLAB_KERNEL_PATH, e->vaddr,
                        (UINT64)pages, s);
        CopyMem((void *)(UINTN)(out->paddr + lead), (void *)(file + e->offset), e->filesz);
        out->vaddr = e->vaddr - lead;
        out->size = (UINT64)pages * PAGE_SIZE;
        out->flags = e->flags; /* IRQLAB_SEG_* == IRQLAB_PF_*, asserted above */
    }
    ld->bi->segment_count = ld->plan.count;
    ld->bi->kernel_entry = ld->plan.entry;
    return EFI_SUCCESS;
}

static EFI_STATUS load_kernel(struct loader *ld)
{
    UINT8 *file;
    UINT64 size;
    const char *why;
    EFI_STATUS s = read_file(ld, IRQLAB_KERNEL_PATH, &file, &size);

    if (EFI_ERROR(s))
        return fail(s, L"%s: %r", IRQLAB_KERNEL_PATH, s);
    if (irqlab_elf_check(file, size, &ld->plan, &why) != 0)
        s = fail(EFI_LOAD_ERROR, L"%s: %a", IRQLAB_KERNEL_PATH, why);
    else
        s = place_segments(ld, file);
    FreePool(file);
    return s;
}

/* Control characters become spaces; trailing spaces go. */
static UINT64 clean_cmdline(char *dst, const UINT8 *src, UINT64 n, UINT64 max)
{
    UINT64 len = 0, kept = 0;

    for (UINT64 i = 0; i < n; i++) {
        char c = (src[i] < 0x20 || src[i] == 0x7f) ? ' ' : (char)src[i];

        if (c != ' ')
            kept = i + 1;
        if (len < max)
            dst[len++] = c;
    }
    while (len > 0 && dst[len - 1] == ' ')
        len--;
    dst[len] = '\0';
    return kept;
}

static EFI_STATUS load_cmdline(struct loader *ld)
{
    UINT8 *text;
    UINT64 size, kept;
    EFI_STATUS s = read_file(ld, IRQLAB_CMDLINE_PATH, &text, &size);

    if (s == EFI_NOT_FOUND)
        return EFI_SUCCESS; /* optional */
    if (EFI_ERROR(s))
        return fail(s, L"%s: %r", IRQLAB_CMDLINE_PATH, s);
    kept = clean_cmdline(ld->bi->cmdline, text, size, IRQLAB_CMDLINE_MAX - 1);
    FreePool(text);
    if (kept > IRQLAB_CMDLINE_MAX - 1)
        Print(L"irqlab loader: %s: truncated to %d bytes\n", IRQLAB_CMDLINE_PATH, IRQLAB_CMDLINE_MAX - 1);
    Print(L"irqlab loader: cmdline \"%a\"\n", ld->bi->cmdline);
    return EFI_SUCCESS;
}

static UINT64 config_table(EFI_GUID guid)
{
    for (UINTN i = 0; i < ST->NumberOfTableEntries; i++) {
        EFI_CONFIGURATION_TABLE *t = &ST->ConfigurationTable[i];

        if (CompareGuid(&t->VendorGuid, &guid) == 0)
            return (UINT64)(UINTN)t->VendorTable;
    }
    return 0;
}

static void find_rsdp(struct irqlab_bootinfo *bi)
{
    bi->rsdp = config_table((EFI_GUID)ACPI_20_TABLE_GUID);
    bi->rsdp_revision = 2;
    if (bi->rsdp == 0) {
        bi->rsdp = config_table((EFI_GUID)ACPI_TABLE_GUID);
        bi->rsdp_revision = 0;
    }
}

/* Only the two 32-bit formats the kernel draws on; anything else is "none". */
static void find_framebuffer(struct irqlab_framebuffer *fb)
{
    EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
    EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info;

    if (EFI_ERROR(BS->LocateProtocol(&GraphicsOutputProtocol, NULL, (void **)&gop)) || gop->Mode == NULL ||
        gop->Mode->Info == NULL)
        return;
    info = gop->Mode->Info;
    if (info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor)
        fb->format = IRQLAB_FB_RGBX;
    else if (info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor)
        fb->format = IRQLAB_FB_BGRX;
    else
        return;
    fb->base = gop->Mode->FrameBufferBase;
    fb->size = gop->Mode->FrameBufferSize;
    fb->width = info->HorizontalResolution;
    fb->height = info->VerticalResolution;
    fb->pixels_per_scanline = info->PixelsPerScanLine;
}

static const EFI_MEMORY_DESCRIPTOR *descriptor(const struct loader *ld, UINTN i)
{
    return (const EFI_MEMORY_DESCRIPTOR *)(ld->efi_map + i * ld->desc_size);
}

static EFI_STATUS get_map(struct loader *ld)
{
    ld->map_size = ld->map_capacity;
    return BS->GetMemoryMap(&ld->map_size, (EFI_MEMORY_DESCRIPTOR *)ld->efi_map, &ld->map_key, &ld->desc_size,
                            &ld->desc_version);
}

/* Buffers for the map and its converted copy, sized once with slack:
   nothing may be allocated between the last GetMemoryMap and the exit. */
static EFI_STATUS alloc_map_buffers(struct loader *ld)
{
    UINT64 pa;
    EFI_STATUS s;

    ld->map_capacity = 0;
    s = get_map(ld);
    if (s != EFI_BUFFER_TOO_SMALL)
        return fail(s, L"GetMemoryMap: %r", s);
    ld->map_capacity = ld->map_size + MAP_SLACK_DESCRIPTORS * ld->desc_size;
    s = alloc_pages(EfiLoaderData, pages_for(ld->map_capacity), &pa);
    if (EFI_ERROR(s))
        return fail(s, L"memory map buffer: %r", s);
    ld->efi_map = (UINT8 *)(UINTN)pa;
    ld->range_capacity = ld->map_capacity / ld->desc_size;
    s = alloc_pages(LOADER_MEMORY_TYPE, pages_for(ld->range_capacity * sizeof(struct irqlab_mem_range)), &pa);
    if (EFI_ERROR(s))
        return fail(s, L"memory range array: %r", s);
    ld->ranges = (struct irqlab_mem_range *)(UINTN)pa;
    ld->bi->memmap = pa;
    s = get_map(ld);
    return EFI_ERROR(s) ? fail(s, L"GetMemoryMap: %r", s) : EFI_SUCCESS;
}

/* The end of memory the kernel may want through its direct map: RAM of any
   kind and the framebuffer; MMIO and reserved ranges do not raise it. */
static UINT64 memory_top(const struct loader *ld)
{
    UINT64 top = ld->bi->fb.base + ld->bi->fb.size;

    for (UINTN i = 0; i < ld->map_size / ld->desc_size; i++) {
        const EFI_MEMORY_DESCRIPTOR *d = descriptor(ld, i);
        UINT64 end = d->PhysicalStart + d->NumberOfPages * PAGE_SIZE;

        if (d->Type != EfiReservedMemoryType && d->Type != EfiMemoryMappedIO &&
            d->Type != EfiMemoryMappedIOPortSpace && end > top)
            top = end;
    }
    return top;
}

static EFI_STATUS build_page_tables(struct loader *ld)
{
    struct irqlab_bootinfo *bi = ld->bi;
    UINT64 map_end = irqlab_paging_map_end(memory_top(ld));
    UINT64 pages, pa;
    struct irqlab_pt_pool pool;
    EFI_STATUS s;

    if (map_end == 0)
        return fail(EFI_UNSUPPORTED, L"memory reaches past the 64 TiB direct map");
    pages = irqlab_paging_pages_needed(bi->segments, bi->segment_count, map_end);
    s = alloc_pages(LOADER_MEMORY_TYPE, pages, &pa);
    if (EFI_ERROR(s))
        return fail(s, L"page tables (%ld pages): %r", pages, s);
    pool.next = pa;
    pool.end = pa + pages * PAGE_SIZE;
    ld->nx = irqlab_cpu_has_nx();
    if (irqlab_paging_build(&pool, bi->segments, bi->segment_count, map_end, ld->nx, &bi->loader_pml4) != 0)
        return fail(EFI_OUT_OF_RESOURCES, L"page tables: pool of %ld pages too small", pages);
    bi->direct_map_end = map_end;
    return EFI_SUCCESS;
}

static UINT32 range_type(UINT32 efi_type)
{
    switch (efi_type) {
    case EfiConventionalMemory:
    case EfiBootServicesCode:
    case EfiBootServicesData:
    case EfiLoaderCode:
    case EfiLoaderData:
        return IRQLAB_MEM_USABLE;
    case LOADER_MEMORY_TYPE:
        return IRQLAB_MEM_LOADER;
    case EfiACPIReclaimMemory:
        return IRQLAB_MEM_ACPI_RECLAIM;
    case EfiACPIMemoryNVS:
        return IRQLAB_MEM_ACPI_NVS;
    case EfiMemoryMappedIO:
    case EfiMemoryMappedIOPortSpace:
        return IRQLAB_MEM_MMIO;
    case EFI_PERSISTENT_MEMORY:
        return IRQLAB_MEM_PERSISTENT;
    default:
        return IRQLAB_MEM_RESERVED;
    }
}

/* Insertion sort by base: maps hold a few hundred entries at most. */
static void insert_sorted(struct irqlab_mem_range *r, UINT32 n, const EFI_MEMORY_DESCRIPTOR *d)
{
    UINT32 j = n;

    for (; j > 0 && r[j - 1].base > d->PhysicalStart; j--)
        r[j] = r[j - 1];
    r[j].base = d->PhysicalStart;
    r[j].pages = d->NumberOfPages;
    r[j].type = range_type(d->Type);
    r[j].efi_type = d->Type;
}

/*
 * Runs after ExitBootServices: no firmware calls.  Adjacent ranges of the
 * same irqlab type merge; a merged range keeps the efi_type of its first part.
 */
static UINT32 convert_map(const struct loader *ld)
{
    struct irqlab_mem_range *r = ld->ranges;
    UINT32 n = 0, merged = 1;

    for (UINTN i = 0; i < ld->map_size / ld->desc_size && n < ld->range_capacity; i++) {
        if (descriptor(ld, i)->NumberOfPages != 0)
            insert_sorted(r, n++, descriptor(ld, i));
    }
    if (n == 0)
        return 0;
    for (UINT32 i = 1; i < n; i++) {
        struct irqlab_mem_range *last = &r[merged - 1];

        if (last->type == r[i].type && last->base + last->pages * PAGE_SIZE == r[i].base)
            last->pages += r[i].pages;
        else
            r[merged++] = r[i];
    }
    return merged;
}

static void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

/*
 * UEFI 2.10 7.4: ExitBootServices fails with EFI_INVALID_PARAMETER when the
 * map changed since GetMemoryMap; after a first failed call only
 * GetMemoryMap may be used, so there is no console to report a final
 * failure on.  That one case halts the CPU instead of returning.
 */
static void exit_boot_services(struct loader *ld)
{
    for (int tries = 1;; tries++) {
        if (BS->ExitBootServices(ld->image, ld->map_key) == EFI_SUCCESS)
            break;
        if (tries == EXIT_TRIES || EFI_ERROR(get_map(ld)))
            halt_forever();
    }
    __asm__ volatile("cli"); /* the firmware's interrupt handlers went with boot services */
}

static UINT64 rdtsc(void)
{
    UINT32 lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((UINT64)hi << 32) | lo;
}

static EFI_STATUS prepare(struct loader *ld)
{
    UINT64 pa;
    EFI_STATUS s;

    s = open_volume(ld);
    if (EFI_ERROR(s))
        return s;
    if (irqlab_cpu_la57_active())
        return fail(EFI_UNSUPPORTED, L"5-level paging is on; irqlab builds 4-level tables");
    s = alloc_pages(LOADER_MEMORY_TYPE, pages_for(sizeof(struct irqlab_bootinfo)), &pa);
    if (EFI_ERROR(s))
        return fail(s, L"boot record: %r", s);
    ld->bi = (struct irqlab_bootinfo *)(UINTN)pa;
    ld->bi->magic = IRQLAB_BOOTINFO_MAGIC;
    ld->bi->version = IRQLAB_BOOTINFO_VERSION;
    ld->bi->size = sizeof(struct irqlab_bootinfo);
    ld->bi->loader_image_base = ld->image_base;
    s = load_kernel(ld);
    if (!EFI_ERROR(s))
        s = load_cmdline(ld);
    if (EFI_ERROR(s))
        return s;
    find_rsdp(ld->bi);
    find_framebuffer(&ld->bi->fb);
    s = alloc_map_buffers(ld);
    return EFI_ERROR(s) ? s : build_page_tables(ld);
}

/* Not EFIAPI: gnu-efi's crt0 (_start) calls efi_main with the SysV ABI. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
    static struct loader ld;
    EFI_STATUS s;

    InitializeLib(image, systab);
    ld.image = image;
    s = prepare(&ld);
    if (EFI_ERROR(s))
        return s;
    Print(L"irqlab loader: entering kernel at 0x%lx, boot record at 0x%lx\n", ld.bi->kernel_entry,
          (UINT64)(UINTN)ld.bi);
    s = get_map(&ld);
    if (EFI_ERROR(s))
        return fail(s, L"GetMemoryMap: %r", s);
    exit_boot_services(&ld);
    ld.bi->memmap_count = convert_map(&ld);
    ld.bi->boot_tsc = rdtsc();
    irqlab_paging_enter(ld.bi->loader_pml4, ld.nx, ld.bi->kernel_entry, (UINT64)(UINTN)ld.bi);
}
