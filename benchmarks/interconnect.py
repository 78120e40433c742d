"""Bus against a 16 x 16 mesh (memory router in a corner or the centre), and DRAM presets
(DDR4 with its row buffers under an open and a closed page policy), for ResNet-18 on
cim-16x16.

    python benchmarks/interconnect.py     # prints Markdown tables for benchmarks/RESULTS.md
"""

from __future__ import annotations

from _common import shipped

import accelsim
from accelsim.units import format_pj


def device(changes: dict) -> accelsim.DeviceSpec:
    data = shipped()
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
    print("| DRAM (64 KiB buffer) | cycles | energy | DRAM energy | of which rows opened |")
    print("|---|---:|---:|---:|---:|")
    cases = [(preset, {"preset": preset}) for preset in ("lpddr4", "hbm2", "gddr5", "ddr3")]
    cases += [("ddr4, open page", {"preset": "ddr4"}),
              ("ddr4, closed page", {"preset": "ddr4", "page_policy": "closed"})]
    for label, dram in cases:
        r = accelsim.simulate("resnet18", device({"dram": dram,
                                                  "global_buffer": {"size_bytes": "64KiB"}}))
        rows = (f"{format_pj(r.energy_breakdown()[('dram', 'activate')])} "
                f"({100 * r.dram.row_hit_rate:.1f} % row hits)" if r.dram else "")
        print(f"| {label} | {r.cycles:,} | {format_pj(r.energy_pj)} | "
              f"{format_pj(r.energy_by_component()['dram'])} | {rows} |")


if __name__ == "__main__":
    main()
