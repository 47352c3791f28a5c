"""Equipment inspection rounds (设备巡检). Issue 17."""
