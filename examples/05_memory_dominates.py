"""05 - Memory dominates: how much energy moves data rather than computing, digital vs CIM?

ResNet-18 on the Eyeriss-like digital accelerator and on two CIM chips. Every (component,
action) of the energy breakdown is either data movement (DRAM, global and tile buffers,
interconnect, PE register files and PE-to-PE links, writing weights) or arithmetic (MACs,
ADCs, DACs, the analog array, shift-and-add, digital ops); the clock of flip-flops (PE
registers, shift-and-add registers) and leakage are counted apart. Weights
resident in crossbars were written once, before the first image: that one-time write is
shown apart.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _common import output_dir, pj, save

import accelsim

MOVEMENT = {("dram", "read"), ("dram", "write"), ("global_buffer", "read"),
            ("global_buffer", "write"), ("interconnect", "transfer"),
            ("systolic", "register_file"), ("systolic", "pe_to_pe"), ("array", "write"),
            ("tile_buffer", "read"), ("tile_buffer", "write"), ("dram", "activate")}

out = output_dir(__doc__.splitlines()[0])
split = {}
for device in ("eyeriss-like", "cim-16x16", "cim-128x128-rram"):
    result = accelsim.simulate("resnet18", device)
    total = result.energy_pj
    moving = sum(v for key, v in result.energy_breakdown().items() if key in MOVEMENT)
    leaking = sum(v for (c, a), v in result.energy_breakdown().items() if a == "leakage")
    clocking = sum(v for (c, a), v in result.energy_breakdown().items() if a == "clock")
    computing = total - moving - leaking - clocking
    split[device] = (100 * moving / total, 100 * computing / total, 100 * clocking / total,
                     100 * leaking / total)
    by_component = result.energy_by_component()
    top = max(by_component, key=by_component.get)
    print(f"{device:17s}: {pj(total):>10s} per image; data movement {split[device][0]:5.1f} %,"
          f" arithmetic {split[device][1]:5.1f} %, clock {split[device][2]:4.1f} %, leakage "
          f"{split[device][3]:4.1f} %; "
          f"largest component {top}")
    if result.one_time_programming_pj:
        once = result.one_time_programming_pj
        print(f"{'':17s}  plus a one-time weight write of {pj(once)} before the first image "
              f"({once / total:.2f} inferences' worth)")
digital, cim = split["eyeriss-like"][0], split["cim-16x16"][0]
print(f"answer: moving data is {digital:.0f} % of the digital accelerator's energy (its MACs "
      f"and their clock are the rest); with weights resident in crossbars it falls to "
      f"{cim:.0f} %, and the ADCs become the cost to beat")

figure, ax = plt.subplots(figsize=(6.5, 4))
labels = list(split)
for index, (name, color) in enumerate((("data movement", "tab:orange"),
                                       ("arithmetic", "tab:blue"), ("clock", "tab:green"),
                                       ("leakage", "tab:grey"))):
    bottom = [sum(split[d][:index]) for d in labels]
    ax.bar(labels, [split[d][index] for d in labels], bottom=bottom, label=name, color=color)
ax.set_ylabel("share of energy (%)")
ax.set_title("ResNet-18: moving data vs computing")
ax.legend()
save(figure, out / "05_memory_dominates.png")
