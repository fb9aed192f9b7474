/*
 * probe.c - reading memory at an address nobody vouches for (the
 * debugger's dd, dt, !pcr n): MmIsAddressValid walks the page tables, and
 * MmCopyMemory copies page by page with arch_copy_safe, whose faults the
 * trap handler turns into a short copy instead of a bugcheck.
 */
#include <arch/arch.h>
#include <irqlab/mm.h>

BOOLEAN MmIsAddressValid(PVOID VirtualAddress)
{
    return arch_mmu_query((ULONG64)VirtualAddress) != 0; /* 0 also for non-canonical addresses */
}

ULONG64 MmGetPhysicalAddress(PVOID VirtualAddress)
{
    return arch_mmu_translate((ULONG64)VirtualAddress);
}

NTSTATUS MmCopyMemory(PVOID TargetAddress, MM_COPY_ADDRESS SourceAddress, SIZE_T NumberOfBytes, ULONG Flags,
                      PSIZE_T NumberOfBytesTransferred)
{
    ULONG64 source = (ULONG64)SourceAddress.VirtualAddress;
    SIZE_T done = 0;

    if (Flags == MM_COPY_MEMORY_PHYSICAL)
        source = (ULONG64)MmDirectMap((ULONG64)SourceAddress.PhysicalAddress.QuadPart);
    else if (Flags != MM_COPY_MEMORY_VIRTUAL)
        return STATUS_INVALID_PARAMETER;
    while (done < NumberOfBytes) {
        ULONG64 at = source + done;
        if (at < source) /* wrapped past the top of the address space */
            break;
        SIZE_T chunk = PAGE_SIZE - (at & (PAGE_SIZE - 1));
        if (chunk > NumberOfBytes - done)
            chunk = NumberOfBytes - done;
        if (!MmIsAddressValid((PVOID)at))
            break;
        SIZE_T left = arch_copy_safe((char *)TargetAddress + done, (const void *)at, chunk);
        done += chunk - left;
        if (left)
            break;
    }
    *NumberOfBytesTransferred = done;
    return done == NumberOfBytes ? STATUS_SUCCESS : STATUS_PARTIAL_COPY;
}
