"""The RISC-V host: the SoC contract (memory map, CPI table) shared by the RTL core, the firmware and the
model; the firmware build, its generated headers and the model's instruction-set simulator."""
