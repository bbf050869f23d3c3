"""accelsim.kernels: Numba convolution kernels (installed from the repo's kernels/ folder)."""
