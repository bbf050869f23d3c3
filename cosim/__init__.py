"""accelsim.cosim: simulation assemblies around the gateware of accelsim.rtl (installed from the repo's cosim/
folder): the behavioural DRAM, the harness, the simulator runner and layer co-simulation. It imports
accelsim.rtl; accelsim.rtl never imports it."""
