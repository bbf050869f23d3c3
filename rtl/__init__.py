"""accelsim.rtl: the accelerator in Amaranth HDL (installed from the repo's rtl/ folder)."""
