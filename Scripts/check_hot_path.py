#!/usr/bin/env python3
"""Reads the disassembly of the release HotPathProbe binary and checks the dispatch path
and the value ring's write path.

Starting from the probe functions, follows every direct call and tail jump into the
binary's own code and fails on anything that takes a lock, allocates, touches a reference
count or calls into a library. Indirect calls are the device's own method and are counted,
not followed. A control probe that does retain must be flagged, or the check proves nothing.
"""
import re
import subprocess
import sys

ROOTS = [
    "concurrentbus_probe_write", "concurrentbus_probe_read",
    "concurrentbus_probe_write_qsbr", "concurrentbus_probe_read_qsbr",
]
CONTROL = "concurrentbus_probe_control_retains"
# The ring device's write, called directly so its machine code is walked (through the bus
# it is an indirect call). Besides the cold paths above it may make exactly one system
# call, the consumer's eventfd wakeup, and only from inside value_ring_wake.
RING_ROOT = "concurrentbus_probe_ring_write"
RING_COLD = {
    # A thread's first ring write takes a producer slot under a lock: once per thread.
    "value_ring_claim_slot": "producer slot claim, once per thread",
    # A slot's first write to a ring allocates its lane: once per (thread slot, ring).
    "value_ring_install_lane": "lane allocation, once per producer slot and ring",
    # A write as another vCPU than the lane's latest record pushes a label record first:
    # once per ring for a thread that always writes as one vCPU.
    "value_ring_label": "label record, when a lane's vCPU index changes",
}
RING_SYSCALLS = {
    ("value_ring_wake", "write@plt"): "the eventfd wakeup: a lane went from empty to non-empty",
    ("value_ring_wake", "__errno_location@plt"): "retrying that write(2) on EINTR",
}
# Reached from the read path but not per access, each for a stated reason.
COLD = {
    # First read-side section of a thread nobody registered: once per thread.
    "curcu_memb_register_lazily": "lazy reader registration, once per thread",
    # liburcu's read_unlock wakes a writer that is blocked in synchronize_rcu on this
    # reader: only at the end of a section a grace period was waiting for, never per access.
    "futex_async": "liburcu wakes a writer sleeping in synchronize_rcu",
    # A thread's first statistics update picks its counter shard: once per thread.
    "chost_assign_thread_shard": "counter shard assignment, once per thread",
    # QSBR's loud failure: a read on a thread that is not a registered, online QSBR reader
    # would be unprotected, so it aborts the process with a message; never returns.
    "curcu_qsbr_die_not_online": "QSBR read on a thread not registered and online: aborts",
}
FORBIDDEN = re.compile(
    r"retain|release|alloc|free|lock|mutex|rwlock|spin|futex|syscall|beginAccess|dispatch_|"
    r"swift_once|swift_getGenericMetadata|swift_dynamicCast",
    re.IGNORECASE,
)
CALL = re.compile(r"\b(call|jmp)q?\s+(0x[0-9a-f]+)\s+<([^>]+)>")
INDIRECT = re.compile(r"\bcallq?\s+\*")


def symbol_sizes(binary):
    """Each function symbol's size: objdump runs a symbol on into whatever unnamed code the
    linker placed after it (for example a metadata-cache helper), which is not its code."""
    text = subprocess.run(
        ["llvm-nm", "-S", "--defined-only", binary],
        check=True, capture_output=True, text=True,
    ).stdout
    sizes = {}
    for line in text.splitlines():
        fields = line.split(maxsplit=3)
        if len(fields) == 4:
            sizes[fields[3]] = int(fields[1], 16)
    return sizes


def parse(binary):
    sizes = symbol_sizes(binary)
    text = subprocess.run(
        ["llvm-objdump", "-d", "--no-show-raw-insn", binary],
        check=True, capture_output=True, text=True,
    ).stdout
    functions, name, end = {}, None, None
    for line in text.splitlines():
        header = re.match(r"^([0-9a-f]+) <(.+)>:$", line)
        if header:
            name = header.group(2)
            functions[name] = []
            size = sizes.get(name)
            end = int(header.group(1), 16) + size if size else None
        elif name and line.strip():
            address = re.match(r"^\s*([0-9a-f]+):", line)
            if end is None or (address and int(address.group(1), 16) < end):
                functions[name].append(line)
    return functions, sizes


def walk(program, root, extra_cold=None, allowed_calls=None):
    """Follows every direct call from root; extra_cold names more functions not followed,
    allowed_calls (caller, target) pairs that are permitted where forbidden otherwise."""
    functions, sizes = program
    extra_cold, allowed_calls = extra_cold or {}, allowed_calls or {}
    problems, seen, indirect, cold = [], set(), 0, set()
    stack = [root]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name not in functions:
            problems.append(f"{name}: not found in the binary")
            continue
        for line in functions[name]:
            if INDIRECT.search(line):
                indirect += 1
                continue
            match = CALL.search(line)
            if not match:
                continue
            target = match.group(3)
            if "+0x" in target:
                base, offset = target.split("+0x")
                if base in sizes and int(offset, 16) >= sizes[base]:
                    problems.append(f"{name} calls unnamed code past the end of {base}")
                continue  # a branch inside a function
            if target in COLD or target in extra_cold:
                cold.add(target)
            elif (name, target) in allowed_calls:
                cold.add(target)
            elif target.endswith("@plt"):
                problems.append(f"{name} calls {target}")
            elif FORBIDDEN.search(target):
                problems.append(f"{name} calls {target}")
            else:
                stack.append(target)
    return problems, seen, indirect, cold


def main():
    binary = sys.argv[1]
    program = parse(binary)
    failed = False
    for root in ROOTS:
        problems, seen, indirect, cold = walk(program, root)
        print(f"{root}: {len(seen)} function(s) on the path, "
              f"{indirect} indirect call(s) (the device's own method)")
        for name in sorted(cold):
            print(f"  allowed off the per-access path: {name} ({COLD[name]})")
        for problem in problems:
            print(f"  FORBIDDEN: {problem}")
        failed |= bool(problems)
    problems, seen, indirect, cold = walk(program, RING_ROOT, RING_COLD, RING_SYSCALLS)
    print(f"{RING_ROOT}: {len(seen)} function(s) on the path, {indirect} indirect call(s)")
    reasons = {**COLD, **RING_COLD, **{target: why for (_, target), why in RING_SYSCALLS.items()}}
    for name in sorted(cold):
        print(f"  allowed: {name} ({reasons[name]})")
    for problem in problems:
        print(f"  FORBIDDEN: {problem}")
    failed |= bool(problems) or indirect > 0
    if indirect:
        print(f"  FORBIDDEN: {indirect} indirect call(s) on the ring's write path")
    control, _, _, _ = walk(program, CONTROL)
    if control:
        print(f"{CONTROL}: flagged as expected ({control[0]})")
    else:
        print(f"{CONTROL}: NOT flagged: the checker cannot see retains")
        failed = True
    print("hot path: FAIL" if failed else "hot path: OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
