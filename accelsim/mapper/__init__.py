"""The mapper (issue 11): a layer's tile sizes, tile-loop order, operand residency and buffering as a
searched :class:`LoopNest` instead of the fixed rule of accelsim.mapping; every nest lowers to a command
stream with row addresses (accelsim.mapper.program) that the model schedules exactly."""

from accelsim.mapper.nest import LoopNest, check, evaluate_nest, schedule, traffic

__all__ = ["LoopNest", "check", "evaluate_nest", "schedule", "traffic"]
