# irqlab - see README.md.  `make run` boots it, `make test` tests it.

BUILD         ?= build
CROSS_COMPILE ?=
KCC           := $(CROSS_COMPILE)gcc
KLD           := $(CROSS_COMPILE)ld
KNM           := $(CROSS_COMPILE)nm
NASM          ?= nasm
HOSTCC        ?= cc
PYTHON        ?= python3
DBG           ?= 1
SMP           ?= 4
MEM           ?= 256M
ACCEL         ?= tcg
MACHINE       ?= q35
QDISPLAY      ?= none
CMDLINE       ?=
EXTRA_TESTS   ?=

OVMF_CODE := /usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS := /usr/share/OVMF/OVMF_VARS_4M.fd
export MTOOLS_SKIP_CHECK := 1

.DEFAULT_GOAL := all
DEPS_OK := $(BUILD)/.deps-ok

# ---- kernel ---------------------------------------------------------------
# How kernel code is compiled (Zydis too, below); KCFLAGS adds irqlab's warnings and headers.
KARCHFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-stack-protector \
	-fno-pic -fno-pie -mno-red-zone -mcmodel=kernel -mgeneral-regs-only \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-common -nostdinc -isystem $(shell $(KCC) -print-file-name=include)
KCFLAGS := $(KARCHFLAGS) -Wall -Wextra -Werror \
	-Iinclude -Iarch/x86_64/include -I$(BUILD) -DDBG=$(DBG) -MMD -MP
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --fatal-warnings -T linker.ld

KERNEL_C   := $(filter-out arch/x86_64/asm-offsets.c,$(wildcard arch/x86_64/*.c kernel/*/*.c)) \
	$(wildcard tests/kernel/*.c tests/bench/*.c)
KERNEL_ASM := $(wildcard arch/x86_64/*.asm)
KERNEL_S   := $(wildcard arch/x86_64/*.S)
EXTRA_C    := $(if $(EXTRA_TESTS),$(wildcard $(EXTRA_TESTS)/*.c))
KOBJS := $(KERNEL_C:%.c=$(BUILD)/k/%.o) $(KERNEL_ASM:%.asm=$(BUILD)/k/%.o) $(KERNEL_S:%.S=$(BUILD)/k/%.o) \
	$(patsubst %.c,$(BUILD)/extra/%.o,$(notdir $(EXTRA_C)))

$(BUILD)/k/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.o: %.asm $(BUILD)/asm-offsets.inc arch/x86_64/outermost.inc | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(NASM) -f elf64 -g -F dwarf -Werror -I$(BUILD)/ -Iarch/x86_64/ -o $@ $<

# GNU as, through the C preprocessor: the trap entry, for its .cfi directives (trapentry.S says why).
$(BUILD)/k/%.o: %.S $(BUILD)/asm-offsets.h | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -c $< -o $@

# C layouts that assembly uses, as NASM %defines and cpp #defines (see arch/x86_64/asm-offsets.c).
$(BUILD)/asm-offsets.inc $(BUILD)/asm-offsets.h &: arch/x86_64/asm-offsets.c arch/x86_64/trampoline.h \
		arch/x86_64/include/arch/trapframe.h | $(DEPS_OK)
	@mkdir -p $(BUILD)
	$(KCC) $(filter-out -MMD -MP,$(KCFLAGS)) -S -o $(BUILD)/asm-offsets.s $<
	sed -n 's/.*@@\([A-Z0-9_]*\) \([0-9]*\)@@.*/%define \1 \2/p' $(BUILD)/asm-offsets.s > $(BUILD)/asm-offsets.inc.tmp
	sed -n 's/.*@@\([A-Z0-9_]*\) \([0-9]*\)@@.*/#define \1 \2/p' $(BUILD)/asm-offsets.s > $(BUILD)/asm-offsets.h.tmp
	mv $(BUILD)/asm-offsets.inc.tmp $(BUILD)/asm-offsets.inc
	mv $(BUILD)/asm-offsets.h.tmp $(BUILD)/asm-offsets.h

$(BUILD)/extra/%.o: $(EXTRA_TESTS)/%.c | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/kernel/ke/version.o: $(BUILD)/version.h

# ---- Zydis: the console's disassembler (kernel/kd/disasm.c is its one user) --------------------
# Debian's zydis and zycore-c source packages, fetched by apt-get source into DEBSRC (a private apt
# state there) on the first build and kept; only the decoder and formatter are compiled, freestanding
# with the kernel's own flags and no libc (ZYAN_NO_LIBC: Zydis README, "kernel mode").
DEBSRC      ?= $(BUILD)/debsrc
ZYDIS_FILES := Decoder DecoderData Formatter FormatterBase FormatterIntel FormatterATT FormatterBuffer \
	Mnemonic Register SharedData String Utils
ZYDIS_DEFS  := -DZYAN_NO_LIBC -DZYDIS_STATIC_BUILD -DZYCORE_STATIC_BUILD \
	-isystem $(DEBSRC)/zydis/include -isystem $(DEBSRC)/zycore/include
ZYDIS_LIB   := $(BUILD)/zydis/libzydis.a

$(DEBSRC)/versions: tools/fetch-zydis.sh | $(DEPS_OK)
	@sh tools/fetch-zydis.sh $(DEBSRC)
	@touch $@

$(BUILD)/zydis/%.o: $(DEBSRC)/versions
	@mkdir -p $(dir $@)
	$(KCC) $(KARCHFLAGS) -Wall -Wextra $(ZYDIS_DEFS) -I$(DEBSRC)/zydis/src -c $(DEBSRC)/zydis/src/$*.c -o $@

$(ZYDIS_LIB): $(ZYDIS_FILES:%=$(BUILD)/zydis/%.o)
	rm -f $@
	$(CROSS_COMPILE)ar rcs $@ $^

$(BUILD)/k/kernel/kd/disasm.o: KCFLAGS += $(ZYDIS_DEFS)
$(BUILD)/k/kernel/kd/disasm.o: $(DEBSRC)/versions

# Rewritten only when the text changes, so an unchanged tree does not relink.
$(BUILD)/version.h: FORCE
	@mkdir -p $(BUILD)
	@v=$$(git describe --always --dirty --tags 2>/dev/null || echo unknown); \
	echo "#define IRQLAB_VERSION \"0.1.0-$$v\"" > $@.tmp; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Which out-of-tree test files are linked in: a change forces a relink.
$(BUILD)/extra.list: FORCE
	@mkdir -p $(BUILD)
	@echo "$(abspath $(EXTRA_C))" > $@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# Two links: the first one's symbols become the table embedded by the second.
$(BUILD)/ksyms0.c: tools/gensyms.py | $(DEPS_OK)
	$(PYTHON) tools/gensyms.py < /dev/null > $@

$(BUILD)/ksyms.c: $(BUILD)/kernel.pass1.elf tools/gensyms.py
	$(KNM) -n --defined-only $< | $(PYTHON) tools/gensyms.py > $@

$(BUILD)/ksyms0.o $(BUILD)/ksyms.o: $(BUILD)/%.o: $(BUILD)/%.c
	$(KCC) $(KCFLAGS) -c $< -o $@

$(BUILD)/kernel.pass1.elf: $(KOBJS) $(BUILD)/ksyms0.o $(ZYDIS_LIB) linker.ld $(BUILD)/extra.list
	$(KLD) $(KLDFLAGS) -o $@ $(KOBJS) $(BUILD)/ksyms0.o $(ZYDIS_LIB)

SYMS_STABLE = $(KNM) -n --defined-only $(1) | grep -v -e KiSymbol -e __KernelEnd
$(BUILD)/kernel.elf: $(BUILD)/kernel.pass1.elf $(BUILD)/ksyms.o
	$(KLD) $(KLDFLAGS) -o $@ $(KOBJS) $(BUILD)/ksyms.o $(ZYDIS_LIB)
	@$(call SYMS_STABLE,$<) > $@.syms1; $(call SYMS_STABLE,$@) > $@.syms2; \
	cmp -s $@.syms1 $@.syms2 || { echo "symbols moved between the two links" >&2; rm -f $@; exit 1; }

# ---- loader, ESP image ------------------------------------------------------
include boot/boot.mk

$(BUILD)/esp.img: $(LOADER_EFI) $(BUILD)/kernel.elf
	rm -f $@.tmp
	dd if=/dev/zero of=$@.tmp bs=1M count=33 status=none
	mformat -i $@.tmp -F ::
	mmd -i $@.tmp ::/EFI ::/EFI/BOOT ::/irqlab
	mcopy -i $@.tmp $(LOADER_EFI) ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i $@.tmp $(BUILD)/kernel.elf ::/irqlab/kernel.elf
	printf '\n' > $(BUILD)/cmdline.txt
	mcopy -i $@.tmp $(BUILD)/cmdline.txt ::/irqlab/cmdline.txt
	mv $@.tmp $@

# ---- host unit tests ----------------------------------------------------------
HOSTCFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Iinclude -Iboot -Itests/host
HOST_TESTS := $(BUILD)/host/test_printf $(BUILD)/host/test_list $(BUILD)/host/test_acpi $(HOST_ELF_TEST) \
	$(BUILD)/host/test_kbdxlat $(BUILD)/host/test_kdexpr

$(BUILD)/host/test_printf: tests/host/test_printf.c kernel/rtl/printf.c kernel/rtl/match.c tests/host/ktap.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $(filter %.c,$^)

$(BUILD)/host/test_acpi: tests/host/test_acpi.c arch/x86_64/acpi.c kernel/rtl/printf.c arch/x86_64/include/arch/acpi.h tests/host/ktap.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -Iarch/x86_64/include -o $@ $(filter %.c,$^)

$(BUILD)/host/test_list: tests/host/test_list.c include/irqlab/list.h tests/host/ktap.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $(filter %.c,$^)

$(BUILD)/host/test_kbdxlat: tests/host/test_kbdxlat.c kernel/io/kbdxlat.c kernel/io/kbdxlat.h tests/host/ktap.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -Ikernel/io -o $@ $(filter %.c,$^)

$(BUILD)/host/test_kdexpr: tests/host/test_kdexpr.c kernel/kd/kdexpr.c kernel/kd/kdexpr.h tests/host/ktap.h
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $(filter %.c,$^)

# ---- fuzzing: clang's libFuzzer on the pure parsers (make fuzz; not in make test) ----------
FUZZ_SECONDS ?= 30
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iinclude -Iboot -Iarch/x86_64/include -Ikernel/kd -Ikernel/io
FUZZERS := kdexpr acpi elf kbdxlat

$(BUILD)/fuzz/fuzz_kdexpr: tests/fuzz/fuzz_kdexpr.c kernel/kd/kdexpr.c kernel/kd/kdexpr.h
$(BUILD)/fuzz/fuzz_acpi: tests/fuzz/fuzz_acpi.c arch/x86_64/acpi.c kernel/rtl/printf.c arch/x86_64/include/arch/acpi.h
$(BUILD)/fuzz/fuzz_elf: tests/fuzz/fuzz_elf.c boot/elf.c boot/elf.h
$(BUILD)/fuzz/fuzz_kbdxlat: tests/fuzz/fuzz_kbdxlat.c kernel/io/kbdxlat.c kernel/io/kbdxlat.h
$(BUILD)/fuzz/fuzz_%:
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# ---- the two commands, and friends ---------------------------------------------
# QEMU's options; tools/run.sh adds the firmware, a private ESP copy and the serial console.
QEMU_BASE = -machine $(MACHINE) -accel $(ACCEL) -m $(MEM) -smp $(SMP) -nodefaults \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -display $(QDISPLAY)
RUN = IRQLAB_CMDLINE='$(CMDLINE)' sh tools/run.sh $(BUILD) $(OVMF_CODE) $(OVMF_VARS) $(QEMU_BASE)

# QEMU's status: 33 clean power-off, 35 tests failed, 37 bugcheck (docs/testing.md).
QEMU_STATUS = s=$$?; case $$s in 0|33) ;; 35) echo "irqlab: tests failed"; exit 1;; \
	37) echo "irqlab: the kernel bugchecked (report above)"; exit 1;; \
	*) echo "irqlab: qemu exited with status $$s"; exit 1;; esac

.PHONY: all run test labs bench stress fuzz debug image clean deps host-tests check-layers trace FORCE
all: $(BUILD)/esp.img

deps: $(DEPS_OK)
$(DEPS_OK): tools/deps.sh
	@sh tools/deps.sh
	@mkdir -p $(BUILD) && touch $@

# make run stops at the debugger's prompt on a bugcheck (kdbreak=bugcheck); the harness does not.
run: $(BUILD)/esp.img
	@sh tools/deps.sh display $(QDISPLAY)
	@echo "irqlab: QEMU $(MACHINE), $(SMP) CPUs, $(MEM), accel $(ACCEL)"
	@IRQLAB_CMDLINE='kdbreak=bugcheck $(CMDLINE)' sh tools/run.sh $(BUILD) $(OVMF_CODE) $(OVMF_VARS) $(QEMU_BASE); \
	$(QEMU_STATUS)

# QEMU halted (-S) with its gdb stub on :1234 (-s); tools/irqlab.gdb loads build/kernel.elf and
# tools/gdb/irqlab.py (nt pcr|prcb|dpcs|irql|thread).
debug: $(BUILD)/esp.img
	@sh tools/deps.sh display $(QDISPLAY)
	@echo "irqlab: QEMU halted with a gdb stub on :1234; in another terminal: gdb -x tools/irqlab.gdb"
	@IRQLAB_IDLE_TIMEOUT=0 $(RUN) -s -S; $(QEMU_STATUS)

host-tests: $(HOST_TESTS)

# The floors of docs/architecture.md, read from the includes; make test runs it too.
check-layers:
	@$(PYTHON) tools/check_layers.py

test: $(BUILD)/esp.img $(HOST_TESTS)
	$(PYTHON) tests/harness/irqlab_test.py --build $(BUILD) --smp $(SMP) --machine $(MACHINE)

labs: $(BUILD)/esp.img
	$(PYTHON) tests/harness/irqlab_test.py --build $(BUILD) --labs

stress: $(BUILD)/esp.img
	$(PYTHON) tests/harness/stress.py --build $(BUILD)

# A scenario recorded with the trace on: build/trace/<name>.json (Perfetto), .svg, .txt (docs/trace-format.md).
SCENARIO ?= keyboard
trace: $(BUILD)/esp.img
	$(PYTHON) tests/harness/tracerun.py --build $(BUILD) --scenario $(SCENARIO) $(if $(filter command line,$(origin SMP)),--smp $(SMP))

# Benchmarks measure the build users run for speed: DBG=0 in $(BUILD)/free, unless DBG is given.
BENCH_DBG   := $(if $(filter command line,$(origin DBG)),$(DBG),0)
BENCH_BUILD := $(if $(filter 0,$(BENCH_DBG)),$(BUILD)/free,$(BUILD))
bench:
	@$(MAKE) --no-print-directory BUILD=$(BENCH_BUILD) DBG=$(BENCH_DBG) DEBSRC=$(DEBSRC) $(BENCH_BUILD)/esp.img
	$(PYTHON) tests/harness/bench.py --build $(BENCH_BUILD) --smp $(SMP)

fuzz:
	@sh tools/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
	@sh tests/fuzz/run.sh $(BUILD)/fuzz $(FUZZ_SECONDS) $(FUZZERS)

image: $(BUILD)/esp.img
	@sh tools/deps.sh image
	sh tools/mkimage.sh $(BUILD)/esp.img $(BUILD)/irqlab.img

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/k $(BUILD)/extra -name '*.d' 2>/dev/null)
