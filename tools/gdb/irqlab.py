"""irqlab.py - NT's views for gdb, read from the kernel's DWARF (gdb's Python API).

    (gdb) source tools/gdb/irqlab.py     # tools/irqlab.gdb does it after `make debug`
    (gdb) nt prcb [n] | nt pcr [n] | nt dpcs | nt irql [n] | nt thread [n]

Each command prints what the console's !prcb, !pcr, !dpcs, !irql and !thread print, for
processor n (default: the vCPU gdb has selected).  QEMU's gdb stub shows each vCPU as a thread
(QEMU docs, "GDB usage"); a processor's vCPU is the thread whose GS base is its KPCR, and its
IRQL is that vCPU's CR8, as KeGetCurrentIrql reads it.
"""
import gdb

IRQL_NAMES = ["PASSIVE_LEVEL", "APC_LEVEL", "DISPATCH_LEVEL", "DIRQL 3", "DIRQL 4", "DIRQL 5 (CMCI_LEVEL)",
              "DIRQL 6", "DIRQL 7", "DIRQL 8", "DIRQL 9", "DIRQL 10", "DIRQL 11", "SYNCH_LEVEL",
              "CLOCK_LEVEL", "IPI_LEVEL", "HIGH_LEVEL"]
THREAD_STATES = ["INITIALIZED", "READY", "RUNNING", "STANDBY", "TERMINATED", "WAIT", "TRANSITION",
                 "DEFERREDREADY"]
MAX_DPCS = 64  # as the console's snapshot, so a corrupt list cannot loop


def value(expression):
    return gdb.parse_and_eval(expression)


def gs_base():
    """QEMU gives gs_base as a signed 64-bit register: back to an address."""
    return int(value("$gs_base")) & 0xFFFFFFFFFFFFFFFF


def processors():
    return int(value("KeNumberProcessors"))


def prcb(n):
    if not 0 <= n < processors():
        raise gdb.GdbError(f"no processor {n}: {processors()} online")
    return value(f"KiProcessorBlock[{n}]").dereference()


def field_offset(type_name, name):
    return next(f.bitpos // 8 for f in gdb.lookup_type(type_name).fields() if f.name == name)


def pcr(n):
    """KPCR embeds its KPRCB (prcb.h): step back from KiProcessorBlock[n] by the member's offset."""
    address = int(prcb(n).address) - field_offset("KPCR", "Prcb")
    return gdb.Value(address).cast(gdb.lookup_type("KPCR").pointer()).dereference()


def vcpus():
    """{processor number: gdb thread}, matching each vCPU's GS base against the KPCRs."""
    bases = {int(pcr(n).address): n for n in range(processors())}
    selected, found = gdb.selected_thread(), {}
    try:
        for thread in gdb.selected_inferior().threads():
            thread.switch()
            base = gs_base()
            if base in bases:
                found[bases[base]] = thread
    finally:
        selected.switch()
    return found


def current_processor():
    base = gs_base()
    for n in range(processors()):
        if int(pcr(n).address) == base:
            return n
    raise gdb.GdbError("this vCPU's GS base is no processor's KPCR (still in the loader?)")


def processor_argument(argument):
    words = gdb.string_to_argv(argument)
    if len(words) > 1:
        raise gdb.GdbError("one processor number at most")
    return int(words[0], 16) if words else current_processor()  # hex, as WinDbg's !prcb 1a


def irql_of(n):
    thread = vcpus().get(n)
    if thread is None:
        raise gdb.GdbError(f"no vCPU has processor {n}'s KPCR in GS")
    selected = gdb.selected_thread()
    try:
        thread.switch()
        return int(value("$cr8")) & 0xF
    finally:
        selected.switch()


def symbol(address):
    """The console's form, irqlab!Name+0x1c; '' outside the image."""
    text = gdb.execute(f"info symbol {address:#x}", to_string=True).strip()
    if text.startswith("No symbol"):
        return ""
    name = text.split(" in section ")[0]
    if " + " in name:
        base, offset = name.split(" + ")
        return f"irqlab!{base}+{int(offset):#x}"
    return f"irqlab!{name}"


def dpc_queue(p):
    """[(type, KDPC address, routine)] of both of a KPRCB's queues, normal then threaded (dpc.c's order)."""
    kdpc = gdb.lookup_type("KDPC").pointer()
    link = field_offset("KDPC", "DpcListEntry")
    rows = []
    for index, kind in ((0, "Normal  "), (1, "Threaded")):
        entry = p["DpcData"][index]["DpcList"]["ListHead"]["Next"]
        while int(entry) and len(rows) < MAX_DPCS:
            dpc = gdb.Value(int(entry) - link).cast(kdpc).dereference()
            rows.append((kind, int(dpc.address), int(dpc["DeferredRoutine"])))
            entry = dpc["DpcListEntry"]["Next"]
    return rows


class Nt(gdb.Command):
    """NT's views of irqlab: nt pcr|prcb|dpcs|irql|thread [processor]."""

    def __init__(self):
        super().__init__("nt", gdb.COMMAND_DATA, prefix=True)


class NtPrcb(gdb.Command):
    """nt prcb [n]: the KPRCB summary of processor n, as the console's !prcb."""

    def __init__(self):
        super().__init__("nt prcb", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        n = processor_argument(argument)
        p = prcb(n)
        print(f"PRCB for Processor {n} at {int(p.address):016x}:")
        print(f"Current IRQL -- {irql_of(n)}")
        print(f"Threads--  Current {int(p['CurrentThread']):016x} Next {int(p['NextThread']):016x} "
              f"Idle {int(p['IdleThread']):016x}")
        print(f"Processor Index {int(p['Number'])} Number ({int(p['Group'])}, {int(p['GroupIndex'])}) "
              f"GroupSetMember {int(p['GroupSetMember']):x}")
        print(f"Interrupt Count -- {int(p['InterruptCount']):08x}")
        print(f"Times -- Dpc    {int(p['DpcTime']):08x} Interrupt {int(p['InterruptTime']):08x} ")
        print(f"         Kernel {int(p['KernelTime']):08x} User      {int(p['UserTime']):08x} ")


class NtPcr(gdb.Command):
    """nt pcr [n]: the KPCR of processor n, as the console's !pcr."""

    def __init__(self):
        super().__init__("nt pcr", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        n = processor_argument(argument)
        r = pcr(n)
        print(f"KPCR for Processor {n} at {int(r.address):016x}:")
        print(f"    Major {int(r['MajorVersion'])} Minor {int(r['MinorVersion'])}")
        for label, name in (("SelfPcr", "Self"), ("Prcb", "CurrentPrcb")):
            print(f"\t{label:>19}: {int(r[name]):016x}")
        print(f"\t{'Irql':>19}: {irql_of(n):016x}")
        for label, name in (("IDT", "IdtBase"), ("GDT", "GdtBase"), ("TSS", "TssBase")):
            print(f"\t{label:>19}: {int(r[name]):016x}")
        print()
        for name in ("CurrentThread", "NextThread", "IdleThread"):
            print(f"\t{name:>19}: {int(r['Prcb'][name]):016x}")
        print()
        rows = dpc_queue(r["Prcb"])
        print(f"\t{'DpcQueue':>18}: " + ("" if rows else "\n"), end="")
        for i, (_, dpc, routine) in enumerate(rows):
            print(f"{chr(9) + ' ' * 20 if i else ''}0x{dpc:016x} 0x{routine:016x} {symbol(routine)}")


class NtDpcs(gdb.Command):
    """nt dpcs [n]: the queued DPCs of every processor (or one), as the console's !dpcs."""

    def __init__(self):
        super().__init__("nt dpcs", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        chosen = [processor_argument(argument)] if argument.strip() else range(processors())
        print("CPU Type      KDPC               Function")
        rows = 0
        for n in chosen:
            for kind, dpc, routine in dpc_queue(prcb(n)):
                print(f"{n:2}: {kind}: 0x{dpc:016x} 0x{routine:016x} {symbol(routine)}")
                rows += 1
        if rows == 0:
            print("No DPCs queued")


class NtIrql(gdb.Command):
    """nt irql [n]: each processor's IRQL (its vCPU's CR8), as the console's !irql."""

    def __init__(self):
        super().__init__("nt irql", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        chosen = [processor_argument(argument)] if argument.strip() else range(processors())
        for n in chosen:
            irql = irql_of(n)
            print(f"Debugger saved IRQL for processor 0x{n:x} -- {irql} ({IRQL_NAMES[irql]})")


class NtThread(gdb.Command):
    """nt thread [n]: the thread processor n runs, as the first lines of the console's !thread."""

    def __init__(self):
        super().__init__("nt thread", gdb.COMMAND_DATA)

    def invoke(self, argument, from_tty):
        n = processor_argument(argument)
        t = prcb(n)["CurrentThread"].dereference()
        state = int(t["State"])
        print(f"THREAD {int(t.address):016x}  {THREAD_STATES[state] if state < len(THREAD_STATES) else '?'} "
              f"on processor {int(t['NextProcessor'])}")
        print(f"    Priority {int(t['Priority'])} BasePriority {int(t['BasePriority'])}  Quantum "
              f"{int(t['QuantumTarget'])} of {int(t['QuantumReset'])}  ContextSwitches {int(t['ContextSwitches'])}"
              f"  KernelTime {int(t['KernelTime'])} ticks")
        print(f"    Affinity {int(t['Affinity']['Mask']):x}  Stack {int(t['StackLimit']):016x} - "
              f"{int(t['StackBase']):016x}  Process {int(t['Process']):016x}")


for command in (Nt, NtPrcb, NtPcr, NtDpcs, NtIrql, NtThread):
    command()
