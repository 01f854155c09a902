"""Gateway API Inference Extension integration of the core controller (reference: controller §7)."""

from airunway.controller.gateway.detector import Detector
from airunway.controller.gateway.integration import (
    GatewayIntegration,
    GatewaySettings,
    GatewayStepError,
    served_model,
)

__all__ = ["Detector", "GatewayIntegration", "GatewaySettings", "GatewayStepError", "served_model"]
