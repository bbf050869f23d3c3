"""The RISC-V host: the SoC contract (memory map, CPI table) shared by the RTL core, the firmware and the model."""
