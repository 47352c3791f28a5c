"""The checklists Fenghuo ships, one per asset kind: what a machine-room round looks at (bilingual).

Loaded by migration 0002 and editable in the admin afterwards. Ranges are the
usual machine-room norms (GB 50174 class A rooms: 18–27 °C, 35–75 % RH at the
inlet; UPS load kept under 80 % so a module can fail over).
"""

# (key, type, en, zh, unit, min, max, required)
Check = tuple[str, str, str, str, str, float | None, float | None, bool]

LIGHTS = ("indicator_lights", "ok", "Indicator lights normal (no amber or red)", "指示灯正常(无黄灯、红灯)", "",
          None, None, True)
FANS = ("fan_noise", "ok", "Fans sound normal", "风扇声音正常", "", None, None, True)
PHOTO = ("photo", "photo", "Photo (when something looks wrong)", "照片(发现异常时拍照)", "", None, None, False)
REMARK = ("remark", "text", "Remarks", "备注", "", None, None, False)

CHECKLISTS: dict[str, tuple[str, str, list[Check]]] = {
    "server": ("Server", "服务器", [
        LIGHTS, ("disk_lights", "ok", "Disk lights normal", "硬盘指示灯正常", "", None, None, True), FANS,
        ("inlet_temperature", "number", "Inlet temperature", "进风温度", "°C", 18, 27, True), PHOTO, REMARK]),
    "storage": ("Storage", "存储", [
        LIGHTS, ("disk_lights", "ok", "Disk lights normal", "硬盘指示灯正常", "", None, None, True),
        ("controller_state", "ok", "Both controllers online", "双控制器在线", "", None, None, True), FANS, PHOTO,
        REMARK]),
    "switch": ("Switch", "交换机", [
        LIGHTS, ("port_lights", "ok", "Uplink port lights normal", "上联端口指示灯正常", "", None, None, True),
        ("power_supplies", "ok", "Both power supplies on", "双电源工作正常", "", None, None, True), PHOTO, REMARK]),
    "router": ("Router", "路由器", [
        LIGHTS, ("line_lights", "ok", "Line lights normal", "线路指示灯正常", "", None, None, True),
        ("power_supplies", "ok", "Both power supplies on", "双电源工作正常", "", None, None, True), PHOTO, REMARK]),
    "firewall": ("Firewall", "防火墙", [
        LIGHTS, ("ha_state", "ok", "HA pair in sync", "双机热备状态正常", "", None, None, True), PHOTO, REMARK]),
    "ups": ("UPS", "UPS", [
        ("ups_mode", "ok", "Running on mains, no alarm", "市电供电,无告警", "", None, None, True),
        ("ups_load", "number", "Load", "负载率", "%", 0, 80, True),
        ("battery_charge", "number", "Battery charge", "电池电量", "%", 90, 100, True), PHOTO, REMARK]),
    "air_conditioning": ("Air conditioning", "精密空调", [
        ("ac_running", "ok", "Running, no alarm", "运行正常,无告警", "", None, None, True),
        ("room_temperature", "number", "Room temperature", "机房温度", "°C", 18, 27, True),
        ("room_humidity", "number", "Relative humidity", "相对湿度", "%", 35, 75, True),
        ("water_leak", "ok", "No water under the unit", "机组下方无漏水", "", None, None, True), PHOTO, REMARK]),
    "power_distribution": ("Power distribution", "配电柜", [
        ("breakers", "ok", "Breakers in their normal positions", "断路器位置正常", "", None, None, True),
        ("phase_current", "number", "Highest phase current", "最大相电流", "A", 0, 63, True),
        ("no_smell", "ok", "No burning smell, no heat", "无焦糊味、无异常发热", "", None, None, True), PHOTO, REMARK]),
    "other": ("Other equipment", "其他设备", [LIGHTS, PHOTO, REMARK]),
}


def install(template_model, check_model) -> None:
    """Create each kind's template and checks that are not there yet (migration 0002; safe to run again)."""
    for kind, (name_en, name_zh, checks) in CHECKLISTS.items():
        template, _created = template_model.objects.get_or_create(asset_kind=kind,
                                                                  defaults={"name_en": name_en, "name_zh": name_zh})
        for position, (key, type_, en, zh, unit, low, high, required) in enumerate(checks):
            check_model.objects.get_or_create(template=template, key=key, defaults={
                "position": position, "type": type_, "label_en": en, "label_zh": zh, "unit": unit,
                "min_value": low, "max_value": high, "required": required})
