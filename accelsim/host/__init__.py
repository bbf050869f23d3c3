"""The RISC-V host: the SoC contract (memory map, CPI table) that the RTL core, firmware and model share."""
