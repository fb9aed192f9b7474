# gdb -x tools/irqlab.gdb  (after `make debug` in another terminal; BUILD=build)
# The kernel's symbols and NT's views (tools/gdb/irqlab.py: nt pcr|prcb|dpcs|irql|thread [n]);
# the loader's symbols need `add-symbol-file build/boot/loader.so -o <base>` with the image base
# the loader prints.  QEMU shows each vCPU as a thread: `info threads`, `thread 2`.
set pagination off
file build/kernel.elf
source tools/gdb/irqlab.py
target remote :1234
break KdConsoleLoop
echo irqlab: stopped at the reset vector; `continue` runs to the console (KdConsoleLoop), then try nt prcb 0, nt irql, nt dpcs, bt\n
