"""Bus against a 16 x 16 mesh (memory router in a corner or the centre), and DRAM presets,
for ResNet-18 on cim-16x16.

    python benchmarks/interconnect.py     # prints Markdown tables for benchmarks/RESULTS.md
"""

from __future__ import annotations

import copy

import accelsim
from accelsim._data import data_dir
from accelsim.spec.yamlfile import read_yaml
from accelsim.units import format_pj


def device(changes: dict) -> accelsim.DeviceSpec:
    data = copy.deepcopy(read_yaml(data_dir("devices") / "cim-16x16.yaml"))
    for key, value in changes.items():
        data[key] = {**data[key], **value} if key != "dram" else value
    return accelsim.device_from_dict(data, source="cim-16x16 variant")


def main() -> None:
    mesh = {"kind": "mesh", "cols": 16, "rows": 16}
    cases = [("bus (shipped)", {}),
             ("mesh, memory router (0, 0)", {"interconnect": {**mesh, "memory_router": [0, 0]}}),
             ("mesh, memory router (8, 8)", {"interconnect": {**mesh, "memory_router": [8, 8]}})]
    print("| interconnect | cycles | energy | interconnect energy | bit-hops | busiest link |")
    print("|---|---:|---:|---:|---:|---|")
    for label, changes in cases:
        r = accelsim.simulate("resnet18", device(changes))
        noc = r.noc
        busiest = (f"{noc['busiest_link']} ({100 * noc['busiest_link_utilization']:.1f} % busy)"
                   if noc else "")
        hops = f"{noc['hop_bits']:.3g}" if noc else ""
        print(f"| {label} | {r.cycles:,} | {format_pj(r.energy_pj)} | "
              f"{format_pj(r.energy_by_component().get('interconnect', 0))} | {hops} | "
              f"{busiest} |")
    print()
    print("| DRAM (64 KiB buffer) | cycles | energy | DRAM energy |")
    print("|---|---:|---:|---:|")
    for preset in ("lpddr4", "hbm2", "gddr5", "ddr3"):
        r = accelsim.simulate("resnet18", device({"dram": {"preset": preset},
                                                  "global_buffer": {"size_bytes": "64KiB"}}))
        print(f"| {preset} | {r.cycles:,} | {format_pj(r.energy_pj)} | "
              f"{format_pj(r.energy_by_component()['dram'])} |")


if __name__ == "__main__":
    main()
