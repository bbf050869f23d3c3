"""accelsim: a CNN-accelerator simulator and hardware model.

The model (this package) is pure Python + numpy; ``accelsim.kernels`` (Numba) and ``accelsim.rtl``
(Amaranth) are separate subpackages that are imported only when used.
"""

from accelsim.errors import AccelsimError
from accelsim.layer import ConvLayer

__all__ = ["AccelsimError", "ConvLayer"]
__version__ = "0.1.0"
