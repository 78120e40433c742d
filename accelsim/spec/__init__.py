"""Device specifications and their strict loading from YAML files."""

from accelsim.spec.device import (
                                  BufferSpec,
                                  CrossbarSpec,
                                  DeviceSpec,
                                  DigitalUnitSpec,
                                  DramSpec,
                                  InterconnectSpec,
                                  SystolicSpec,
                                  TileBufferSpec,
)
from accelsim.spec.load import available_devices, device_from_dict, load_device

__all__ = ["BufferSpec", "CrossbarSpec", "DeviceSpec", "DigitalUnitSpec", "DramSpec",
           "InterconnectSpec", "SystolicSpec", "TileBufferSpec", "available_devices",
           "device_from_dict", "load_device"]
