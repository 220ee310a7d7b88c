"""CEL rules: checked against declared variables when the config loads, run within a cost bound."""

from __future__ import annotations

from bot.cel.environment import CelType, Environment
from bot.cel.errors import CelError
from bot.cel.program import CelRule, Evaluation, compile_rule

__all__ = ["CelError", "CelRule", "CelType", "Environment", "Evaluation", "compile_rule"]
