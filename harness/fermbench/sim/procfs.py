"""The text of /proc files that tools read, in the kernel's formats: /proc/cpuinfo (arm64: one
block per core with the Cortex part numbers of the phone's clusters; x86 for an x86 costume)
and /proc/meminfo (`Name:` padded to 16 columns, the value in kB right-aligned in 8)."""

from __future__ import annotations

# A Pixel 7's Tensor G2: 4 Cortex-A55, 2 Cortex-A78, 2 Cortex-X1 (ARM part numbers).
_ARM_PARTS = ("0xd05",) * 4 + ("0xd41",) * 2 + ("0xd44",) * 2
_ARM_FEATURES = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"


def cpuinfo(abi: str, cores: int) -> str:
    if abi.startswith("x86"):
        return "".join(
            f"processor\t: {i}\nvendor_id\t: fermbench\nmodel name\t: fermbench simulated CPU (the host runs the models)\n"
            f"cpu cores\t: {cores}\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx avx2\n\n"
            for i in range(cores)
        )
    blocks = []
    for i in range(cores):
        part = _ARM_PARTS[i * len(_ARM_PARTS) // cores]
        blocks.append(
            f"processor\t: {i}\nBogoMIPS\t: 49.15\nFeatures\t: {_ARM_FEATURES}\n"
            f"CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: {'0x2' if part == '0xd05' else '0x1'}\n"
            f"CPU part\t: {part}\nCPU revision\t: 0\n\n"
        )
    return "".join(blocks)


MEMINFO_KB = (
    ("MemTotal", 7901820),
    ("MemFree", 812344),
    ("MemAvailable", 3934212),
    ("Buffers", 4068),
    ("Cached", 3166576),
    ("SwapCached", 21344),
    ("Active", 2430912),
    ("Inactive", 2592004),
    ("Unevictable", 194136),
    ("Mlocked", 194136),
    ("SwapTotal", 4194300),
    ("SwapFree", 3405436),
    ("Dirty", 1036),
    ("Writeback", 0),
    ("AnonPages", 1978136),
    ("Mapped", 1241284),
    ("Shmem", 35012),
    ("Slab", 421368),
    ("KernelStack", 81648),
    ("PageTables", 146104),
    ("CommitLimit", 8145208),
    ("Committed_AS", 150417128),
    ("VmallocTotal", 262930368),
    ("VmallocUsed", 178408),
)


def meminfo() -> str:
    return "".join(f"{name + ':':<16}{kb:>8} kB\n" for name, kb in MEMINFO_KB)
