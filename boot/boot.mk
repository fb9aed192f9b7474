# boot/boot.mk - the UEFI loader (BOOTX64.EFI) and its host unit test.
#
# Included by the top Makefile, which defines BUILD and the rule for
# $(BUILD)/version.h.  Paths are relative to the repository root.  gnu-efi
# builds a position-independent ELF shared object; objcopy turns it into the
# PE32+ application the firmware loads.

BUILD ?= build
HOSTCC ?= cc

LOADER_EFI    := $(BUILD)/boot/BOOTX64.EFI
HOST_ELF_TEST := $(BUILD)/host/test_elf

BOOT_CC      ?= gcc
BOOT_LD      ?= ld
BOOT_OBJCOPY ?= objcopy
BOOT_EFI_INC ?= /usr/include/efi
BOOT_EFI_LIB ?= /usr/lib

BOOT_SRCS := $(wildcard boot/*.c)
BOOT_OBJS := $(patsubst boot/%.c,$(BUILD)/boot/%.o,$(BOOT_SRCS))
BOOT_SO   := $(BUILD)/boot/loader.so

BOOT_CFLAGS := -fpic -ffreestanding -fno-stack-protector -fshort-wchar -mno-red-zone \
	-maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI -Wall -Wextra -Werror -O2 -MMD -MP \
	-I include -I $(BUILD) -I $(BOOT_EFI_INC) -I $(BOOT_EFI_INC)/x86_64

BOOT_LDFLAGS := -nostdlib -znocombreloc -T $(BOOT_EFI_LIB)/elf_x86_64_efi.lds -shared \
	-Bsymbolic -L $(BOOT_EFI_LIB)

# The sections a PE image needs; .rodata and .bss live inside .data (see the .lds).
BOOT_SECTIONS := -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	-j .rel.* -j .rela.* -j .reloc

HOST_TEST_CFLAGS := -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -I include -I boot

$(BUILD)/boot/%.o: boot/%.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(BOOT_CC) $(BOOT_CFLAGS) -c $< -o $@

# The banner shares the kernel's version string, written by the top Makefile.
$(BUILD)/boot/loader.o: $(BUILD)/version.h

$(BOOT_SO): $(BOOT_OBJS)
	$(BOOT_LD) $(BOOT_LDFLAGS) $(BOOT_EFI_LIB)/crt0-efi-x86_64.o $^ -o $@ -lefi -lgnuefi

$(LOADER_EFI): $(BOOT_SO)
	$(BOOT_OBJCOPY) $(BOOT_SECTIONS) --target efi-app-x86_64 --subsystem=10 $< $@

$(HOST_ELF_TEST): tests/host/test_elf.c boot/elf.c boot/elf.h include/irqlab/bootinfo.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_TEST_CFLAGS) tests/host/test_elf.c boot/elf.c -o $@

-include $(BOOT_OBJS:.o=.d)
