"""The asset register (设备台账): equipment, where it is, what fault it would cause. Issue 17."""
