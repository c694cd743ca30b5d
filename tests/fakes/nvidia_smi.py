"""Fake `nvidia-smi`: lists FAKE_NVIDIA_GPUS GPUs like the real one, or fails like a machine without a driver.

Knobs: FAKE_NVIDIA_GPUS (count, default 0 = no working driver), FAKE_NVIDIA_GPU_NAME (default
"NVIDIA GeForce RTX 3090"), FAKE_NVIDIA_DRIVER (default 550.54.14), FAKE_NVIDIA_SMI=absent (not installed).
"""

from __future__ import annotations

import hashlib

from tests.fakes import common

#: The real text (stdout) and exit code when the kernel driver is missing or not loaded.
NO_DRIVER = (
    "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
    "Make sure that the latest NVIDIA driver is installed and running.\n"
)
NO_DRIVER_EXIT = 9

CUDA_FOR_DRIVER = {"550": "12.4", "535": "12.2", "525": "12.0", "470": "11.4"}


def gpu_name() -> str:
    return common.env_str("FAKE_NVIDIA_GPU_NAME", "NVIDIA GeForce RTX 3090")


def driver_version() -> str:
    return common.env_str("FAKE_NVIDIA_DRIVER", "550.54.14")


def gpu_uuid(index: int) -> str:
    """A stable UUID in the real `GPU-8-4-4-4-12` shape, derived from the index."""
    digest = hashlib.sha1(f"fake-gpu-{index}".encode()).hexdigest()
    return f"GPU-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def list_gpus(count: int) -> str:
    """`nvidia-smi -L`: one `GPU i: NAME (UUID: GPU-...)` line per GPU."""
    return "".join(f"GPU {i}: {gpu_name()} (UUID: {gpu_uuid(i)})\n" for i in range(count))


def query(fields: list[str], fmt: str, count: int) -> str:
    """`--query-gpu=a,b --format=csv[,noheader][,nounits]` for the few fields kfinstall could ask for."""
    values = {
        "index": lambda i: str(i),
        "name": lambda i: gpu_name(),
        "uuid": lambda i: gpu_uuid(i),
        "driver_version": lambda i: driver_version(),
        "count": lambda i: str(count),
        "memory.total": lambda i: "24576 MiB",
    }
    options = fmt.split(",")
    lines = []
    if "noheader" not in options:
        unit = "" if "nounits" in options else " [MiB]"
        lines.append(", ".join(f + (unit if f == "memory.total" else "") for f in fields))
    for i in range(count):
        row = []
        for field in fields:
            if field not in values:
                return ""
            value = values[field](i)
            if "nounits" in options:
                value = value.removesuffix(" MiB")
            row.append(value)
        lines.append(", ".join(row))
    return "".join(line + "\n" for line in lines)


def table(count: int) -> str:
    """The plain `nvidia-smi` summary table (plausible, not byte-exact: no one should parse it)."""
    driver = driver_version()
    cuda = CUDA_FOR_DRIVER.get(driver.split(".")[0], "12.4")
    rule = "+-----------------------------------------------------------------------------------------+"
    lines = [
        "Thu Nov 28 12:00:00 2026       ",
        rule,
        f"| NVIDIA-SMI {driver:<23}Driver Version: {driver:<15}CUDA Version: {cuda:<9}|",
        "|-----------------------------------------+------------------------+----------------------+",
        "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |",
        "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |",
        "|                                         |                        |               MIG M. |",
        "|=========================================+========================+======================|",
    ]
    for i in range(count):
        lines += [
            f"|   {i}  {gpu_name()[:19]:<19}            Off |   00000000:0{i + 1}:00.0 Off |                  N/A |",
            "|  0%   35C    P8             20W /  350W |       1MiB /  24576MiB |      0%      Default |",
            "|                                         |                        |                  N/A |",
            "+-----------------------------------------+------------------------+----------------------+",
        ]
    lines += [
        "",
        rule,
        "| Processes:                                                                              |",
        "|  GPU   GI   CI        PID   Type   Process name                              GPU Memory |",
        "|        ID   ID                                                               Usage      |",
        "|=========================================================================================|",
        "|  No running processes found                                                             |",
        rule,
    ]
    return "\n".join(lines) + "\n"


def main(args: list[str]) -> int:
    if common.absent("nvidia-smi"):
        common.exit_as_missing("nvidia-smi")
    common.record_call("nvidia-smi", args)
    count = common.gpu_count()
    if count <= 0:
        print(NO_DRIVER, end="")
        return NO_DRIVER_EXIT
    if args in (["-L"], ["--list-gpus"]):
        print(list_gpus(count), end="")
        return 0
    query_fields = next((a.split("=", 1)[1] for a in args if a.startswith("--query-gpu=")), None)
    fmt = next((a.split("=", 1)[1] for a in args if a.startswith("--format=")), None)
    if query_fields is not None and fmt is not None and fmt.startswith("csv"):
        text = query(query_fields.split(","), fmt, count)
        if text:
            print(text, end="")
            return 0
        print(f'Field "{query_fields}" is not a valid field to query.\n')
        return 2
    if not args:
        print(table(count), end="")
        return 0
    print("Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n")
    return 2
