# gdb -x tools/irqlab.gdb  (after `make debug` in another terminal)
# The kernel's symbols; the loader's need `add-symbol-file build/boot/loader.so -o <base>`
# with the image base the loader prints.
set pagination off
file build/kernel.elf
target remote :1234
break KiSystemStartup
echo irqlab: stopped at the reset vector; `continue` runs to KiSystemStartup\n
